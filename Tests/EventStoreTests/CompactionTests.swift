@testable import EventStore
import GRDB
import LimiterCore
import TestSupport
import Testing

@Suite("Bounded log: snapshots every N events or T, compaction behind the oldest snapshot and the longest window")
struct CompactionTests {
    static let t0: Int64 = 1_700_000_000_000

    /// One rule per algorithm, one-second windows (sliding_window's horizon is 2 s).
    static let allAlgorithms: [String: Rule] = [
        "FW": Rule(name: "FW", namespaceID: "1", limit: 20, periodSeconds: 1, algorithm: .fixedWindow),
        "SW": Rule(name: "SW", namespaceID: "2", limit: 20, periodSeconds: 1, algorithm: .slidingWindow),
        "SL": Rule(name: "SL", namespaceID: "3", limit: 20, periodSeconds: 1, algorithm: .slidingLog),
        "TB": Rule(name: "TB", namespaceID: "4", limit: 20, periodSeconds: 1, algorithm: .tokenBucket, burst: 10),
        "GC": Rule(name: "GC", namespaceID: "5", limit: 20, periodSeconds: 1, algorithm: .gcra, burst: 10),
    ]

    /// The window algorithms, for which a rebuild from events alone is exact.
    static let windowAlgorithms: [String: Rule] = [
        "FW": Rule(name: "FW", namespaceID: "1", limit: 6, periodSeconds: 2, algorithm: .fixedWindow),
        "SW": Rule(name: "SW", namespaceID: "2", limit: 6, periodSeconds: 3, algorithm: .slidingWindow),
        "SL": Rule(name: "SL", namespaceID: "3", limit: 6, periodSeconds: 4, algorithm: .slidingLog),
    ]

    static func settings(everyEvents: Int64, intervalMs: Int64, kept: Int = 2, chunk: Int = 64) -> SnapshotPolicy.Settings {
        var settings = SnapshotPolicy.Settings()
        settings.everyEvents = everyEvents
        settings.intervalMs = intervalMs
        settings.keptSnapshots = kept
        settings.compactionChunk = chunk
        return settings
    }

    /// Runs `checks` random checks on `store` at the current time.
    static func traffic(_ store: inout LiveStore, checks: Int, keys: Int, rng: inout SplitMix64) throws {
        let names = store.rules.keys.sorted()
        for _ in 0..<checks {
            try store.check(rng.pick(names), "k\(rng.below(keys))", hits: 1 + rng.below(3))
        }
    }

    @Test("under a steady stream the row count stays within the policy's bound, and a reopened log decides as the live table")
    func steadyStreamStaysBounded() throws {
        let dir = try TemporaryDirectory(prefix: "compaction")
        let path = dir.file("events.sqlite")
        let settings = Self.settings(everyEvents: 300, intervalMs: 1_000)
        var store = try LiveStore(log: try EventLog(path: path, durability: .normal), rules: Self.allAlgorithms,
                                  settings: settings, now: Self.t0)
        var rng = SplitMix64(seed: 8)
        let tickMs: Int64 = 100
        let perTick = 40  // checks per tick, so at most 40 events per tick

        // Events between two snapshots: under N until the tick that reaches it, plus that tick's.
        let betweenSnapshots = Int(settings.everyEvents) - 1 + perTick
        let sinceOldestKept = (settings.keptSnapshots - 1) * betweenSnapshots
        let insideHorizon = perTick * Int(store.horizonMs / tickMs + 1)
        let bound = max(sinceOldestKept, insideHorizon) + betweenSnapshots
        #expect(store.horizonMs == 2_000)

        var largest = 0
        for _ in 0..<1_000 {
            store.now += tickMs
            try Self.traffic(&store, checks: perTick, keys: 20, rng: &rng)
            try store.tick()
            let rows = try store.log.eventCount()
            #expect(try store.log.storedEventCount() == rows)
            #expect(rows <= bound, "at \(store.now - Self.t0) ms: \(rows) rows, bound \(bound)")
            largest = max(largest, rows)
        }
        let total = Int(try store.log.lastSeq())
        #expect(total > 20 * bound, "the stream must outgrow the bound many times: \(total) events")
        #expect(store.deleted > total - bound)
        #expect(largest > settings.everyEvents, "compaction kept what the policy needs, it did not empty the log")

        // A tail after the last snapshot, then a restart.
        store.now += 37
        try Self.traffic(&store, checks: 25, keys: 20, rng: &rng)
        try store.log.close()
        let reopened = try EventLog(path: path, durability: .normal)
        let restored = try reopened.restoreTable(rules: Self.allAlgorithms)
        let snapshot = try #require(restored.snapshot)
        #expect(restored.unreadableSnapshots.isEmpty)
        #expect(restored.replayedEvents == Int(try reopened.lastSeq() - snapshot.seq))
        #expect(restored.replayedEvents > 0)
        #expect(restored.table == store.table)
        for later in [0, 450, 1_700] as [Int64] {
            #expect(store.decisions(of: restored.table, at: store.now + later) == store.decisions(of: store.table, at: store.now + later))
        }
    }

