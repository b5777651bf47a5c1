import Foundation
import GRDB
import Rollout

extension CoordinatorJournal {
    /// Appends `entry` and replaces the saved rollout state with `rollout`
    /// and `baselines`, in one transaction: after a crash the journal and
    /// the state the coordinator resumes from never disagree.
    ///
    /// - Throws: what ``append(_:)`` throws, and `journal.invalid_entry`
    ///   when `rollout` does not serve what the journal says the nodes
    ///   serve: `entry.deployment` when it pushed one, else the last
    ///   journalled deployment. Nothing is written then.
    @discardableResult
    public func record(entry: JournalEntry, rollout: Rollout, baselines: Data?) throws(JournalError) -> Int64 {
        try validate(entry)
        let encoded = try encodeCanonical(rollout, "the rollout state")
        return try writeTransaction("recording a \(entry.kind) entry with the rollout state") { db in
            let served = try entry.deployment ?? self.latestDeployment(db)
            if let served, served != rollout.deployment {
                throw self.error(
                    .invalidEntry,
                    "journal entry (\(entry.kind), \(entry.outcome)) refused: the rollout serves \(rollout.deployment) "
                        + "but the journal says the nodes serve \(served)")
            }
            let seq = try self.insert(entry, db)
            try db.execute(
                sql: """
                    INSERT INTO rollout_state (id, rollout, baselines, seq, saved_at_ms) VALUES (1, ?, ?, ?, ?)
                    ON CONFLICT (id) DO UPDATE SET
                        rollout = excluded.rollout, baselines = excluded.baselines,
                        seq = excluded.seq, saved_at_ms = excluded.saved_at_ms
                    """,
                arguments: [encoded, baselines, seq, entry.atMs])
            return seq
        }
    }

    /// The rollout state last recorded, or nil when none was; the
    /// coordinator resumes it (`Rollout.onResume(now:)`) on start.
    ///
    /// - Throws: `journal.corrupt_record` when the stored state does not
    ///   decode or breaks the rollout's invariants.
    public func currentRollout() throws(JournalError) -> SavedRollout? {
        try read("reading the rollout state") { db in
            try self.savedRollout(db)
        }
    }

    func savedRollout(_ db: Database) throws -> SavedRollout? {
        guard let row = try Row.fetchOne(db, sql: "SELECT * FROM rollout_state WHERE id = 1") else { return nil }
        let rollout = try decodeStored(Rollout.self, from: try row.value("rollout"), "the saved rollout state")
        return SavedRollout(
            rollout: rollout, baselines: try row.value("baselines"), seq: try row.value("seq"),
            savedAtMs: try row.value("saved_at_ms"))
    }
}
