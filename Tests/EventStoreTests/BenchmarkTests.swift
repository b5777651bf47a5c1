import EventStore
import TestSupport
import Testing

@Suite("EventStoreBenchmark at a small size (correctness only, no timing)")
struct BenchmarkTests {
    @Test("the append benchmark writes exactly the requested events")
    func appendRate() throws {
        let dir = try TemporaryDirectory(prefix: "eventstore")
        let path = dir.file("append.sqlite")
        let rate = try EventStoreBenchmark.appendRate(path: path, events: 10_000, batchSize: 500, durability: .normal)
        #expect(rate > 0)

        let log = try EventLog(path: path)
        #expect(try log.eventCount() == 10_000)
        #expect(try log.lastSeq() == 10_000)
        #expect(try log.keyCount() == 10_000)
    }

    @Test("the group-commit benchmark commits every event")
    func groupCommitRate() throws {
        let dir = try TemporaryDirectory(prefix: "eventstore")
        let path = dir.file("group.sqlite")
        #expect(try EventStoreBenchmark.groupCommitRate(path: path, events: 2_000, submitters: 4, batchSize: 10) > 0)
        #expect(try EventLog(path: path).eventCount() == 2_000)
    }

    @Test("the replay benchmark replays every event in both forms")
    func replayTime() throws {
        let dir = try TemporaryDirectory(prefix: "eventstore")
        let hitEvents = try EventStoreBenchmark.replayTime(path: dir.file("replay.sqlite"), events: 10_000)
        let raw = try EventStoreBenchmark.replayTime(path: dir.file("raw.sqlite"), events: 10_000, raw: true)
        #expect(hitEvents > .zero)
        #expect(raw > .zero)
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
