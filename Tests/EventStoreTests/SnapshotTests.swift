import EventStore
import TestSupport
import Testing

@Suite("EventLog snapshots and compaction")
struct SnapshotTests {
    @Test("restart state is the latest snapshot plus the events after it")
    func snapshotPlusTail() throws {
        let dir = try TemporaryDirectory(prefix: "eventstore")
        let log = try EventLog(path: dir.file("events.sqlite"))
        #expect(try log.latestSnapshot() == nil)

        try log.append((1...10).map { hit("k", at: $0) })
        try log.writeSnapshot(seq: 7, state: [7, 7], at: 1_000)
        try log.append((11...15).map { hit("k", at: $0) })

        let snapshot = try #require(try log.latestSnapshot())
        #expect(snapshot == Snapshot(seq: 7, takenAtMs: 1_000, state: [7, 7]))
        #expect(try log.allEvents(after: snapshot.seq).map(\.seq) == Array(8...15))
    }

    @Test("only the last two snapshots are kept, newest first")
    func keepsTwoSnapshots() throws {
        let dir = try TemporaryDirectory(prefix: "eventstore")
        let log = try EventLog(path: dir.file("events.sqlite"))
        try log.append((1...30).map { hit("k", at: $0) })
        for seq in [10, 20, 30] as [Int64] {
            try log.writeSnapshot(seq: seq, state: [UInt8(seq)], at: seq * 100)
        }

        #expect(try log.snapshots().map(\.seq) == [30, 20])
        #expect(try log.latestSnapshot()?.state == [30])
    }

    @Test("a snapshot beyond the log or older than the latest one is refused")
    func snapshotOrdering() throws {
        let dir = try TemporaryDirectory(prefix: "eventstore")
        let log = try EventLog(path: dir.file("events.sqlite"))
        try log.append((1...5).map { hit("k", at: $0) })
        try log.writeSnapshot(seq: 4, state: [], at: 0)

        let beyond = #expect(throws: StoreError.self) { try log.writeSnapshot(seq: 6, state: [], at: 0) }
        #expect(beyond?.code == .invalidSnapshot)
        let older = #expect(throws: StoreError.self) { try log.writeSnapshot(seq: 3, state: [], at: 0) }
        #expect(older?.code == .invalidSnapshot)
        #expect(older?.message.contains(log.path) == true)
        #expect(try log.latestSnapshot()?.seq == 4)
    }

    @Test("compaction deletes covered events and sequence numbers are never reused")
    func compaction() throws {
        let dir = try TemporaryDirectory(prefix: "eventstore")
        let log = try EventLog(path: dir.file("events.sqlite"))
        try log.append((1...10).map { hit("k", at: $0) })
        try log.writeSnapshot(seq: 10, state: [1], at: 0)

        #expect(try log.compact(before: 10) == 10)
        #expect(try log.eventCount() == 0)
        #expect(try log.lastSeq() == 10)
        #expect(try log.append([hit("k", at: 11)]) == 11)
        #expect(try log.allEvents(after: 10).map(\.seq) == [11])
    }

    @Test("compaction beyond the latest snapshot is refused, so no admitted hit is lost")
    func uncoveredCompaction() throws {
        let dir = try TemporaryDirectory(prefix: "eventstore")
        let log = try EventLog(path: dir.file("events.sqlite"))
        try log.append((1...10).map { hit("k", at: $0) })

        let none = #expect(throws: StoreError.self) { try log.compact(before: 1) }
        #expect(none?.code == .uncoveredCompaction)

        try log.writeSnapshot(seq: 5, state: [], at: 0)
        let beyond = #expect(throws: StoreError.self) { try log.compact(before: 6) }
        #expect(beyond?.code == .uncoveredCompaction)
        #expect(try log.eventCount() == 10)

        #expect(try log.compact(before: 3) == 3)
        #expect(try log.allEvents().map(\.seq) == Array(4...10))
    }
}
