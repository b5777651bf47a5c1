@testable import EventStore
import LimiterCore
import TestSupport
import Testing

/// The benchmarks' numbers are only worth reading if they measured the work
/// they claim; these check that work at a small size. Speeds are measured by
/// `ratelimit bench store` (scripts/bench), never asserted in a test.
@Suite("EventStoreBenchmark at a small size (correctness only, no timing)")
struct BenchmarkTests {
    /// `events` as the benchmarks make them, in order: the events they must leave in the log.
    static func requested(_ events: Int, batchSize: Int) -> [NewEvent] {
        EventStoreBenchmark.makeBatches(events: events, batchSize: batchSize).flatMap { $0 }
    }

    @Test("the append benchmark writes exactly the requested events, in order")
    func appendRate() throws {
        let dir = try TemporaryDirectory(prefix: "eventstore")
        let path = dir.file("append.sqlite")
        _ = try EventStoreBenchmark.appendRate(path: path, events: 10_000, batchSize: 500, durability: .normal)

        let log = try EventLog(path: path)
        let logged = try log.allEvents()
        #expect(logged.map(\.seq) == Array(1...10_000))
        #expect(logged.map(\.newEvent) == Self.requested(10_000, batchSize: 500))
        #expect(try log.keyCount() == 10_000)
    }

    @Test("the group-commit benchmark commits every requested event exactly once")
    func groupCommitRate() throws {
        let dir = try TemporaryDirectory(prefix: "eventstore")
        let path = dir.file("group.sqlite")
        _ = try EventStoreBenchmark.groupCommitRate(path: path, events: 2_000, submitters: 4, batchSize: 10)

        // Submitters interleave, so the log's order is theirs; the set of events is not.
        let logged = try EventLog(path: path).allEvents()
        #expect(logged.map(\.seq) == Array(1...2_000))
        #expect(logged.map(\.newEvent).sorted { $0.atMs < $1.atMs } == Self.requested(2_000, batchSize: 10))
    }

    @Test("the replay benchmark writes exactly the requested events, and its own replay check passes in both forms")
    func replayTime() throws {
        let dir = try TemporaryDirectory(prefix: "eventstore")
        // replayTime throws unless the replay streamed exactly `events` events
        // in increasing seq order with every hit: returning is the check.
        _ = try EventStoreBenchmark.replayTime(path: dir.file("replay.sqlite"), events: 10_000)
        _ = try EventStoreBenchmark.replayTime(path: dir.file("raw.sqlite"), events: 10_000, raw: true)

        for file in ["replay.sqlite", "raw.sqlite"] {
            let logged = try EventLog(path: dir.file(file)).allEvents()
            #expect(logged.map(\.newEvent) == Self.requested(10_000, batchSize: 10_000), "\(file)")
        }
    }

    @Test("the history store holds every event, a snapshot of the pruned table before the tail, and restores to the full replay")
    func historyStore() throws {
        let dir = try TemporaryDirectory(prefix: "eventstore")
        let path = dir.file("node/events.sqlite")
        let rule = Rule(name: "API", namespaceID: "1001", limit: 100, periodSeconds: 60, algorithm: .slidingWindow)
        let end: Int64 = 1_700_000_000_000
        let built = try EventStoreBenchmark.buildHistory(path: path, events: 20_000, tail: 700, rule: rule, keys: 5_000, endingAt: end)
        #expect(built.snapshotSeq == 19_300)
        #expect(built.keys == 5_000)

        let log = try EventLog(path: path)
        let events = try log.allEvents()
        #expect(events.count == 20_000)
        #expect(events.allSatisfy { $0.rule == "API" && $0.namespace == "1001" && $0.atMs < end && $0.atMs >= end - 3_600_000 })
        #expect(try log.snapshotMarks().map(\.seq) == [19_300])
        let restored = try log.restoreTable(rules: ["API": rule])
        #expect(restored.replayedEvents == 700)
        // Counters idle for two windows were pruned from the snapshot, as a node prunes them.
        #expect(built.snapshotCounters < 5_000)
        var full = LimiterTable()
        for event in events { full.apply(rule: rule, key: event.key, hits: event.hits, at: event.atMs) }
        for key in ["user:0", "user:1234", "user:4999"] {
            var a = restored.table, b = full
            #expect(a.check(rule: rule, key: key, hits: 0, now: end) == b.check(rule: rule, key: key, hits: 0, now: end))
        }
        #expect(throws: StoreError.self) {
            try EventStoreBenchmark.buildHistory(path: path, events: 10, tail: 1, rule: rule, endingAt: end)
        }
    }

    @Test("the compaction benchmark times one delete per chunk until the log is empty")
    func compactionChunks() throws {
        let dir = try TemporaryDirectory(prefix: "eventstore")
        let path = dir.file("compact.sqlite")
        let times = try EventStoreBenchmark.compactionChunkTimes(path: path, events: 2_500, chunk: 1_000)
        #expect(times.count == 3)
        let log = try EventLog(path: path)
        #expect(try log.eventCount() == 0)
        #expect(try log.lastSeq() == 2_500)
    }

    @Test("the benchmarks refuse to reuse an existing file")
    func refusesExistingFile() throws {
        let dir = try TemporaryDirectory(prefix: "eventstore")
        let path = dir.file("existing.sqlite")
        try EventLog(path: path).append([hit("a", at: 1)])

        let error = #expect(throws: StoreError.self) {
            try EventStoreBenchmark.appendRate(path: path, events: 10, batchSize: 5)
        }
        #expect(error?.code == .cannotOpen)
        #expect(try EventLog(path: path).eventCount() == 1)
    }
}
