import Foundation
import GRDB

/// The coordinator's SQLite journal (DESIGN.md §7): every version uploaded,
/// every deployment transition with its metric snapshot and reason, and the
/// rollout state the coordinator resumes from after a restart.
///
/// One file per environment, in WAL mode with `synchronous = FULL`: the
/// journal is written a few times per rollout step and must survive a power
/// cut, since a lost transition would resume a rollout from a split the
/// nodes no longer serve. Writes go through GRDB's one writer connection in
/// `BEGIN IMMEDIATE` transactions; reads use the pool's WAL readers.
///
/// Every method throws ``JournalError`` naming the file; a file that is not
/// a SQLite database, another program's database or a journal from a newer
/// release is refused when opening, never overwritten.
public final class CoordinatorJournal: Sendable {
    /// The database file.
    public let path: String
    /// How many of the newest versions ``upload(_:)`` keeps (DESIGN.md §7:
    /// the last 100), besides the versions currently stable or canary.
    public let retainedVersions: Int

    let pool: DatabasePool

    /// `PRAGMA application_id` of a journal ("RLCJ"), so the journal is never
    /// confused with a node's event log or another program's database.
    static let applicationID: Int32 = 0x524C_434A

    /// Opens or creates the journal at `path` (and its parent directory) and
    /// brings the schema up to date.
    ///
    /// - Parameter retainedVersions: versions kept besides the served ones;
    ///   at least 1.
    /// - Throws: ``JournalError`` naming `path`: `journal.not_a_database`
    ///   for a file that is not SQLite, `journal.wrong_database` for another
    ///   program's database, `journal.newer_schema`, `journal.corrupt`, ...
    public init(path: String, retainedVersions: Int = 100) throws(JournalError) {
        precondition(retainedVersions >= 1, "CoordinatorJournal: retainedVersions must be at least 1; got \(retainedVersions)")
        self.path = path
        self.retainedVersions = retainedVersions

        let directory = (path as NSString).deletingLastPathComponent
        if !directory.isEmpty {
            do {
                try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            } catch {
                throw JournalError(
                    code: .cannotOpen,
                    message: "cannot create directory \(directory) for \(path): \(error.localizedDescription)",
                    path: path)
            }
        }

        var configuration = Configuration()
        configuration.label = "CoordinatorJournal"
        // `ratelimit deployments list` may read while the coordinator writes.
        configuration.busyMode = .timeout(5)

        let pool: DatabasePool
        do {
            // DatabasePool always runs in `journal_mode=WAL`.
            pool = try DatabasePool(path: path, configuration: configuration)
        } catch let error as DatabaseError {
            throw JournalError(error, path: path, doing: "opening the journal")
        } catch {
            throw JournalError(code: .cannotOpen, message: "cannot open \(path): \(error)", path: path)
        }
        self.pool = pool

        try JournalError.typed(path: path, doing: "checking the schema") {
            try pool.writeWithoutTransaction { db in
                try Self.checkIdentity(db, path: path)
                if try Self.migrator.hasBeenSuperseded(db) {
                    let known = Set(Self.migrator.migrations)
                    let unknown = try Self.migrator.appliedIdentifiers(db).subtracting(known).sorted()
                    throw JournalError(
                        code: .newerSchema,
                        message: "\(path) was written by a newer ratelimit (migrations \(unknown.joined(separator: ", ")) "
                            + "are unknown to this one); it is left untouched",
                        path: path)
                }
            }
        }
        try JournalError.typed(path: path, doing: "migrating the schema") {
            try Self.migrator.migrate(pool)
        }
        try JournalError.typed(path: path, doing: "configuring the writer") {
            try pool.writeWithoutTransaction { db in
                // GRDB sets the writer to NORMAL when it enables WAL; a
                // committed transition must survive a power cut.
                try db.execute(sql: "PRAGMA synchronous = FULL")
            }
        }
    }

    /// Closes the database connections; later calls fail. Closing twice is harmless.
    public func close() throws(JournalError) {
        try JournalError.typed(path: path, doing: "closing the journal") {
            try pool.close()
        }
    }

    /// The value of a one-column `PRAGMA` as text, read on the writer
    /// connection, whose settings decide durability (diagnostics and tests).
    func pragma(_ name: String) throws(JournalError) -> String? {
        try JournalError.typed(path: path, doing: "reading PRAGMA \(name)") {
            try pool.writeWithoutTransaction { db in
                switch try DatabaseValue.fetchOne(db, sql: "PRAGMA \(name)")?.storage {
                case .int64(let value): String(value)
                case .string(let value): value
                default: nil
                }
            }
        }
    }

    /// Refuses a database that is neither new nor a journal: applying our
    /// migrations to it would add tables to someone else's file.
    private static func checkIdentity(_ db: Database, path: String) throws {
        let applicationID = try Int32.fetchOne(db, sql: "PRAGMA application_id") ?? 0
        if applicationID == Self.applicationID { return }
        let tables = try String.fetchAll(
            db, sql: "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")
        if applicationID == 0, tables.isEmpty { return }
        let found = tables.isEmpty ? "no tables" : "tables \(tables.prefix(5).joined(separator: ", "))"
        throw JournalError(
            code: .wrongDatabase,
            message: "\(path) is a SQLite database but not a coordinator journal "
                + "(application_id \(applicationID), \(found))",
            path: path)
    }

    /// Runs a read in a WAL snapshot, translating errors to ``JournalError``.
    func read<T>(_ action: String, _ body: (Database) throws -> T) throws(JournalError) -> T {
        try JournalError.typed(path: path, doing: action) {
            try pool.read(body)
        }
    }

    /// Runs `body` in one `BEGIN IMMEDIATE` transaction, so a writer in
    /// another process waits at the start rather than failing at commit.
    /// Anything `body` throws rolls the whole transaction back.
    func writeTransaction<T>(_ action: String, _ body: (Database) throws -> T) throws(JournalError) -> T {
        try JournalError.typed(path: path, doing: action) {
            try pool.writeWithoutTransaction { db in
                var result: T?
                try db.inTransaction(.immediate) {
                    result = try body(db)
                    return .commit
                }
                return result!
            }
        }
    }

    /// A ``JournalError`` naming this file.
    func error(_ code: JournalError.Code, _ message: String) -> JournalError {
        JournalError(code: code, message: "\(path): \(message)", path: path)
    }
}

extension Row {
    /// The column's value, throwing (never trapping, as `row[name]` does) on
    /// a NULL or a value of another type: the file may have been edited.
    func value<Value: DatabaseValueConvertible>(_ column: String) throws -> Value {
        try decode(forColumn: column)
    }
}
