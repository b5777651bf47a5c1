import Config
import EventStore
import Foundation
import JSONCore
import LimiterCore
@testable import NodeServer
import TestSupport
import Testing

/// Storage faults on real files (DESIGN §5, §6): the engine never crashes,
/// `/health` is 503 with the reason, checks follow `on_unavailable`, and the
/// store supervisor brings the node back with exactly the durable counts.
///
/// The faults are real: a tmpfs filled to the last block, a directory bound
/// read-only over itself (root ignores permission bits and `chmod`), a file
/// of random bytes, a WAL removed under the open log. Mounting needs root,
/// as this machine and CI run the tests; elsewhere those tests are skipped
/// with ``ScratchMount/unavailableReason``. A directory cannot be made
/// read-only under a running node: Linux refuses (EBUSY) to remount a
/// filesystem read-only while a file on it is open for writing, and a bind
/// mount does not affect descriptors opened before it, so the read-only
/// case is a node whose store must be (re)opened there.
@Suite("Storage faults: on_unavailable answers, 503 health, recovery with durable counts", .serialized)
struct StoreFaultTests {
    static let canMount = ScratchMount.unavailableReason == nil
    static let mountComment = Comment(rawValue: ScratchMount.unavailableReason ?? "")

    let directory: TemporaryDirectory

    init() throws {
        directory = try TemporaryDirectory(prefix: "store-faults")
    }

