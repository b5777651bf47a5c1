@testable import EventStore
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
