import Foundation
import GRDB
import LimiterCore

/// What ``EventLog/restoreTable(rules:)`` rebuilt, and from what.
public struct RestoredTable: Sendable {
    /// A kept snapshot that could not be decoded, and why.
    public struct UnreadableSnapshot: Sendable, Equatable {
        public var seq: Int64
        public var problem: String
    }

    public var table: LimiterTable
    /// The snapshot the table was loaded from; nil when the log has none
    /// that could be read.
    public var snapshot: SnapshotPolicy.Mark?
    /// Events replayed on top of it (all stored events after its `seq`).
    public var replayedEvents: Int
    /// Newer snapshots skipped because they could not be decoded or the
    /// events after them are no longer all stored, newest first.
    public var unreadableSnapshots: [UnreadableSnapshot]
}

extension EventLog {
    /// Rebuilds the limiter table: the newest kept snapshot that decodes,
    /// plus every event after it, applied with `rules` (events of a rule not
    /// in `rules` are skipped: their counters have no limit to enforce).
    ///
    /// Falling back to an older snapshot is exact, because compaction never
    /// deletes an event after the oldest kept snapshot. When no snapshot
    /// decodes, the table is rebuilt from the stored events alone, which
    /// compaction keeps for the longest replay horizon of the installed
    /// rules (see ``SnapshotPolicy``); the result says so in
    /// ``RestoredTable/unreadableSnapshots`` for the caller to log.
    ///
    /// The cost depends on the snapshot and the events after it, not on the
    /// log's history: the replay reads only the tail and the keys it names.
    public func restoreTable(rules: [String: Rule]) throws -> RestoredTable {
        var unreadable: [RestoredTable.UnreadableSnapshot] = []
        var table = LimiterTable()
        var start: SnapshotPolicy.Mark?
        let lastSeq = try lastSeq()
        let firstStored = try storedSeqRange()?.lowerBound ?? lastSeq + 1
        for mark in try snapshotMarks() {
            // The stored seqs are one unbroken run: every event after the snapshot
            // is there unless something deleted past it (`compact(before:)` beyond
            // an older snapshot), and then this snapshot cannot be completed.
            guard firstStored <= mark.seq + 1 else {
                unreadable.append(.init(seq: mark.seq, problem: "events from seq \(mark.seq + 1) to \(firstStored - 1) after it were deleted"))
                continue
            }
            guard let snapshot = try snapshot(at: mark.seq) else { continue }
            do {
                table = try LimiterTable(snapshot: snapshot.state)
                start = mark
                break
            } catch {
                unreadable.append(.init(seq: mark.seq, problem: error.message))
            }
        }
        var replayed = 0
        try replay(after: start?.seq ?? 0) { event in
            replayed += 1
            guard let rule = rules[event.rule] else { return }
            table.apply(rule: rule, key: event.key, hits: event.hits, at: event.atMs)
        }
        return RestoredTable(table: table, snapshot: start, replayedEvents: replayed, unreadableSnapshots: unreadable)
    }

    /// The kept snapshot at `seq`, or nil when there is none.
    public func snapshot(at seq: Int64) throws(StoreError) -> Snapshot? {
        try read("reading the snapshot at seq \(seq)") { db in
            try Row.fetchOne(db, sql: "SELECT seq, taken_at_ms, state FROM snapshots WHERE seq = ?", arguments: [seq]).map { row in
                let blob: Data = row[2]
                return Snapshot(seq: row[0], takenAtMs: row[1], state: [UInt8](blob))
            }
        }
    }
}
