import EventStore
import Testing

@Suite("SnapshotPolicy: when to snapshot, what compaction may delete")
struct SnapshotPolicyTests {
    static let t0: Int64 = 1_700_000_000_000

    static func settings(everyEvents: Int64 = 1_000, intervalMs: Int64 = 30_000, kept: Int = 2) -> SnapshotPolicy.Settings {
        var settings = SnapshotPolicy.Settings()
        settings.everyEvents = everyEvents
        settings.intervalMs = intervalMs
        settings.keptSnapshots = kept
        return settings
    }

    @Test("the defaults: every 100,000 events or 30 s, two snapshots kept, deletes of 10,000 rows")
    func defaults() {
        let settings = SnapshotPolicy.Settings()
        #expect(settings.everyEvents == 100_000)
        #expect(settings.intervalMs == 30_000)
        #expect(settings.keptSnapshots == 2)
        #expect(settings.compactionChunk == 10_000)
        #expect(settings.problem == nil)
    }

    @Test("a snapshot is due once N events were appended since the last one, not before")
    func dueAfterEvents() {
        let policy = SnapshotPolicy(settings: Self.settings(), latest: .init(seq: 5_000, atMs: Self.t0), now: Self.t0)
        #expect(policy.onTick(lastSeq: 5_999, now: Self.t0 + 1_000) == .wait)
        #expect(policy.onTick(lastSeq: 6_000, now: Self.t0 + 1_000) == .snapshot(events: 1_000, elapsedMs: 1_000))
        #expect(policy.onTick(lastSeq: 9_000, now: Self.t0 + 1_000) == .snapshot(events: 4_000, elapsedMs: 1_000))
    }

    @Test("a snapshot is due once T passed, even with nothing appended")
    func dueAfterInterval() {
        let policy = SnapshotPolicy(settings: Self.settings(), latest: .init(seq: 7, atMs: Self.t0), now: Self.t0 + 5)
        #expect(policy.onTick(lastSeq: 7, now: Self.t0 + 29_999) == .wait)
        #expect(policy.onTick(lastSeq: 7, now: Self.t0 + 30_000) == .snapshot(events: 0, elapsedMs: 30_000))
    }

    @Test("before the first snapshot, the interval counts from the policy's start and events from seq 0")
    func firstSnapshot() {
        let policy = SnapshotPolicy(settings: Self.settings(), latest: nil, now: Self.t0)
        #expect(policy.last == nil)
        #expect(policy.onTick(lastSeq: 999, now: Self.t0 + 29_999) == .wait)
        #expect(policy.onTick(lastSeq: 1_000, now: Self.t0 + 1) == .snapshot(events: 1_000, elapsedMs: 1))
        #expect(policy.onTick(lastSeq: 0, now: Self.t0 + 30_000) == .snapshot(events: 0, elapsedMs: 30_000))
    }

    @Test("a written snapshot restarts both counts from its seq and time")
    func writtenSnapshotResets() {
        var policy = SnapshotPolicy(settings: Self.settings(), latest: nil, now: Self.t0)
        _ = policy.onSnapshotWritten(seq: 1_200, at: Self.t0 + 10_000, keptSnapshotSeqs: [1_200], replayHorizonMs: 0)
        #expect(policy.last == .init(seq: 1_200, atMs: Self.t0 + 10_000))
        #expect(policy.onTick(lastSeq: 2_199, now: Self.t0 + 39_999) == .wait)
        #expect(policy.onTick(lastSeq: 2_200, now: Self.t0 + 10_001) == .snapshot(events: 1_000, elapsedMs: 1))
        #expect(policy.onTick(lastSeq: 1_200, now: Self.t0 + 40_000) == .snapshot(events: 0, elapsedMs: 30_000))
    }

    @Test("after a failed snapshot the next attempt waits a whole interval, however many events arrive")
    func failureBacksOff() {
        var policy = SnapshotPolicy(settings: Self.settings(), latest: .init(seq: 0, atMs: Self.t0), now: Self.t0)
        #expect(policy.onTick(lastSeq: 1_000, now: Self.t0 + 100) != .wait)
        policy.onSnapshotFailed(now: Self.t0 + 100)
        #expect(policy.onTick(lastSeq: 50_000, now: Self.t0 + 30_099) == .wait)
        #expect(policy.onTick(lastSeq: 50_000, now: Self.t0 + 30_100) == .snapshot(events: 50_000, elapsedMs: 30_100))
        _ = policy.onSnapshotWritten(seq: 50_000, at: Self.t0 + 30_100, keptSnapshotSeqs: [50_000], replayHorizonMs: 0)
        #expect(policy.retryAtMs == nil)
        #expect(policy.onTick(lastSeq: 51_000, now: Self.t0 + 30_101) != .wait)
    }

    @Test("compaction may delete only up to the oldest kept snapshot and before now minus the replay horizon")
    func compactionBound() {
        var policy = SnapshotPolicy(settings: Self.settings(), latest: nil, now: Self.t0)
        let bound = policy.onSnapshotWritten(seq: 9_000, at: Self.t0 + 500, keptSnapshotSeqs: [9_000, 4_000],
                                             replayHorizonMs: 120_000)
        #expect(bound == .init(throughSeq: 4_000, olderThanMs: Self.t0 + 500 - 120_000))
        #expect(SnapshotPolicy.compactionBound(keptSnapshotSeqs: [3, 9, 6], replayHorizonMs: 0, now: 77)
            == .init(throughSeq: 3, olderThanMs: 77))
    }

    @Test("without a kept snapshot nothing may be deleted; a huge horizon clamps instead of overflowing")
    func compactionEdges() {
        #expect(SnapshotPolicy.compactionBound(keptSnapshotSeqs: [], replayHorizonMs: 1, now: Self.t0) == nil)
        #expect(SnapshotPolicy.compactionBound(keptSnapshotSeqs: [1], replayHorizonMs: .max, now: -10)?.olderThanMs == .min)
        #expect(SnapshotPolicy.compactionBound(keptSnapshotSeqs: [1], replayHorizonMs: -5, now: 10)?.olderThanMs == 10)
    }

    @Test("settings outside their ranges are named")
    func settingProblems() {
        var settings = SnapshotPolicy.Settings()
        settings.everyEvents = 0
        #expect(settings.problem?.hasPrefix("everyEvents") == true)
        settings = SnapshotPolicy.Settings()
        settings.intervalMs = 0
        #expect(settings.problem?.hasPrefix("intervalMs") == true)
        settings = SnapshotPolicy.Settings()
        settings.keptSnapshots = 0
        #expect(settings.problem?.hasPrefix("keptSnapshots") == true)
        settings = SnapshotPolicy.Settings()
        settings.compactionChunk = 0
        #expect(settings.problem?.hasPrefix("compactionChunk") == true)
    }
}
