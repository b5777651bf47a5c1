import Foundation
import JSONCore
import NodeServer
import TestSupport
import Testing

/// A real node process whose data dir is a small tmpfs (mounting needs root,
/// as this machine and CI run the tests; skipped elsewhere with the reason).
@Suite("Storage faults on a real node process", .serialized)
struct StorageFaultTests {
    @Test("on a full disk /health is 503 naming it and checks are denied; once space is freed the node serves again and its log opens cleanly",
          .enabled(if: ScratchMount.unavailableReason == nil, Comment(rawValue: ScratchMount.unavailableReason ?? "")))
    func fullDisk() async throws {
        let cluster = try NodeProcessCluster(nodeCount: 1)
        let dataDir = cluster.directory + "/" + cluster.node("n1").dataDir
        let disk = try ScratchMount(tmpfsBytes: 4 << 20, at: dataDir)
        defer { disk.unmount() }
        try cluster.start("n1")
        try await cluster.waitHealthy("n1")
        for _ in 0..<4 { #expect(try await cluster.check("n1", key: "k", rule: "EXACT").json?[member: "allowed"]?.bool == true) }

        // Given a disk with no block left, new keys are admitted until a
        // commit needs a block: that check is denied (on_unavailable = deny).
        try disk.fill()
        var acknowledged: [String] = []
        var deniedKey: String?
        for index in 0..<20_000 where deniedKey == nil {
            let key = "fresh-\(index)"
            let answer = try await cluster.check("n1", key: key)
            #expect(answer.status == 200, "\(answer.text)")
            if answer.json?[member: "allowed"]?.bool == true { acknowledged.append(key) } else { deniedKey = key }
        }
        let denied = try #require(deniedKey, "a commit failed on the full disk")

        let health = try await cluster.get("n1", path: "/health")
        #expect(health.status == 503)
        #expect(health.json?[member: "status"]?.string == "unavailable")
        let reason = health.json?[member: "reason"]?.string ?? ""
        #expect(reason.hasPrefix("storage fault: event log commit failed: disk full for \(dataDir)/events.sqlite"), "\(reason)")

        // The supervisor keeps the node down while the disk stays full.
        try await poll("health waits for free space", within: .seconds(20), every: .milliseconds(100)) {
            let health = try await cluster.get("n1", path: "/health")
            return health.status == 503 && health.json?[member: "reason"]?.string?.contains("free bytes before reopening") == true
        }
        let check = try await cluster.check("n1", key: "k", rule: "EXACT")
        #expect(check.status == 200)
        #expect(check.json?[member: "allowed"]?.bool == false)
        #expect(check.json?[member: "remaining"]?.int == 0)
        #expect(Int(check.header("Retry-After") ?? "").map { $0 >= 1 } == true)
        let metrics = try await cluster.get("n1", path: "/metrics").text
        #expect(metrics.contains(#"rate_limit_unavailable_decisions_total{node="n1",mode="deny"}"#))
        #expect(metrics.contains(#"rate_limit_store_available{node="n1"} 0"#))

        // When space is freed, the node reopens its log and serves again.
        try FileManager.default.removeItem(atPath: disk.path + "/filler")
        try await cluster.waitHealthy("n1", within: .seconds(20))
        let after = try await cluster.check("n1", key: "k", rule: "EXACT")
        #expect(after.json?[member: "allowed"]?.bool == true)
        #expect(after.json?[member: "remaining"]?.int == 2, "the four hits before the fault and this one")
        if let first = acknowledged.first {
            #expect(try await cluster.check("n1", key: first, hits: 0).json?[member: "remaining"]?.int == 99)
        }
        #expect(try await cluster.check("n1", key: denied, hits: 0).json?[member: "remaining"]?.int == 100,
                "the denied hit was never recorded")

        // The log opens cleanly afterwards, with every acknowledged hit.
        await cluster.stopAll()
        let events = try await cluster.run(["events", "--data-dir", cluster.node("n1").dataDir, "--key", "k"])
        #expect(events.status == 0, "\(events.output)")
        #expect(events.output.split(separator: "\n").filter { $0.hasSuffix("\tEXACT\tk\t1") }.count == 5, "\(events.output)")
        try cluster.start("n1")
        try await cluster.waitHealthy("n1")
        #expect(try await cluster.check("n1", key: "k", rule: "EXACT", hits: 0).json?[member: "remaining"]?.int == 2)
        await cluster.stopAll()
    }

    @Test("a node whose database file is corrupt starts anyway: /health 503 names the file and SQLite's error, checks follow on_unavailable = allow, the file is untouched, and a restored file is served")
    func corruptFileAtStart() async throws {
        let cluster = try NodeProcessCluster(nodeCount: 1, extraTopology: "on_unavailable = \"allow\"")
        let path = cluster.directory + "/" + cluster.node("n1").dataDir + "/events.sqlite"
        try cluster.start("n1")
        try await cluster.waitHealthy("n1")
        for _ in 0..<3 { _ = try await cluster.check("n1", key: "k", rule: "EXACT") }
        await cluster.stopAll()
        let good = try Data(contentsOf: URL(fileURLWithPath: path))
        var random = SplitMix64(seed: 11)
        // The three hits are in the WAL beside it (the node does not fold it
        // on exit); a failed open must not fold them into the broken file.
        let garbage = Data((0..<good.count).map { _ in UInt8(truncatingIfNeeded: random.next()) })
        try garbage.write(to: URL(fileURLWithPath: path))

        let process = try cluster.start("n1")
        try await poll("HTTP up with /health 503", within: .seconds(30), every: .milliseconds(50)) {
            if !process.isRunning { throw TestFailure("the node exited:\n\(process.output)") }
            return (try? await cluster.get("n1", path: "/health"))?.status == 503
        }
        let reason = try await cluster.get("n1", path: "/health").json?[member: "reason"]?.string ?? ""
        #expect(reason.hasPrefix("storage fault: cannot open the event log: \(path) is not a SQLite database"), "\(reason)")
        #expect(reason.hasSuffix("file is not a database"), "SQLite's own text: \(reason)")
        let check = try await cluster.check("n1", key: "k", rule: "EXACT")
        #expect(check.status == 200)
        #expect(check.json?[member: "allowed"]?.bool == true, "on_unavailable = allow admits")
        #expect(check.json?[member: "remaining"]?.int == 0)
        let config = try await cluster.run(["config", "check"])
        #expect(config.output.contains("  on_unavailable: allow"), "\(config.output)")
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == garbage, "the node never rewrites a file it cannot read")

        // The operator restores the file: the node reopens it within a tick.
        try good.write(to: URL(fileURLWithPath: path))
        try await cluster.waitHealthy("n1", within: .seconds(20))
        let after = try await cluster.check("n1", key: "k", rule: "EXACT", hits: 0)
        #expect(after.json?[member: "remaining"]?.int == 4, "the three hits before, none admitted while it could not record")
        #expect(process.isRunning)
        await cluster.stopAll()
    }
}
