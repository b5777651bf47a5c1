import Foundation
import LimiterCore

extension EventStoreBenchmark {
    /// What ``buildHistory(path:events:tail:rule:keys:endingAt:)`` wrote.
    public struct History: Sendable {
        public var events: Int
        public var snapshotSeq: Int64
        public var keys: Int
        /// Counters in the snapshot: those not fully available at its time.
        public var snapshotCounters: Int
        public var elapsed: Duration
    }

    /// Writes a node's store with `events` events of history for `rule`,
    /// for timing a restart over it: one-hit events cycling over `keys`
    /// keys, spread evenly over the hour before `endingAt` (ms since the
    /// epoch), appended through ``EventLog/append(_:)`` in transactions of
    /// 1,000. Like a node, it applies every event to a `LimiterTable`, drops
    /// the counters that are fully available again (a node prunes every
    /// 10 s) and writes the table as a snapshot at seq `events - tail`, so a
    /// restart loads that snapshot and replays the last `tail` events; the
    /// events before it stay in the log, as they do on a node whose longest
    /// rule window reaches back that far.
    ///
    /// - Throws: `store.cannot_open` when `path` exists: it never writes over a node's data.
    public static func buildHistory(
        path: String, events: Int, tail: Int, rule: Rule, keys: Int = 10_000, endingAt: Int64
    ) throws(StoreError) -> History {
        guard events >= 0, (0...events).contains(tail), keys > 0 else {
            throw StoreError(code: .sqlite, message: "history of \(events) events with a tail of \(tail) over \(keys) keys is not possible for \(path)",
                             path: path)
        }
        let log = try freshLog(path: path, durability: .normal)
        defer { try? log.close() }
        let names = (0..<keys).map { EventKey(namespace: rule.namespaceID, key: "user:\($0)", rule: rule.name) }
        let spacing = max(1, 3_600_000 / Int64(max(events, 1)))
        let firstAt = endingAt - spacing * Int64(events)
        var table = LimiterTable()
        let clock = ContinuousClock()
        let start = clock.now

        func append(_ range: Range<Int>) throws(StoreError) {
            var index = range.lowerBound
            while index < range.upperBound {
                let end = min(range.upperBound, index + 1_000)
                let batch = (index..<end).map { i in
                    NewEvent(eventKey: names[i % keys], atMs: firstAt + spacing * Int64(i), hits: 1)
                }
                try log.append(batch)
                for event in batch {
                    table.apply(rule: rule, key: event.key, hits: event.hits, at: event.atMs)
                }
                index = end
            }
        }

        try append(0..<(events - tail))
        let snapshotSeq = try log.lastSeq()
        let snapshotAt = firstAt + spacing * Int64(events - tail)
        table.prune(now: snapshotAt, rules: [rule.name: rule])
        let counters = table.count
        try log.writeSnapshot(seq: snapshotSeq, state: table.encodeSnapshot(), at: snapshotAt)
        try append((events - tail)..<events)
        try log.checkpoint()
        return History(events: events, snapshotSeq: snapshotSeq, keys: min(keys, events), snapshotCounters: counters,
                       elapsed: clock.now - start)
    }
}

extension EventStoreBenchmark {
    /// Writes `events` events to a fresh log at `path` (synchronous=FULL, as
    /// a node's default), snapshots past all of them, then deletes them all
    /// in ``EventLog/deleteEvents(through:limit:)`` transactions of `chunk`
    /// rows and returns each one's duration: how long an append can wait
    /// behind compaction on the shared writer.
    public static func compactionChunkTimes(path: String, events: Int, chunk: Int) throws(StoreError) -> [Duration] {
        let log = try freshLog(path: path, durability: .full)
        defer { try? log.close() }
        for batch in makeBatches(events: events, batchSize: 10_000) {
            try log.append(batch)
        }
        let last = try log.lastSeq()
        try log.writeSnapshot(seq: last, state: [], at: 0)
        let clock = ContinuousClock()
        var times: [Duration] = []
        while true {
            let start = clock.now
            let removed = try log.deleteEvents(through: last, limit: chunk)
            guard removed > 0 else { break }
            times.append(clock.now - start)
        }
        return times
    }
}