    @Test("compaction never deletes an event a replay needs: none after the oldest kept snapshot, none inside the longest window")
    func neverDeletesWhatReplayNeeds() throws {
        let dir = try TemporaryDirectory(prefix: "compaction")
        let path = dir.file("events.sqlite")
        var store = try LiveStore(log: try EventLog(path: path, durability: .normal), rules: Self.windowAlgorithms,
                                  settings: Self.settings(everyEvents: 40, intervalMs: 700, chunk: 7), now: Self.t0)
        #expect(store.horizonMs == 6_000)
        var rng = SplitMix64(seed: 21)
        var compactions = 0
        var heldBackByWindow = 0
        for _ in 0..<600 {
            store.now += Int64(rng.below(120))
            try Self.traffic(&store, checks: rng.below(6), keys: 8, rng: &rng)
            guard let bound = try store.tick() else { continue }
            compactions += 1
            let first = try #require(try store.log.storedSeqRange()).lowerBound
            for seq in store.appended.keys where seq < first {
                let event = store.appended[seq]!
                #expect(seq <= bound.throughSeq, "event \(seq) after the oldest kept snapshot \(bound.throughSeq) was deleted")
                #expect(event.atMs < bound.olderThanMs, "event \(seq) at \(event.atMs) inside the window (from \(bound.olderThanMs)) was deleted")
            }
            #expect(try store.log.eventCount() == Int(try store.log.lastSeq() - first + 1))
            let kept = try store.log.allEvents(after: first - 1)
            heldBackByWindow += kept.filter { $0.seq <= bound.throughSeq && $0.atMs >= bound.olderThanMs }.count
        }
        #expect(compactions > 20)
        #expect(store.deleted > 0)
        #expect(heldBackByWindow > 0, "some covered events were kept only because they were inside the window")

        // Every snapshot unreadable: the events kept rebuild every window counter exactly.
        try store.log.writeTransaction("spoiling the snapshots") { db in
            try db.execute(sql: "UPDATE snapshots SET state = x'00'")
        }
        try store.log.close()
        let restored = try EventLog(path: path, durability: .normal).restoreTable(rules: Self.windowAlgorithms)
        #expect(restored.snapshot == nil)
        #expect(restored.unreadableSnapshots.count == 2)
        for later in [0, 1_000, 2_500] as [Int64] {
            #expect(store.decisions(of: restored.table, at: store.now + later) == store.decisions(of: store.table, at: store.now + later))
        }
    }

    @Test("a newest snapshot that cannot be decoded: the table is rebuilt exactly from the older one and the events after it")
    func fallsBackToOlderSnapshot() throws {
        let dir = try TemporaryDirectory(prefix: "compaction")
        let path = dir.file("events.sqlite")
        var store = try LiveStore(log: try EventLog(path: path, durability: .normal), rules: Self.allAlgorithms,
                                  settings: Self.settings(everyEvents: 100, intervalMs: 60_000), now: Self.t0)
        var rng = SplitMix64(seed: 3)
        for _ in 0..<200 {
            store.now += 50
            try Self.traffic(&store, checks: 10, keys: 12, rng: &rng)
            try store.tick()
        }
        store.now += 10
        try Self.traffic(&store, checks: 10, keys: 12, rng: &rng)
        let marks = try store.log.snapshotMarks()
        #expect(marks.count == 2)
        #expect(store.deleted > 0)
        try store.log.writeTransaction("tearing the newest snapshot") { db in
            try db.execute(sql: "UPDATE snapshots SET state = substr(state, 1, 10) WHERE seq = ?", arguments: [marks[0].seq])
        }
        try store.log.close()

        let restored = try EventLog(path: path, durability: .normal).restoreTable(rules: Self.allAlgorithms)
        #expect(restored.snapshot == marks[1])
        #expect(restored.unreadableSnapshots.map(\.seq) == [marks[0].seq])
        #expect(restored.unreadableSnapshots.first?.problem.contains("checksum") == true)
        #expect(restored.table == store.table)
    }

