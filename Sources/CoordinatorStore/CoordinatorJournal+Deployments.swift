import GRDB
import JSONCore
import Rollout

extension CoordinatorJournal {
    /// Appends a transition to the journal and returns its sequence number.
    ///
    /// Use ``record(entry:rollout:baselines:)`` when the transition changed
    /// the rollout state, so both are written in one transaction.
    ///
    /// - Throws: `journal.invalid_entry` for an entry that breaks the
    ///   invariants of ``JournalEntry``; `journal.stale_epoch` for a
    ///   deployment not above the last journalled epoch. Nothing is written then.
    @discardableResult
    public func append(_ entry: JournalEntry) throws(JournalError) -> Int64 {
        try validate(entry)
        return try writeTransaction("appending a \(entry.kind) entry") { db in
            try self.insert(entry, db)
        }
    }

    /// The journal, newest entry first.
    public func entries(limit: Int = 100) throws(JournalError) -> [JournalEntry] {
        try read("listing the journal") { db in
            try Row.fetchAll(db, sql: "SELECT * FROM journal ORDER BY seq DESC LIMIT ?", arguments: [max(0, limit)])
                .map { row in try self.entry(from: row) }
        }
    }

    /// The number of journal entries.
    public func entryCount() throws(JournalError) -> Int {
        try read("counting journal entries") { db in
            try Int.fetchOne(db, sql: "SELECT count(*) FROM journal") ?? 0
        }
    }

    /// The last deployment pushed to the nodes, or nil before the first.
    public func latestDeployment() throws(JournalError) -> Deployment? {
        try read("reading the latest deployment") { db in
            try self.latestDeployment(db)
        }
    }

    func latestDeployment(_ db: Database) throws -> Deployment? {
        guard
            let row = try Row.fetchOne(
                db,
                sql: """
                    SELECT seq, epoch, stable, canary, split_percent FROM journal
                    WHERE epoch IS NOT NULL ORDER BY seq DESC LIMIT 1
                    """)
        else { return nil }
        return try deployment(from: row, seq: try row.value("seq"))
    }

    /// Checks what can be checked without the database.
    func validate(_ entry: JournalEntry) throws(JournalError) {
        func invalid(_ problem: String) -> JournalError {
            error(.invalidEntry, "journal entry (\(entry.kind), \(entry.outcome)) refused: \(problem)")
        }
        if entry.actor.isEmpty { throw invalid("the actor is empty") }
        if entry.kind.rawValue.isEmpty { throw invalid("the kind is empty") }
        if entry.outcome.rawValue.isEmpty { throw invalid("the outcome is empty") }
        if let percent = entry.percent, !(0...100).contains(percent) {
            throw invalid("percent \(percent) is outside 0...100")
        }
        if entry.forced, (entry.forceMessage ?? "").allSatisfy(\.isWhitespace) {
            throw invalid("a forced deploy needs a message saying why (--force --message WHY)")
        }
        if !entry.forced, entry.forceMessage != nil {
            throw invalid("a force message on an entry that is not forced")
        }
        if let metrics = entry.metricsJSON {
            do {
                _ = try JSONParser.parse(metrics)
            } catch {
                throw invalid("the metrics snapshot is not JSON (\(error.reason) at byte \(error.offset))")
            }
        }
        if let deployment = entry.deployment, deployment.epoch > UInt64(Int64.max) {
            throw invalid("epoch \(deployment.epoch) does not fit the journal")
        }
        switch entry.outcome {
        case .completed:
            guard let version = entry.version, let deployment = entry.deployment,
                deployment.stable == version, deployment.canary == nil
            else {
                throw invalid(
                    "a completed entry needs its version and the deployment where that version is stable with no canary")
            }
        case .rolledBack:
            guard let deployment = entry.deployment, deployment.canary == nil, entry.version != nil else {
                throw invalid(
                    "a rolled-back entry needs the version taken out and the deployment restoring a stable version alone")
            }
        default:
            break
        }
    }

    /// Inserts a validated entry in the caller's transaction.
    func insert(_ entry: JournalEntry, _ db: Database) throws -> Int64 {
        if let deployment = entry.deployment, let latest = try latestDeployment(db), deployment.epoch <= latest.epoch {
            throw error(
                .staleEpoch,
                "journal entry (\(entry.kind), \(entry.outcome)) refused: deployment \(deployment) is not above "
                    + "the last journalled \(latest); nodes keep the higher epoch")
        }
        let deployment = entry.deployment
        try db.execute(
            sql: """
                INSERT INTO journal (at_ms, actor, kind, outcome, version, from_stable, percent,
                    epoch, stable, canary, split_percent, reason, metrics, forced, force_message)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """,
            arguments: [
                entry.atMs, entry.actor, entry.kind.rawValue, entry.outcome.rawValue, entry.version, entry.fromStable,
                entry.percent, deployment.map { Int64($0.epoch) }, deployment?.stable, deployment?.canary,
                deployment?.percent, entry.reason, entry.metricsJSON, entry.forced, entry.forceMessage,
            ])
        return db.lastInsertedRowID
    }

    private func entry(from row: Row) throws -> JournalEntry {
        let seq: Int64 = try row.value("seq")
        var entry = JournalEntry(
            atMs: try row.value("at_ms"),
            actor: try row.value("actor"),
            kind: JournalEntry.Kind(rawValue: try row.value("kind")),
            outcome: JournalEntry.Outcome(rawValue: try row.value("outcome")),
            version: try row.value("version"),
            fromStable: try row.value("from_stable"),
            percent: try row.value("percent"),
            deployment: (try row.value("epoch") as Int64?) == nil ? nil : try deployment(from: row, seq: seq),
            reason: try row.value("reason"),
            metricsJSON: try row.value("metrics"),
            forced: try row.value("forced"),
            forceMessage: try row.value("force_message"))
        entry.seq = seq
        return entry
    }

    /// The deployment columns of a journal row, validated like a peer's.
    private func deployment(from row: Row, seq: Int64) throws -> Deployment {
        let epoch: Int64 = try row.value("epoch")
        let stable: String = try row.value("stable")
        let canary: String? = try row.value("canary")
        let percent: Int = try row.value("split_percent")
        guard epoch >= 0 else {
            throw error(.corruptRecord, "journal entry \(seq) has a negative epoch \(epoch)")
        }
        do {
            return try Deployment.checked(epoch: UInt64(epoch), stable: stable, canary: canary, percent: percent)
        } catch {
            throw self.error(.corruptRecord, "journal entry \(seq) holds an invalid deployment: \(error.message)")
        }
    }
}
