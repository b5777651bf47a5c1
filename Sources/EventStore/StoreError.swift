import GRDB

/// A failure of the event store, with a stable ``code`` for programs and a
/// ``message`` for operators that always names the database file.
///
/// Modelled on swift-service-lifecycle's `ServiceGroupError`: a struct with
/// static codes rather than an enum, so codes can be added without breaking
/// callers that switch on them.
public struct StoreError: Error, Hashable, Sendable, CustomStringConvertible {
    /// A stable, machine-readable error code such as `store.not_a_database`.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        public let rawValue: String

        init(_ rawValue: String) { self.rawValue = rawValue }

        public var description: String { rawValue }

        /// The file or its directory could not be opened or created.
        public static let cannotOpen = Code("store.cannot_open")
        /// The file exists but is not a SQLite database.
        public static let notADatabase = Code("store.not_a_database")
        /// SQLite reports the database image as malformed.
        public static let corrupt = Code("store.corrupt")
        /// A disk-level I/O failure (SQLite's `SQLITE_IOERR`).
        public static let io = Code("store.io")
        /// The filesystem has no space left for the database or its WAL.
        public static let diskFull = Code("store.disk_full")
        /// The file or its filesystem does not accept writes.
        public static let readOnly = Code("store.read_only")
        /// The write-ahead log was removed or replaced while the log was open.
        public static let walMissing = Code("store.wal_missing")
        /// Another process held the database lock past the busy timeout.
        public static let busy = Code("store.busy")
        /// Any other SQLite failure; the message carries SQLite's own text.
        public static let sqlite = Code("store.sqlite")
        /// The store or group committer was closed before the operation.
        public static let closed = Code("store.closed")
        /// A snapshot sequence number is outside the log or goes backwards.
        public static let invalidSnapshot = Code("store.invalid_snapshot")
        /// Compaction would delete events that no snapshot covers.
        public static let uncoveredCompaction = Code("store.uncovered_compaction")
        /// The migration list disagrees with the migrations already recorded.
        public static let migrationOrder = Code("store.migration_order")
        /// A migration names a class that is missing or already exists.
        public static let migrationConflict = Code("store.migration_conflict")
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

    /// Translates a GRDB/SQLite error into a store error naming `path`.
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
        case .SQLITE_FULL:
            code = .diskFull
            what = "disk full for \(path)"
        case .SQLITE_READONLY, .SQLITE_PERM:
            code = .readOnly
            what = "\(path) is read-only"
        case .SQLITE_IOERR:
            code = .io
            what = "disk error on \(path)"
        case .SQLITE_BUSY, .SQLITE_LOCKED:
            code = .busy
            what = "\(path) is locked by another connection"
        default:
            code = .sqlite
            what = "SQLite failed on \(path)"
        }
        self.init(code: code, message: "\(what) while \(action): \(sqliteText)", path: path)
    }

    /// Runs `body`, translating GRDB errors; any other error (thrown by a
    /// caller's closure) is passed through unchanged.
    static func translating<T>(
        path: String, doing action: String, _ body: () throws -> T
    ) throws -> T {
        do {
            return try body()
        } catch let error as DatabaseError {
            throw StoreError(error, path: path, doing: action)
        }
    }

    /// Runs `body`, which may only throw GRDB or store errors, with typed throws.
    static func typed<T>(
        path: String, doing action: String, _ body: () throws -> T
    ) throws(StoreError) -> T {
        do {
            return try body()
        } catch let error as StoreError {
            throw error
        } catch let error as DatabaseError {
            throw StoreError(error, path: path, doing: action)
        } catch {
            throw StoreError(code: .sqlite, message: "unexpected failure on \(path) while \(action): \(error)", path: path)
        }
    }
}
