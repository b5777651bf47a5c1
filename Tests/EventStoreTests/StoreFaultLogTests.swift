import EventStore
import Foundation
import TestSupport
import Testing

/// The event log under storage faults, on real files: the error codes and
/// messages a node reports, and what the store supervisor relies on (a
/// removed WAL is noticed and its frames are kept; a file that is not a
/// database is left alone; a closed log refuses writes).
@Suite("The event log under storage faults")
struct StoreFaultLogTests {
    let directory: TemporaryDirectory

    init() throws {
        directory = try TemporaryDirectory(prefix: "log-faults")
    }

    @Test("a full disk fails an append with store.disk_full naming the file, stores none of it, and appends again once space is freed",
          .enabled(if: ScratchMount.unavailableReason == nil, Comment(rawValue: ScratchMount.unavailableReason ?? "")))
    func diskFull() throws {
        let disk = try ScratchMount(tmpfsBytes: 1 << 20)
        defer { disk.unmount() }
        let path = disk.path + "/events.sqlite"
        let log = try EventLog(path: path, durability: .normal)
        defer { try? log.close() }
        try log.append([hit("k", at: 1)])
        try disk.fill()

        var failure: StoreError?
        var committed = 1
        for index in 0..<20_000 where failure == nil {
            do throws(StoreError) {
                try log.append([hit("fresh-\(index)", at: 2)])
                committed += 1
            } catch {
                failure = error
            }
        }
        let error = try #require(failure, "an append failed on the full disk")
        #expect(error.code == .diskFull)
        #expect(error.message.hasPrefix("disk full for \(path) while appending 1 events: "), "\(error.message)")
        #expect(error.path == path)
        #expect(try log.lastSeq() == Int64(committed), "the failed append left nothing")

        try FileManager.default.removeItem(atPath: disk.path + "/filler")
        try log.append([hit("k", at: 3)])
        #expect(try log.eventCount() == committed + 1)
    }

    @Test("a removed WAL is noticed, and folding it through the open log keeps every commit made after the removal")
    func removedWAL() throws {
        let path = directory.file("events.sqlite")
        let log = try EventLog(path: path, durability: .normal)
        try log.checkWAL()
        try log.append((0..<10).map { hit("k", at: Int64($0)) })
        try FileManager.default.removeItem(atPath: log.walPath)
        let error = #expect(throws: StoreError.self) { try log.checkWAL() }
        #expect(error?.code == .walMissing)
        #expect(error?.message == "the write-ahead log \(log.walPath) was removed while the event log was open")
        // SQLite goes on appending to the WAL it holds open.
        try log.append((10..<15).map { hit("k", at: Int64($0)) })
        try log.foldWAL()
        try log.close()

        let reopened = try EventLog(path: path, durability: .normal)
        defer { try? reopened.close() }
        try reopened.checkWAL()
        #expect(try reopened.events(key: "k").map(\.atMs) == Array(0..<15))
    }

    @Test("another file at the WAL's path is noticed as a replacement")
    func replacedWAL() throws {
        let log = try EventLog(path: directory.file("events.sqlite"), durability: .normal)
        defer { try? log.close() }
        try FileManager.default.removeItem(atPath: log.walPath)
        try Data().write(to: URL(fileURLWithPath: log.walPath))
        let error = #expect(throws: StoreError.self) { try log.checkWAL() }
        #expect(error?.code == .walMissing)
        #expect(error?.message.contains("was replaced by another file") == true)
    }

    @Test("random bytes over the database fail to open with store.not_a_database and SQLite's text; the file and its WAL stay byte for byte")
    func notADatabase() throws {
        let path = directory.file("events.sqlite")
        let log = try EventLog(path: path, durability: .normal)
        try log.append([hit("k", at: 1)])
        // A read opens one of GRDB's read-only readers, which it closes last,
        // so the commit stays in the WAL: a read-write open would fold it into
        // the broken file.
        _ = try log.eventCount()
        try log.close()
        let wal = try Data(contentsOf: URL(fileURLWithPath: path + "-wal"))
        #expect(!wal.isEmpty)
        var random = SplitMix64(seed: 3)
        let garbage = Data((0..<8192).map { _ in UInt8(truncatingIfNeeded: random.next()) })
        try garbage.write(to: URL(fileURLWithPath: path))
        for _ in 0..<2 {
            let error = #expect(throws: StoreError.self) { try EventLog(path: path, durability: .normal) }
            #expect(error?.code == .notADatabase)
            #expect(error?.message == "\(path) is not a SQLite database while opening the event log: file is not a database",
                    "\(String(describing: error))")
        }
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == garbage)
        #expect(try Data(contentsOf: URL(fileURLWithPath: path + "-wal")) == wal)
    }

    @Test("a closed log refuses writes with store.closed naming the file")
    func closedRefuses() throws {
        let path = directory.file("events.sqlite")
        let log = try EventLog(path: path, durability: .normal)
        try log.append([hit("k", at: 1)])
        try log.close()
        let error = #expect(throws: StoreError.self) { try log.append([hit("k", at: 2)]) }
        #expect(error?.code == .closed)
        #expect(error?.message.contains("the event log \(path) is closed") == true)
        #expect(throws: StoreError.self) { try log.probeWrite(at: 3) }
        #expect(throws: StoreError.self) { try log.checkpoint() }
        try log.close()
    }

    @Test("probeWrite folds the WAL into the database file and records when the store last proved writable")
    func probe() throws {
        let path = directory.file("events.sqlite")
        let log = try EventLog(path: path, durability: .normal)
        defer { try? log.close() }
        try log.append([hit("k", at: 1)])
        try log.probeWrite(at: 1_234)
        let saved = try #require(try log.loadState("store_probe"))
        #expect(saved.reduce(0) { $0 << 8 | Int64($1) } == 1_234)

        // The database file alone, copied without its WAL, holds the event.
        let copy = directory.file("copy.sqlite")
        try FileManager.default.copyItem(atPath: path, toPath: copy)
        let reader = try EventLog(path: copy, durability: .normal)
        defer { try? reader.close() }
        #expect(try reader.events(key: "k").count == 1)
    }
}
