import Foundation
import GRDB
import LimiterCore

extension CoordinatorJournal {
    /// Stores `bundle` unless its version is already here, and prunes the
    /// oldest versions beyond ``retainedVersions`` that no deployment serves.
    ///
    /// Uploading the same rules again is a no-op that returns the stored
    /// bundle with `created: false`: the id covers the rules only (see
    /// ``VersionID``), so a bundle that differs in vars, tag or message alone
    /// is the same version, and the first upload's metadata stays (bundles
    /// are immutable). Callers that care compare the returned vars.
    ///
    /// - Throws: `journal.invalid_version` for two rules with one name;
    ///   `journal.version_conflict` when the stored version with this id has
    ///   other rules (a 64-bit hash collision).
    @discardableResult
    public func upload(_ bundle: VersionBundle) throws(JournalError) -> (bundle: VersionBundle, created: Bool) {
        let duplicates = bundle.duplicateRuleNames
        guard duplicates.isEmpty else {
            throw error(
                .invalidVersion,
                "version \(bundle.id) names more than one rule \(duplicates.joined(separator: ", ")); rule names must be unique")
        }
        let rules = try encodeCanonical(bundle.rules, "the rules of \(bundle.id)", refusing: .invalidVersion)
        let vars = try encodeCanonical(bundle.vars, "the vars of \(bundle.id)", refusing: .invalidVersion)
        return try writeTransaction("uploading version \(bundle.id)") { db in
            if let row = try Row.fetchOne(db, sql: "SELECT * FROM versions WHERE id = ?", arguments: [bundle.id]) {
                let existing = try self.bundle(from: row)
                guard existing.rules == bundle.rules else {
                    throw self.error(.versionConflict, "version \(bundle.id) is stored with other rules: the rules hash collides")
                }
                return (existing, false)
            }
            try db.execute(
                sql: """
                    INSERT INTO versions (id, rules_hash, rules, vars, tag, message, author, created_at_ms)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [
                    bundle.id, bundle.rulesHash, rules, vars, bundle.tag, bundle.message, bundle.author, bundle.createdAtMs,
                ])
            try db.execute(
                sql: "INSERT OR IGNORE INTO version_rules (id, rules_hash) VALUES (?, ?)",
                arguments: [bundle.id, bundle.rulesHash])
            try self.pruneVersions(db)
            return (bundle, true)
        }
    }

    /// The stored versions, newest upload first.
    public func versions(limit: Int = 100) throws(JournalError) -> [VersionBundle] {
        try read("listing versions") { db in
            try Row.fetchAll(db, sql: "SELECT * FROM versions ORDER BY position DESC LIMIT ?", arguments: [max(0, limit)])
                .map { row in try self.bundle(from: row) }
        }
    }

    /// The version with this id, or nil when it was never uploaded or was pruned.
    public func version(_ id: String) throws(JournalError) -> VersionBundle? {
        try read("reading version \(id)") { db in
            try Row.fetchOne(db, sql: "SELECT * FROM versions WHERE id = ?", arguments: [id]).map { row in
                try self.bundle(from: row)
            }
        }
    }

    /// The number of versions stored.
    public func versionCount() throws(JournalError) -> Int {
        try read("counting versions") { db in
            try Int.fetchOne(db, sql: "SELECT count(*) FROM versions") ?? 0
        }
    }

    /// Deletes the versions older than the newest ``retainedVersions``,
    /// except those the last journalled deployment or the saved rollout
    /// serves: a served version must stay available to resume and roll back.
    func pruneVersions(_ db: Database) throws {
        let ids = try String.fetchAll(
            db, sql: "SELECT id FROM versions ORDER BY position DESC LIMIT -1 OFFSET ?", arguments: [retainedVersions])
        guard !ids.isEmpty else { return }
        let served = try servedVersions(db)
        for id in ids where !served.contains(id) {
            try db.execute(sql: "DELETE FROM versions WHERE id = ?", arguments: [id])
        }
    }

    /// The stable and canary versions of the last journalled deployment and
    /// of the saved rollout (they agree unless the shell journalled out of order).
    func servedVersions(_ db: Database) throws -> Set<String> {
        var served: Set<String> = []
        if let deployment = try latestDeployment(db) {
            served.insert(deployment.stable)
            if let canary = deployment.canary { served.insert(canary) }
        }
        if let saved = try savedRollout(db) {
            served.insert(saved.rollout.deployment.stable)
            if let canary = saved.rollout.deployment.canary { served.insert(canary) }
        }
        return served
    }

    private func bundle(from row: Row) throws -> VersionBundle {
        let id: String = try row.value("id")
        let rules = try decodeStored([Rule].self, from: try row.value("rules"), "the rules of version \(id)")
        let vars = try decodeStored([String: String].self, from: try row.value("vars"), "the vars of version \(id)")
        let bundle = VersionBundle(
            rules: rules, vars: vars, tag: try row.value("tag"), message: try row.value("message"),
            author: try row.value("author"), createdAtMs: try row.value("created_at_ms"))
        let rulesHash: String = try row.value("rules_hash")
        guard bundle.id == id, bundle.rulesHash == rulesHash else {
            throw error(.corruptRecord, "version \(id) is stored with rules whose id is \(bundle.id)")
        }
        return bundle
    }
}

extension CoordinatorJournal {
    /// JSON with sorted keys, so equal values are stored as equal text.
    func encodeCanonical(
        _ value: some Encodable, _ what: String, refusing code: JournalError.Code = .invalidEntry
    ) throws(JournalError) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        do {
            return String(decoding: try encoder.encode(value), as: UTF8.self)
        } catch {
            throw self.error(code, "cannot encode \(what): \(error)")
        }
    }

    /// Decodes stored JSON; text that does not decode is a corrupt record.
    func decodeStored<T: Decodable>(_ type: T.Type, from text: String?, _ what: String) throws(JournalError) -> T {
        guard let text else { throw error(.corruptRecord, "\(what) is missing") }
        do {
            return try JSONDecoder().decode(type, from: Data(text.utf8))
        } catch {
            throw self.error(.corruptRecord, "cannot decode \(what): \(Self.describe(error))")
        }
    }

    /// A one-line account of a decoding error (Foundation's default is a dump).
    static func describe(_ error: any Error) -> String {
        switch error {
        case DecodingError.dataCorrupted(let context),
            DecodingError.keyNotFound(_, let context),
            DecodingError.typeMismatch(_, let context),
            DecodingError.valueNotFound(_, let context):
            let path = context.codingPath.map(\.stringValue).joined(separator: ".")
            return path.isEmpty ? context.debugDescription : "\(path): \(context.debugDescription)"
        default:
            return "\(error)"
        }
    }
}
