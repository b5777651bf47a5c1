import Foundation
import GRDB

extension EventLog {
    /// How many snapshots are kept unless the caller says otherwise: the
    /// newest, and one to fall back on if the newest cannot be decoded
    /// (``restoreTable(rules:)``).
    public static let keptSnapshots = 2

    /// Stores `state` as the limiter image covering every event up to `seq`,
    /// taken at `at` (ms since the epoch), and drops all but the last
    /// `keeping` snapshots (at least one: this one).
    ///
    /// - Throws: `store.invalid_snapshot` if `seq` is beyond ``lastSeq()``
    ///   or older than the latest snapshot (snapshots only move forward).
    public func writeSnapshot(seq: Int64, state: [UInt8], at takenAtMs: Int64,
                              keeping kept: Int = keptSnapshots) throws(StoreError) {
        let path = self.path
        try writeTransaction("writing the snapshot at seq \(seq)") { db in
            let lastSeq = try Self.readLastSeq(db)
            guard seq >= 0, seq <= lastSeq else {
                throw StoreError(
                    code: .invalidSnapshot,
                    message: "snapshot seq \(seq) is outside the log of \(path), whose last seq is \(lastSeq)",
                    path: path)
            }
            if let latest = try Int64.fetchOne(db, sql: "SELECT max(seq) FROM snapshots"), latest > seq {
                throw StoreError(
                    code: .invalidSnapshot,
                    message: "snapshot seq \(seq) is older than the latest snapshot \(latest) in \(path)",
                    path: path)
            }
            try db.execute(
                sql: "INSERT OR REPLACE INTO snapshots (seq, taken_at_ms, state) VALUES (?, ?, ?)",
                arguments: [seq, takenAtMs, Data(state)])
            try db.execute(
                sql: """
                    DELETE FROM snapshots WHERE seq NOT IN
                        (SELECT seq FROM snapshots ORDER BY seq DESC LIMIT ?)
                    """,
                arguments: [max(1, kept)])
        }
    }

    /// The newest snapshot, or nil when none was written.
    public func latestSnapshot() throws(StoreError) -> Snapshot? {
        try snapshots().first
    }

    /// The kept snapshots, newest first.
    public func snapshots() throws(StoreError) -> [Snapshot] {
        try read("reading snapshots") { db in
            try Row.fetchAll(db, sql: "SELECT seq, taken_at_ms, state FROM snapshots ORDER BY seq DESC").map { row in
                let blob: Data = row[2]
                return Snapshot(seq: row[0], takenAtMs: row[1], state: [UInt8](blob))
            }
        }
    }

    /// Deletes the events a snapshot already covers: every event with
    /// `seq <= through`. Returns how many were deleted. The node decides
    /// when; sequence numbers keep counting from ``lastSeq()`` afterwards.
    ///
    /// - Throws: `store.uncovered_compaction` unless a kept snapshot has
    ///   `seq >= through`, so compaction can never lose an admitted hit.
    @discardableResult
    public func compact(before through: Int64) throws(StoreError) -> Int {
        let path = self.path
        return try writeTransaction("compacting events up to seq \(through)") { db in
            let covered = try Int64.fetchOne(db, sql: "SELECT max(seq) FROM snapshots") ?? 0
            guard through <= covered else {
                throw StoreError(
                    code: .uncoveredCompaction,
                    message: "cannot compact \(path) up to seq \(through): the latest snapshot covers only up to seq \(covered)",
                    path: path)
            }
            try db.execute(sql: "DELETE FROM events WHERE seq <= ?", arguments: [through])
            return db.changesCount
        }
    }
}