    @Test("a snapshot whose following events were deleted is not restored from: its counts could not be completed")
    func olderSnapshotWithoutItsEvents() throws {
        let dir = try TemporaryDirectory(prefix: "compaction")
        let path = dir.file("events.sqlite")
        let rules = ["FW": Self.allAlgorithms["FW"]!]
        let log = try EventLog(path: path)
        var table = LimiterTable()
        for (seq, at) in zip(1...6, [10, 20, 30, 40, 50, 60] as [Int64]) {
            try log.append([hit("k", rule: "FW", at: at)])
            table.apply(rule: rules["FW"]!, key: "k", hits: 1, at: at)
            if seq == 3 || seq == 5 { try log.writeSnapshot(seq: Int64(seq), state: table.encodeSnapshot(), at: at) }
        }
        // Deleted past the older snapshot (seq 3), then the newer one is torn.
        #expect(try log.compact(before: 5) == 5)
        try log.writeSnapshot(seq: 5, state: [9, 9], at: 50)
        let restored = try log.restoreTable(rules: rules)
        #expect(restored.snapshot == nil)
        #expect(restored.unreadableSnapshots.map(\.seq) == [5, 3])
        #expect(restored.unreadableSnapshots.last?.problem == "events from seq 4 to 5 after it were deleted")
        #expect(restored.replayedEvents == 1)
    }

    @Test("the horizon stops at the first event inside the window even when later ones are older; deletes go in chunks, oldest first")
    func horizonAndChunks() throws {
        let dir = try TemporaryDirectory(prefix: "compaction")
        let log = try EventLog(path: dir.file("events.sqlite"))
        // The wall clock stepped back after seq 3.
        try log.append([10, 20, 500, 30, 40, 50].map { hit("k", at: $0) })
        try log.writeSnapshot(seq: 6, state: [], at: 600)

        let bound = SnapshotPolicy.CompactionBound(throughSeq: 6, olderThanMs: 100)
        #expect(try log.compactionHorizon(bound) == 2)
        #expect(try log.compactionHorizon(.init(throughSeq: 1, olderThanMs: 100)) == 1)
        #expect(try log.compactionHorizon(.init(throughSeq: 6, olderThanMs: 5)) == 0)
        #expect(try log.compactionHorizon(.init(throughSeq: 6, olderThanMs: 1_000)) == 6)

        #expect(try log.deleteEvents(through: 2, limit: 1) == 1)
        #expect(try log.storedSeqRange() == 2...6)
        #expect(try log.deleteEvents(through: 2, limit: 1) == 1)
        #expect(try log.deleteEvents(through: 2, limit: 1) == 0)
        #expect(try log.allEvents().map(\.atMs) == [500, 30, 40, 50])

        #expect(try log.compact(.init(throughSeq: 6, olderThanMs: 1_000), chunk: 3) == 4)
        #expect(try log.storedSeqRange() == nil)
        #expect(try log.storedEventCount() == 0)
        #expect(try log.lastSeq() == 6)
    }

    @Test("deleting beyond the latest snapshot is refused")
    func uncoveredDelete() throws {
        let dir = try TemporaryDirectory(prefix: "compaction")
        let log = try EventLog(path: dir.file("events.sqlite"))
        try log.append((1...5).map { hit("k", at: $0) })
        let none = #expect(throws: StoreError.self) { try log.deleteEvents(through: 1, limit: 10) }
        #expect(none?.code == .uncoveredCompaction)
        try log.writeSnapshot(seq: 3, state: [], at: 0)
        let beyond = #expect(throws: StoreError.self) { try log.deleteEvents(through: 4, limit: 10) }
        #expect(beyond?.code == .uncoveredCompaction)
        #expect(beyond?.message.contains(log.path) == true)
        #expect(try log.eventCount() == 5)
    }

    @Test("writeSnapshot keeps as many snapshots as asked, newest first")
    func keepsAsAsked() throws {
        let dir = try TemporaryDirectory(prefix: "compaction")
        let log = try EventLog(path: dir.file("events.sqlite"))
        try log.append((1...50).map { hit("k", at: $0) })
        for seq in stride(from: 10, through: 50, by: 10) {
            try log.writeSnapshot(seq: Int64(seq), state: [UInt8(seq)], at: Int64(seq), keeping: 3)
        }
        #expect(try log.snapshotMarks().map(\.seq) == [50, 40, 30])
        try log.writeSnapshot(seq: 50, state: [1], at: 51, keeping: 1)
        #expect(try log.snapshotMarks() == [.init(seq: 50, atMs: 51)])
    }

    @Test("a reopened log starts with no key cache, finds its keys again by their index and replays keys first seen before the snapshot")
    func coldKeyCache() throws {
        let dir = try TemporaryDirectory(prefix: "compaction")
        let path = dir.file("events.sqlite")
        do {
            let log = try EventLog(path: path)
            try log.append([hit("old", at: 1), hit("other", at: 2)])
            try log.writeSnapshot(seq: 2, state: [], at: 3)
        }
        let log = try EventLog(path: path)
        #expect(log.keyIDs.withLock { $0.isEmpty })
        try log.append([hit("old", at: 4), hit("new", at: 5)])
        #expect(try log.keyCount() == 3)
        #expect(log.keyIDs.withLock { $0.count } == 2)
        #expect(try log.allEvents(after: 2).map(\.key) == ["old", "new"])
        #expect(try log.allEvents(after: 3).map(\.key) == ["new"])
    }
}
