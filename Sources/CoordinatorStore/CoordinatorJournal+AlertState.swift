import Foundation
import GRDB

extension CoordinatorJournal {
    /// Replaces the saved alert evaluator (its encoded form: this module
    /// does not read it) with `evaluator`.
    public func saveAlertState(_ evaluator: Data, atMs: Int64) throws(JournalError) {
        try writeTransaction("saving the alert state") { db in
            try db.execute(
                sql: """
                    INSERT INTO alert_state (id, evaluator, saved_at_ms) VALUES (1, ?, ?)
                    ON CONFLICT (id) DO UPDATE SET evaluator = excluded.evaluator, saved_at_ms = excluded.saved_at_ms
                    """,
                arguments: [evaluator, atMs])
        }
    }

    /// The alert evaluator last saved, or nil when none was.
    public func alertState() throws(JournalError) -> Data? {
        try read("reading the alert state") { db in
            try Data.fetchOne(db, sql: "SELECT evaluator FROM alert_state WHERE id = 1")
        }
    }
}