    @Test("a full disk: the failed commit is answered by on_unavailable, health names the disk, freed space brings back the durable counts",
          .enabled(if: canMount, mountComment), arguments: [UnavailableMode.deny, .allow])
    func diskFull(mode: UnavailableMode) async throws {
        let disk = try ScratchMount(tmpfsBytes: 2 << 20)
        let node = StoreFaultFixture(path: disk.path + "/events.sqlite", mode: mode)
        defer { node.close(); disk.unmount() }
        for _ in 0..<5 { #expect(try await node.fastCheck("k").decision.allowed) }

        // Given a disk with no block left, when checks keep admitting new
        // keys, then one commit fails: its hit is answered by the policy.
        try disk.fill()
        // The maintenance checkpoint (every second in a node) lets the next
        // commits reuse the WAL's blocks, until they need a new one.
        try #require(node.engine.log).checkpoint()
        var acknowledged: [String] = []
        var failedKey: String?
        for index in 0..<20_000 where failedKey == nil {
            let key = "fresh-\(index)"
            let answer = try await node.fastCheck(key)
            if answer.decision.allowed && answer.decision.remaining == 999 {
                acknowledged.append(key)
            } else {
                failedKey = key
                #expect(answer.decision.allowed == (mode == .allow), "a failed commit is answered as \(mode)")
                #expect(answer.decision.remaining == 0)
            }
        }
        let failed = try #require(failedKey, "a commit failed on the full disk")
        #expect(node.engine.fault?.code == "store.disk_full")

        let health = try await node.health()
        #expect(health.status == .serviceUnavailable)
        #expect(health.json?[member: "status"] == .string("unavailable"))
        let reason = try #require(health.json?[member: "reason"].flatMap { if case .string(let text) = $0 { text } else { nil } })
        #expect(reason.hasPrefix("storage fault: event log commit failed: disk full for \(node.path)"), "\(reason)")
        #expect(reason.contains("database or disk is full"), "SQLite's own text: \(reason)")

        // Every check now follows the mode, on both routes, and nothing is recorded.
        let general = try await node.check("k")
        #expect(general.status == .ok)
        #expect(general.json?[member: "allowed"] == .bool(mode == .allow))
        #expect((general.header("Retry-After") != nil) == (mode == .deny))
        if mode == .deny { #expect(Int(general.header("Retry-After") ?? "") ?? 0 >= 1) }
        #expect(try await node.fastCheck("k", hits: 1001).decision.allowed == false, "above the limit in any mode")
        let batch = try await node.respond(.POST, "/v1/check/batch", body: #"{"checks":[{"key":"k","rule":"API"},{"key":"b","rule":"API"}]}"#)
        guard case .array(let results)? = batch.json?[member: "results"] else { Issue.record("no batch results"); return }
        #expect(results.map { $0[member: "allowed"] } == [.bool(mode == .allow), .bool(mode == .allow)])
        #expect((node.unavailableDecisions(mode) ?? 0) >= 5, "the failed commit, the three checks and the batch's two")

        // The supervisor retires the log, then waits for free space.
        #expect(node.supervisor.tick() == .retired(try #require(node.engine.fault)))
        let afterRetire = node.supervisor.tick()
        guard case .stillFailing(let waiting) = afterRetire else { Issue.record("the disk is still full: \(afterRetire)"); return }
        #expect(waiting.reason.contains("free bytes before reopening"), "\(waiting.reason)")
        #expect(node.supervisor.tick() == .stillFailing(waiting), "nothing changes while the disk stays full")
        #expect(try await node.health().status == .serviceUnavailable)

        // When space is freed, the next tick reopens and serves what is durable.
        try FileManager.default.removeItem(atPath: disk.path + "/filler")
        #expect(node.supervisor.tick() == .recovered)
        #expect(try await node.health().status == .ok)
        #expect(try await node.remaining("k") == 995, "the five committed hits")
        for key in acknowledged.prefix(20) { #expect(try await node.remaining(key) == 999, "\(key) was acknowledged") }
        #expect(try await node.remaining(failed) == 1000, "the hit whose commit failed is gone from memory too")
        #expect(try await node.fastCheck("k").decision.remaining == 994)
        #expect(node.supervisor.tick() == .serving)

        let log = try #require(node.engine.log)
        #expect(try log.events(key: failed).isEmpty)
        #expect(try log.eventCount() == 5 + acknowledged.count + 1)
        #expect(await node.logs.waitFor("event log recovered") != nil)
    }

    @Test("a read-only data directory: the node answers by on_unavailable naming the file, and serves the old counts once writable",
          .enabled(if: canMount, mountComment))
    func readOnlyDirectory() async throws {
        let dataDir = directory.file("data")
        let path = dataDir + "/events.sqlite"
        do {
            let node = StoreFaultFixture(path: path)
            for _ in 0..<3 { _ = try await node.fastCheck("k") }
            node.close()
        }
        let readOnly = try ScratchMount(readOnlyBindOf: dataDir)
        defer { readOnly.unmount() }
        let node = StoreFaultFixture(path: path)
        defer { node.close() }
        let first = node.supervisor.tick()
        guard case .stillFailing(let fault) = first else {
            Issue.record("opened a read-only directory: \(first)")
            return
        }
        #expect(fault.detail.contains(path), "\(fault.detail)")
        #expect(["store.cannot_open", "store.read_only"].contains(fault.code), "\(fault)")
        let health = try await node.health()
        #expect(health.status == .serviceUnavailable)
        #expect(health.json?[member: "reason"] == .string("storage fault: \(fault.reason)"))
        #expect(try await node.fastCheck("k").decision.allowed == false)
        #expect(node.supervisor.tick() == .stillFailing(fault), "the same reason while nothing changed")

        readOnly.unmount()
        #expect(node.supervisor.tick() == .recovered)
        #expect(try await node.remaining("k") == 997)
        #expect(try await node.fastCheck("k").decision.allowed)
    }

    @Test("a corrupted database file: the reason names it and SQLite's error, the file is never changed, a restored file is served")
    func corruptedFile() async throws {
        let path = directory.file("events.sqlite")
        do {
            let node = StoreFaultFixture(path: path)
            for _ in 0..<4 { _ = try await node.fastCheck("k") }
            node.close()
        }
        // The node's commits are still in the WAL beside it, which a failed
        // open must not fold into the broken file.
        let good = try Data(contentsOf: URL(fileURLWithPath: path))
        var random = SplitMix64(seed: 8)
        let garbage = Data((0..<16_384).map { _ in UInt8(truncatingIfNeeded: random.next()) })
        try garbage.write(to: URL(fileURLWithPath: path))

        let node = StoreFaultFixture(path: path)
        defer { node.close() }
        #expect(node.engine.fault?.code == "store.not_a_database")
        for _ in 0..<3 {
            guard case .stillFailing(let fault) = node.supervisor.tick() else { Issue.record("opened garbage"); return }
            #expect(fault.code == "store.not_a_database")
            #expect(fault.detail.contains("\(path) is not a SQLite database"), "\(fault.detail)")
            #expect(fault.detail.contains("file is not a database"), "SQLite's text: \(fault.detail)")
        }
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == garbage, "never deleted or rewritten")
        let health = try await node.health()
        #expect(health.status == .serviceUnavailable)
        #expect(try await node.check("k").json?[member: "allowed"] == .bool(false))

        // The operator puts the good file back.
        try good.write(to: URL(fileURLWithPath: path))
        #expect(node.supervisor.tick() == .recovered)
        #expect(try await node.health().status == .ok)
        #expect(try await node.remaining("k") == 996)
    }

    @Test("a WAL removed under the running node: detected, its frames reach the database, every acknowledged hit survives the reopen")
    func removedWAL() async throws {
        let path = directory.file("events.sqlite")
        let node = StoreFaultFixture(path: path)
        defer { node.close() }
        for _ in 0..<6 { #expect(try await node.fastCheck("k").decision.allowed) }
        let wal = try #require(node.engine.log?.walPath)
        try FileManager.default.removeItem(atPath: wal)
        // Until the next tick SQLite appends to the WAL it holds open: these
        // hits are acknowledged, so they must survive too.
        for _ in 0..<2 { #expect(try await node.fastCheck("k").decision.allowed) }

        guard case .detected(let fault) = node.supervisor.tick() else { Issue.record("the removed WAL went unnoticed"); return }
        #expect(fault.code == "store.wal_missing")
        #expect(fault.detail.contains("the write-ahead log \(wal) was removed"), "\(fault.detail)")
        #expect(try await node.health().json?[member: "reason"] == .string("storage fault: \(fault.reason)"))
        #expect(try await node.fastCheck("k").decision.allowed == false)

        #expect(node.supervisor.tick() == .retired(fault))
        #expect(node.supervisor.tick() == .recovered)
        #expect(node.supervisor.tick() == .serving, "the new WAL is the one the reopened log holds")
        #expect(try await node.remaining("k") == 992, "all eight acknowledged hits")
        try node.engine.close()
        let reader = try EventLog(path: path, durability: .normal)
        #expect(try reader.events(key: "k").count == 8)
        try reader.close()
    }

    @Test("only a closed engine takes a log, and the refusal names the state")
    func installNeedsClosed() throws {
        let node = StoreFaultFixture(path: directory.file("events.sqlite"))
        defer { node.close() }
        let other = try EventLog(path: directory.file("other.sqlite"), durability: .normal)
        defer { try? other.close() }
        let error = #expect(throws: NodeError.self) { try node.engine.install(other, rules: StoreFaultFixture.rules) }
        #expect(error?.code == "store_not_closed")
        #expect(error?.message.contains("still serves from \(node.path)") == true)
        node.engine.markFailed(StoreFault(code: "test", detail: "failed by the test"))
        let failed = #expect(throws: NodeError.self) { try node.engine.install(other, rules: StoreFaultFixture.rules) }
        #expect(failed?.message.contains("not retired yet (failed by the test)") == true)
    }
}
