import GRDB

/// A failure of the coordinator's journal, with a stable ``code`` for
/// programs and a ``message`` for operators that always names the database
/// file.
///
/// The shape of EventStore's `StoreError` (itself modelled on
/// swift-service-lifecycle's `ServiceGroupError`): a struct with static codes
/// rather than an enum, so codes can be added without breaking callers that
/// switch on them. A type of its own so that a shell importing both stores
/// names each error without qualification.
public struct JournalError: Error, Hashable, Sendable, CustomStringConvertible {
    /// A stable, machine-readable error code such as `journal.not_a_database`.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        public let rawValue: String

        init(_ rawValue: String) { self.rawValue = rawValue }

        public var description: String { rawValue }

        /// The file or its directory could not be opened or created.
        public static let cannotOpen = Code("journal.cannot_open")
        /// The file exists but is not a SQLite database.
        public static let notADatabase = Code("journal.not_a_database")
        /// The file is a SQLite database, but not a coordinator journal
        /// (another program's, or a node's event log).
        public static let wrongDatabase = Code("journal.wrong_database")
        /// The journal was written by a newer release with migrations this
        /// one does not know; it is left untouched.
        public static let newerSchema = Code("journal.newer_schema")
        /// SQLite reports the database image as malformed.
        public static let corrupt = Code("journal.corrupt")
        /// A row that SQLite reads but this code cannot decode (a rule, a
        /// deployment or a rollout that fails validation).
        public static let corruptRecord = Code("journal.corrupt_record")
        /// A disk-level failure: I/O error, disk full, read-only file.
        public static let io = Code("journal.io")
        /// Another process held the database lock past the busy timeout.
        public static let busy = Code("journal.busy")
        /// The journal was closed before the operation.
        public static let closed = Code("journal.closed")
        /// Any other SQLite failure; the message carries SQLite's own text.
        public static let sqlite = Code("journal.sqlite")
        /// A version bundle that cannot be stored (e.g. two rules with one name).
        public static let invalidVersion = Code("journal.invalid_version")
        /// A stored version has the same id but other rules: a 64-bit hash collision.
        public static let versionConflict = Code("journal.version_conflict")
        /// A journal entry that breaks its invariants (e.g. a completed entry
        /// without the deployment that completed it); nothing was written.
        public static let invalidEntry = Code("journal.invalid_entry")
        /// A deployment whose epoch is not above the last journalled one:
        /// nodes would ignore it (the higher epoch wins).
        public static let staleEpoch = Code("journal.stale_epoch")
    }

    public let code: Code
    /// A human sentence naming the database file and what went wrong.
    public let message: String
    /// The database file the error concerns.
    public let path: String

    public init(code: Code, message: String, path: String) {
        self.code = code
        self.message = message
        self.path = path
    }

    public var description: String { "\(code): \(message)" }

    /// Translates a GRDB/SQLite error into a journal error naming `path`.
    init(_ error: DatabaseError, path: String, doing action: String) {
        let sqliteText = error.message ?? "SQLite error \(error.extendedResultCode.rawValue)"
        let code: Code
        let what: String
        switch error.resultCode {
        case .SQLITE_NOTADB:
            code = .notADatabase
            what = "\(path) is not a SQLite database"
        case .SQLITE_CORRUPT:
            code = .corrupt
            what = "\(path) is corrupt"
        case .SQLITE_CANTOPEN:
            code = .cannotOpen
            what = "cannot open \(path)"
        case .SQLITE_IOERR, .SQLITE_FULL, .SQLITE_READONLY, .SQLITE_PERM:
            code = .io
            what = "disk error on \(path)"
        case .SQLITE_MISUSE:
            // GRDB's only misuse in this target: a call after `close()`.
            code = .closed
            what = "\(path) is closed"
        case .SQLITE_BUSY, .SQLITE_LOCKED:
            code = .busy
            what = "\(path) is locked by another connection"
        default:
            code = .sqlite
            what = "SQLite failed on \(path)"
        }
        self.init(code: code, message: "\(what) while \(action): \(sqliteText)", path: path)
    }

    /// Runs `body`, which may only throw GRDB or journal errors, with typed throws.
    static func typed<T>(
        path: String, doing action: String, _ body: () throws -> T
    ) throws(JournalError) -> T {
        do {
            return try body()
        } catch let error as JournalError {
            throw error
        } catch let error as DatabaseError {
            throw JournalError(error, path: path, doing: action)
        } catch let error as RowDecodingError {
            throw JournalError(
                code: .corruptRecord, message: "\(path) holds a row that does not decode while \(action): \(error)", path: path)
        } catch {
            throw JournalError(code: .sqlite, message: "unexpected failure on \(path) while \(action): \(error)", path: path)
        }
    }
}
