@testable import EventStore
import Foundation
import GRDB
import TestSupport
import Testing

@Suite("EventLog: appending, replaying and querying a SQLite file")
struct EventLogTests {
    @Test("appended events replay in seq order with consecutive sequence numbers")
    func appendReplayRoundTrip() throws {
        let dir = try TemporaryDirectory(prefix: "eventstore")
        let log = try EventLog(path: dir.file("events.sqlite"))

        let first = try log.append([hit("a", at: 10), hit("b", at: 11, hits: 3)])
        let second = try log.append([hit("a", rule: "Other", at: 12), hit("c", namespace: "2002", at: 13)])

        #expect(first == 2)
        #expect(second == 4)
        #expect(try log.lastSeq() == 4)
        #expect(try log.eventCount() == 4)
        let replayed = try log.allEvents()
        #expect(replayed == [
            HitEvent(seq: 1, namespace: "1001", key: "a", rule: "API", atMs: 10, hits: 1),
            HitEvent(seq: 2, namespace: "1001", key: "b", rule: "API", atMs: 11, hits: 3),
            HitEvent(seq: 3, namespace: "1001", key: "a", rule: "Other", atMs: 12, hits: 1),
            HitEvent(seq: 4, namespace: "2002", key: "c", rule: "API", atMs: 13, hits: 1),
        ])
        #expect(try log.allEvents(after: 2).map(\.seq) == [3, 4])
        #expect(try log.allEvents(after: 4).isEmpty)
    }

    @Test("checkpoint copies committed WAL frames into the database file from its own connection")
    func checkpointCopiesFrames() throws {
        let dir = try TemporaryDirectory(prefix: "eventstore")
        let log = try EventLog(path: dir.file("events.sqlite"))
        _ = try log.append((0..<100).map { NewEvent(namespace: "ns", key: "k\($0)", rule: "r", atMs: Int64($0), hits: 1) })
        defer { try? log.close() }
        let result = try log.checkpoint()
        #expect(result.walFrames > 0)
        #expect(result.checkpointed == result.walFrames)
        // The database file alone, copied without its WAL while the log is open, holds every event.
        let copy = dir.file("copy.sqlite")
        try FileManager.default.copyItem(atPath: dir.file("events.sqlite"), toPath: copy)
        #expect(!FileManager.default.fileExists(atPath: copy + "-wal"))
        let reopened = try EventLog(path: copy)
        defer { try? reopened.close() }
        #expect(try reopened.eventCount() == 100)
    }

    @Test("a commit after a checkpoint it outran grows the WAL; after restartWAL the next commit writes it from its start")
    func restartWALStopsGrowth() throws {
        let dir = try TemporaryDirectory(prefix: "eventstore")
        let path = dir.file("events.sqlite")
        let log = try EventLog(path: path)
        let batch = { (round: Int) in (0..<300).map { hit("r\(round)-k\($0)", at: Int64(round)) } }
        try log.append(batch(1))
        // A reader's snapshot from before the next commit holds the checkpoint
        // back, as a commit made while it runs does under load.
        var configuration = Configuration()
        configuration.allowsUnsafeTransactions = true
        let reader = try DatabaseQueue(path: path, configuration: configuration)
        try reader.inDatabase { db in
            try db.execute(sql: "BEGIN DEFERRED")
            _ = try Int.fetchOne(db, sql: "SELECT count(*) FROM events")
        }
        try log.append(batch(2))
        let checkpoint = try log.checkpoint()
        #expect(checkpoint.checkpointed < checkpoint.walFrames)
        try reader.inDatabase { db in try db.execute(sql: "COMMIT") }

        let outrun = try #require(log.walFileBytes)
        try log.append(batch(3))
        let grown = try #require(log.walFileBytes)
        #expect(grown > outrun)

        // A reader still on an older snapshot holds frames back: not wholly copied.
        try reader.inDatabase { db in
            try db.execute(sql: "BEGIN DEFERRED")
            _ = try Int.fetchOne(db, sql: "SELECT count(*) FROM events")
        }
        try log.append(batch(4))
        #expect(try log.restartWAL() == false)
        try reader.inDatabase { db in try db.execute(sql: "COMMIT") }
        let held = try #require(log.walFileBytes)
        #expect(held > grown)

        #expect(try log.restartWAL())
        try log.append(batch(5))
        #expect(try #require(log.walFileBytes) == held)
        try log.append(batch(6))
        #expect(try #require(log.walFileBytes) == held)
        #expect(try log.eventCount() == 1800)
        #expect(try log.pragma("journal_size_limit") == "\(EventLog.walSizeLimit)")
    }

    @Test("the file is in WAL mode and durability sets PRAGMA synchronous on the writer")
    func walModeAndDurability() throws {
        let dir = try TemporaryDirectory(prefix: "eventstore")
        let path = dir.file("events.sqlite")
        let full = try EventLog(path: path)
        // WAL mode is persistent in the file header: bytes 18 and 19 are 2.
        let header = try #require(FileManager.default.contents(atPath: path))
        #expect(header.count >= 20)
        #expect(header[18] == 2 && header[19] == 2)
        #expect(try full.pragma("synchronous") == "2")  // FULL

        #expect(try full.pragma("wal_autocheckpoint") == "0")

        let normal = try EventLog(path: path, durability: .normal)
        #expect(try normal.pragma("synchronous") == "1")  // NORMAL
        #expect(try normal.pragma("journal_mode") == "wal")
    }

    @Test("batches of every size around the multi-row inserts of 1 to 64 rows keep seqs and fields intact")
    func chunkBoundaries() throws {
        let dir = try TemporaryDirectory(prefix: "eventstore")
        let log = try EventLog(path: dir.file("events.sqlite"))
        var expected: [HitEvent] = []
        var at: Int64 = 0
        for size in [1, 2, 3, 5, 7, 8, 9, 15, 31, 33, 63, 64, 65, 127, 128, 129, 500] {
            let batch = (0..<size).map { index -> NewEvent in
                at += 1
                return hit("k\(index % 7)", at: at, hits: index % 5 + 1)
            }
            for event in batch {
                expected.append(HitEvent(
                    seq: Int64(expected.count + 1), namespace: event.namespace, key: event.key,
                    rule: event.rule, atMs: event.atMs, hits: event.hits))
            }
            #expect(try log.append(batch) == Int64(expected.count))
        }
        #expect(try log.allEvents() == expected)
    }

    @Test("an append that fails after its first statement leaves none of its rows, and the next append commits")
    func failedAppendRollsBack() throws {
        let dir = try TemporaryDirectory(prefix: "eventstore")
        let log = try EventLog(path: dir.file("events.sqlite"))
        try log.append([hit("a", at: 1)])
        // A row at seq 4 that the log does not know of: of the next 3 events
        // (seqs 2 to 4) the 2-row insert succeeds and the 1-row insert fails.
        try log.pool.write { db in
            try db.execute(sql: "INSERT INTO events (seq, key_id, at_ms, hits) VALUES (4, 1, 0, 1)")
        }
        #expect(throws: StoreError.self) { try log.append([hit("b", at: 2), hit("c", at: 3), hit("d", at: 4)]) }
        #expect(try log.lastSeq() == 1)
        #expect(try log.allEvents().map(\.seq) == [1, 4], "the rows of the failed append's first statement are gone")

        try log.pool.write { db in try db.execute(sql: "DELETE FROM events WHERE seq = 4") }
        #expect(try log.append([hit("b", at: 2), hit("c", at: 3), hit("d", at: 4)]) == 4)
        #expect(try log.allEvents().map(\.key) == ["a", "b", "c", "d"])
    }

    @Test("appending nothing writes nothing and returns the last seq")
    func emptyAppend() throws {
        let dir = try TemporaryDirectory(prefix: "eventstore")
        let log = try EventLog(path: dir.file("events.sqlite"))
        #expect(try log.append([]) == 0)
        try log.append([hit("a", at: 1)])
        #expect(try log.append([]) == 1)
        #expect(try log.eventCount() == 1)
    }

    @Test("a known key is stored once, however many events it has")
    func keysAreInterned() throws {
        let dir = try TemporaryDirectory(prefix: "eventstore")
        let log = try EventLog(path: dir.file("events.sqlite"))
        try log.append((0..<100).map { hit("k\($0 % 3)", at: Int64($0)) })
        try log.append([hit("k0", at: 200), hit("k0", namespace: "other", at: 201)])
        #expect(try log.keyCount() == 4)
        #expect(try log.eventCount() == 102)
    }

    @Test("events(key:) returns only that key's events, optionally in one namespace")
    func eventsOfKey() throws {
        let dir = try TemporaryDirectory(prefix: "eventstore")
        let log = try EventLog(path: dir.file("events.sqlite"))
        try log.append([
            hit("user:1", at: 1),
            hit("user:2", at: 2),
            hit("user:1", namespace: "2002", at: 3),
            hit("user:1", rule: "Login", at: 4, hits: 2),
            hit("user:10", at: 5),
        ])

        #expect(try log.events(key: "user:1").map(\.seq) == [1, 3, 4])
        #expect(try log.events(namespace: "1001", key: "user:1").map(\.seq) == [1, 4])
        #expect(try log.events(namespace: "2002", key: "user:1").map(\.rule) == ["API"])
        #expect(try log.events(key: "user:1").last?.hits == 2)
        #expect(try log.events(key: "nobody").isEmpty)
    }

    @Test("replayRaw hands out every key once, then integer events naming them")
    func rawReplay() throws {
        let dir = try TemporaryDirectory(prefix: "eventstore")
        let log = try EventLog(path: dir.file("events.sqlite"))
        try log.append([hit("a", at: 1), hit("b", at: 2), hit("a", at: 3, hits: 5)])

        var keys: [Int64: EventKey] = [:]
        var events: [RawHitEvent] = []
        try log.replayRaw(after: 1, keys: { keys[$0] = $1 }, events: { events.append($0) })

        #expect(keys.count == 2)
        #expect(events.map(\.seq) == [2, 3])
        #expect(events.map { keys[$0.keyID]?.key } == ["b", "a"])
        #expect(events.last?.hits == 5)
    }

    @Test("an error thrown while replaying stops the replay and reaches the caller unchanged")
    func replayBodyError() throws {
        struct Stop: Error, Equatable {}
        let dir = try TemporaryDirectory(prefix: "eventstore")
        let log = try EventLog(path: dir.file("events.sqlite"))
        try log.append((1...10).map { hit("a", at: $0) })

        var seen = 0
        #expect(throws: Stop()) {
            try log.replay(after: 0) { event in
                seen += 1
                if event.seq == 3 { throw Stop() }
            }
        }
        #expect(seen == 3)
    }

    @Test("reopening the file keeps events, keys, snapshots and classes")
    func reopenKeepsEverything() throws {
        let dir = try TemporaryDirectory(prefix: "eventstore")
        let path = dir.file("node/events.sqlite")
        do {
            let log = try EventLog(path: path)
            try log.append([hit("a", at: 1), hit("b", at: 2)])
            try log.writeSnapshot(seq: 2, state: [1, 2, 3], at: 99)
            try log.applyMigrations([ClassMigration(tag: "v1", newClasses: ["RateLimitDO"])], at: 5)
            try log.append([hit("a", at: 3)])
            try log.close()
        }

        let reopened = try EventLog(path: path, durability: .normal)
        #expect(try reopened.lastSeq() == 3)
        #expect(try reopened.allEvents().map(\.key) == ["a", "b", "a"])
        #expect(try reopened.latestSnapshot() == Snapshot(seq: 2, takenAtMs: 99, state: [1, 2, 3]))
        #expect(try reopened.classes() == ["RateLimitDO"])

        // Known keys keep their ids after the restart; new seqs continue.
        #expect(try reopened.append([hit("b", at: 4), hit("c", at: 5)]) == 5)
        #expect(try reopened.keyCount() == 3)
        #expect(try reopened.events(key: "b").map(\.seq) == [2, 4])
    }

    @Test("a file that is not SQLite is refused with store.not_a_database naming the path")
    func corruptFile() throws {
        let dir = try TemporaryDirectory(prefix: "eventstore")
        let path = dir.file("events.sqlite")
        let garbage = Data(String(repeating: "this is not a database. ", count: 200).utf8)
        #expect(FileManager.default.createFile(atPath: path, contents: garbage))

        let error = #expect(throws: StoreError.self) { try EventLog(path: path) }
        #expect(error?.code == .notADatabase)
        #expect(error?.message.contains(path) == true)
        #expect(error?.path == path)
    }

    @Test("a path that cannot be created is refused with store.cannot_open naming the path")
    func unopenablePath() throws {
        let dir = try TemporaryDirectory(prefix: "eventstore")
        let blocker = dir.file("file")
        #expect(FileManager.default.createFile(atPath: blocker, contents: Data("x".utf8)))
        let path = blocker + "/events.sqlite"  // a directory that is a file

        let error = #expect(throws: StoreError.self) { try EventLog(path: path) }
        #expect(error?.code == .cannotOpen)
        #expect(error?.message.contains(path) == true)
    }
}
