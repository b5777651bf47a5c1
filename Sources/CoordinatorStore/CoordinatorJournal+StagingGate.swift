import GRDB

extension CoordinatorJournal {
    /// The staging gate (DESIGN.md §7): true iff a version with these rules
    /// reached 100 % here (a completed gradual rollout, `--percent 100` or a
    /// promote: an entry with outcome ``JournalEntry/Outcome/completed``)
    /// and no later rollback took it out of service.
    ///
    /// Production asks the staging coordinator this before a deploy, with
    /// the hash of the rules alone (``VersionBundle/rulesHash``), since vars
    /// differ between environments. Read in journal order, the last word
    /// wins: a completion sets it, a rollback entry that takes such a
    /// version out (as its `version` or `fromStable`, unless that is the one
    /// restored) clears it, and a later completion sets it again. Versions
    /// whose bundles were pruned still count: ids and rules hashes are kept
    /// apart from the bundles for this.
    public func hasCompleted(rulesHash: String) throws(JournalError) -> Bool {
        try read("checking whether rules \(rulesHash) completed") { db in
            let ids = Set(try String.fetchAll(
                db, sql: "SELECT id FROM version_rules WHERE rules_hash = ?", arguments: [rulesHash]))
            guard !ids.isEmpty else { return false }
            let rows = try Row.fetchCursor(
                db,
                sql: """
                    SELECT outcome, version, from_stable, stable FROM journal
                    WHERE outcome IN (?, ?) ORDER BY seq
                    """,
                arguments: [JournalEntry.Outcome.completed.rawValue, JournalEntry.Outcome.rolledBack.rawValue])
            var completed = false
            while let row = try rows.next() {
                let outcome: String = try row.value("outcome")
                let version: String? = try row.value("version")
                if outcome == JournalEntry.Outcome.completed.rawValue {
                    if let version, ids.contains(version) { completed = true }
                    continue
                }
                let fromStable: String? = try row.value("from_stable")
                let restored: String? = try row.value("stable")
                if let restored, ids.contains(restored) { continue }
                if [version, fromStable].contains(where: { $0.map(ids.contains) ?? false }) { completed = false }
            }
            return completed
        }
    }
}
