import GRDB

extension EventLog {
    /// The `seq` and time of every kept snapshot, newest first, without
    /// reading their images.
    public func snapshotMarks() throws(StoreError) -> [SnapshotPolicy.Mark] {
        try read("reading snapshot positions") { db in
            try Row.fetchAll(db, sql: "SELECT seq, taken_at_ms FROM snapshots ORDER BY seq DESC").map { row in
                SnapshotPolicy.Mark(seq: row[0], atMs: row[1])
            }
        }
    }

    /// The first and last `seq` stored, nil when no event is stored. Two
    /// primary-key lookups, whatever the log's size.
    public func storedSeqRange() throws(StoreError) -> ClosedRange<Int64>? {
        try read("reading the stored seq range") { db in
            let row = try Row.fetchOne(db, sql: "SELECT (SELECT min(seq) FROM events), (SELECT max(seq) FROM events)")
            guard let row, let first: Int64 = row[0], let last: Int64 = row[1] else { return nil }
            return first...last
        }
    }

    /// The number of events stored, from ``storedSeqRange()`` rather than a
    /// `count(*)` scan: appends take consecutive `seq`s and every deletion
    /// (``compact(before:)``, ``deleteEvents(through:limit:)``) removes a
    /// prefix, so the stored events are always one unbroken run of `seq`s.
    public func storedEventCount() throws(StoreError) -> Int {
        guard let range = try storedSeqRange() else { return 0 }
        return Int(range.upperBound - range.lowerBound + 1)
    }

    /// The last `seq` that `bound` lets a compaction delete through: the
    /// largest `h <= bound.throughSeq` such that every stored event with
    /// `seq <= h` was logged before `bound.olderThanMs`. Events are not
    /// assumed to be in time order (the wall clock may step back): the scan
    /// stops at the first event inside the horizon, having read only rows
    /// that are about to be deleted.
    public func compactionHorizon(_ bound: SnapshotPolicy.CompactionBound) throws(StoreError) -> Int64 {
        try read("finding the compaction horizon") { db in
            let firstKept = try Int64.fetchOne(
                db, sql: "SELECT seq FROM events WHERE seq <= ? AND at_ms >= ? ORDER BY seq LIMIT 1",
                arguments: [bound.throughSeq, bound.olderThanMs])
            return firstKept.map { $0 - 1 } ?? bound.throughSeq
        }
    }

    /// Deletes at most `limit` of the oldest events, none after `horizon`, in
    /// one transaction, and returns how many it deleted (0 when none is left
    /// at or before `horizon`). Short transactions keep appends, which share
    /// the writer, from waiting long.
    ///
    /// - Throws: `store.uncovered_compaction` when no kept snapshot reaches
    ///   `horizon`, so no admitted hit can be lost.
    @discardableResult
    public func deleteEvents(through horizon: Int64, limit: Int) throws(StoreError) -> Int {
        let path = self.path
        return try writeTransaction("deleting events up to seq \(horizon)") { db in
            let covered = try Int64.fetchOne(db, sql: "SELECT max(seq) FROM snapshots") ?? 0
            guard horizon <= covered else {
                throw StoreError(
                    code: .uncoveredCompaction,
                    message: "cannot delete events of \(path) up to seq \(horizon): the latest snapshot covers only up to seq \(covered)",
                    path: path)
            }
            guard let first = try Int64.fetchOne(db, sql: "SELECT min(seq) FROM events"), first <= horizon else { return 0 }
            let last = min(horizon, first + Int64(max(1, limit)) - 1)
            try db.execute(sql: "DELETE FROM events WHERE seq <= ?", arguments: [last])
            return db.changesCount
        }
    }

    /// Deletes every event `bound` allows (``compactionHorizon(_:)``), in
    /// transactions of at most `chunk` rows; returns how many it deleted.
    /// `shouldContinue` runs between chunks: returning false stops early.
    @discardableResult
    public func compact(
        _ bound: SnapshotPolicy.CompactionBound, chunk: Int,
        shouldContinue: () -> Bool = { true }
    ) throws(StoreError) -> Int {
        let horizon = try compactionHorizon(bound)
        var deleted = 0
        while true {
            let removed = try deleteEvents(through: horizon, limit: chunk)
            deleted += removed
            // Fewer than a chunk: the horizon is reached (the stored seqs are unbroken).
            if removed < max(1, chunk) || !shouldContinue() { return deleted }
        }
    }
}
