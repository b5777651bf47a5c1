@testable import EventStore
import LimiterCore
import TestSupport

/// A node's store without the node: a live `LimiterTable` deciding checks at
/// a fake time, every admitted hit appended to a real log, and a
/// ``SnapshotPolicy`` asked at each tick, snapshotting the table at the
/// exact log position and compacting as `MaintenanceService` does.
struct LiveStore {
    let log: EventLog
    let rules: [String: Rule]
    var table = LimiterTable()
    var policy: SnapshotPolicy
    var now: Int64
    /// Every event appended, by seq, to check what compaction removed.
    var appended: [Int64: NewEvent] = [:]
    /// Every (rule, key) ever checked.
    var counters: Set<CounterKey> = []
    var snapshotsWritten = 0
    var deleted = 0

    init(log: EventLog, rules: [String: Rule], settings: SnapshotPolicy.Settings, now: Int64) throws {
        self.log = log
        self.rules = rules
        self.now = now
        policy = SnapshotPolicy(settings: settings, latest: try log.snapshotMarks().first, now: now)
    }

    var horizonMs: Int64 { rules.values.longestReplayHorizonMs }

    /// Decides one check and appends it when admitted.
    @discardableResult
    mutating func check(_ ruleName: String, _ key: String, hits: Int = 1) throws -> Decision {
        let rule = rules[ruleName]!
        counters.insert(CounterKey(rule: ruleName, key: key))
        let decision = table.check(rule: rule, key: key, hits: hits, now: now)
        if decision.allowed && hits > 0 {
            let event = NewEvent(namespace: rule.namespaceID, key: key, rule: rule.name, atMs: now, hits: hits)
            appended[try log.append([event])] = event
        }
        return decision
    }

    /// One maintenance tick: a snapshot when due, then compaction.
    /// Returns the bound compaction used, if it ran.
    @discardableResult
    mutating func tick() throws -> SnapshotPolicy.CompactionBound? {
        let lastSeq = try log.lastSeq()
        guard case .snapshot = policy.onTick(lastSeq: lastSeq, now: now) else { return nil }
        // One thread appends, so the table holds exactly the events up to lastSeq.
        try log.writeSnapshot(seq: lastSeq, state: table.encodeSnapshot(), at: now, keeping: policy.settings.keptSnapshots)
        snapshotsWritten += 1
        let kept = try log.snapshotMarks().map(\.seq)
        guard let bound = policy.onSnapshotWritten(seq: lastSeq, at: now, keptSnapshotSeqs: kept, replayHorizonMs: horizonMs) else {
            return nil
        }
        deleted += try log.compact(bound, chunk: policy.settings.compactionChunk)
        return bound
    }

    /// The decisions of `table` for every counter ever checked, for hits 0
    /// up to the rule's capacity, at `at` (a copy: nothing is recorded).
    func decisions(of table: LimiterTable, at: Int64) -> [String] {
        var lines: [String] = []
        for counter in counters.sorted(by: { ($0.rule, $0.key) < ($1.rule, $1.key) }) {
            let rule = rules[counter.rule]!
            for hits in 0...rule.capacity {
                var copy = table
                let decision = copy.check(rule: rule, key: counter.key, hits: hits, now: at)
                lines.append("\(counter.rule)/\(counter.key) hits \(hits): \(decision)")
            }
        }
        return lines
    }
}
