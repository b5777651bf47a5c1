import Foundation
import GRDB
import Synchronization

/// The node's durable event log: one SQLite file in WAL mode holding every
/// admitted hit, the limiter snapshots and the Durable Object class
/// migrations applied to this node.
///
/// The store is event-sourced (DESIGN.md §2, §6): the limiter state is never
/// written in place; it is rebuilt on restart from the latest ``Snapshot``
/// plus the events after it. Appends go through one GRDB writer connection;
/// reads (replay, queries) use GRDB's pool of WAL readers, so they never wait
/// for a commit in progress.
///
/// Keys are interned: `keys(id, namespace, key, rule)` holds each counter
/// once, and `events(seq, key_id, at_ms, hits)` holds only integers. The
/// id of every key this instance has appended is cached, so an append of
/// known keys is integer inserts only, through prepared statements of 64,
/// 32, ... 1 rows (``append(_:)``). The
/// cache starts empty: the first append of a key after opening looks its id
/// up by the table's unique index, so opening costs the same however many
/// keys the log has ever seen.
public final class EventLog: Sendable {
    /// The database file.
    public let path: String
    public let durability: Durability

    let pool: DatabasePool
    /// The connection `checkpoint()` uses, opened on first use.
    private let checkpointer = Mutex<DatabaseQueue?>(nil)
    /// The WAL file as SQLite opened it, to notice when it is removed (``checkWAL()``).
    let walIdentity: FileIdentity?
    /// Set by ``close()``: later writes fail with `store.closed` instead of
    /// reaching a closed SQLite connection.
    private let isClosed = Atomic<Bool>(false)
    /// Ids of keys known to be committed. Entries are added only after the
    /// transaction that used them commits, so a rolled-back insert never
    /// leaves a dangling id behind.
    let keyIDs = Mutex<[EventKey: Int64]>([:])

    /// Opens or creates the log at `path` (and its parent directory), in WAL
    /// mode, and brings the schema up to date.
    ///
    /// - Throws: ``StoreError`` naming `path`, e.g. `store.not_a_database`
    ///   when the file exists but is not SQLite.
    public init(path: String, durability: Durability = .full) throws(StoreError) {
        self.path = path
        self.durability = durability

        let directory = (path as NSString).deletingLastPathComponent
        if !directory.isEmpty {
            do {
                try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            } catch {
                throw StoreError(
                    code: .cannotOpen,
                    message: "cannot create directory \(directory) for \(path): \(error.localizedDescription)",
                    path: path)
            }
        }

        var configuration = Configuration()
        configuration.label = "EventLog"
        // Another process (e.g. `ratelimit events`) may hold the lock briefly.
        configuration.busyMode = .timeout(5)
        let synchronous = durability.pragmaValue
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = \(synchronous)")
            try db.execute(sql: "PRAGMA mmap_size = 268435456")
        }

        try Self.checkDatabaseFile(at: path)
        let pool: DatabasePool
        do {
            // DatabasePool always runs in `journal_mode=WAL`.
            pool = try DatabasePool(path: path, configuration: configuration)
            try Self.migrator.migrate(pool)
        } catch let error as DatabaseError {
            throw StoreError(error, path: path, doing: "opening the event log")
        } catch {
            throw StoreError(code: .cannotOpen, message: "cannot open \(path): \(error)", path: path)
        }
        self.pool = pool
        try StoreError.typed(path: path, doing: "configuring the writer") {
            try pool.writeWithoutTransaction { db in
                // GRDB sets the writer to synchronous=NORMAL when it enables
                // WAL, after `prepareDatabase`: set the chosen level again on
                // the connection that commits. Checkpoints leave the commit
                // path too (`checkpoint()`), so no answer waits behind one;
                // only the short `restartWAL()` runs between two commits.
                try db.execute(sql: "PRAGMA synchronous = \(synchronous)")
                try db.execute(sql: "PRAGMA wal_autocheckpoint = 0")
                // A WAL that grew past this (a burst, a stalled checkpoint) is
                // cut back to it when it next restarts from its beginning.
                try db.execute(sql: "PRAGMA journal_size_limit = \(Self.walSizeLimit)")
            }
        }
        // The migrator's reads opened `<path>-wal` (a WAL database's first
        // read opens it), so this is the file SQLite writes to.
        walIdentity = FileIdentity(of: path + "-wal")
    }

    /// Copies committed WAL frames into the database file from a connection
    /// of its own (`PRAGMA wal_checkpoint(PASSIVE)`), so it never blocks the
    /// writer; the node calls it every second. Returns the WAL's frames and
    /// how many of them are now in the database file.
    @discardableResult
    public func checkpoint() throws(StoreError) -> (walFrames: Int, checkpointed: Int) {
        try ensureOpen("checkpointing")
        return try StoreError.typed(path: path, doing: "checkpointing") {
            let connection = try checkpointer.withLock { cached in
                if let cached { return cached }
                var configuration = Configuration()
                configuration.label = "EventLog.checkpoint"
                configuration.busyMode = .timeout(1)
                let queue = try DatabaseQueue(path: path, configuration: configuration)
                cached = queue
                return queue
            }
            return try connection.writeWithoutTransaction { db in
                let row = try Row.fetchOne(db, sql: "PRAGMA wal_checkpoint(PASSIVE)")
                return (walFrames: row?[1] ?? 0, checkpointed: row?[2] ?? 0)
            }
        }
    }

    /// Copies the WAL frames that ``checkpoint()`` did not reach (those
    /// committed while it ran) on the writer connection, so the WAL is wholly
    /// in the database file and the next transaction writes it again from
    /// its start. Without this, under steady load a checkpoint never catches
    /// up with the writer: SQLite restarts the WAL only when every frame is
    /// copied, so it would grow without bound, and every commit's fsync would
    /// also allocate new blocks for it.
    ///
    /// It blocks commits while it runs: call it only between two, as
    /// ``GroupCommitter/restartWAL(completion:)`` does, and after a
    /// ``checkpoint()``, so few frames are left to copy. Returns whether every
    /// frame is now copied (a reader of an older snapshot can hold some back).
    @discardableResult
    public func restartWAL() throws(StoreError) -> Bool {
        try ensureOpen("restarting the WAL")
        return try StoreError.typed(path: path, doing: "restarting the WAL") {
            try pool.writeWithoutTransaction { db in
                // (busy, frames in the WAL, frames copied)
                let row = try Row.fetchOne(db, sql: "PRAGMA wal_checkpoint(PASSIVE)")
                let busy: Int = row?[0] ?? 1
                let frames: Int = row?[1] ?? 0
                let copied: Int = row?[2] ?? 0
                return busy == 0 && copied == frames
            }
        }
    }

    /// The WAL size, in bytes, a restart cuts a larger WAL back to
    /// (`PRAGMA journal_size_limit`): above the frames a second of full
    /// load writes between two checkpoints, so steady load never regrows it.
    static let walSizeLimit = 64 << 20

    /// Closes the database connections, the checkpoint connection too.
    /// Later writes fail with `store.closed`, reads with a SQLite misuse
    /// error; closing twice is harmless. Committed frames may stay in the
    /// WAL (GRDB closes its read-only readers last, which cannot fold it);
    /// the next open reads them.
    public func close() throws(StoreError) {
        isClosed.store(true, ordering: .sequentiallyConsistent)
        try StoreError.typed(path: path, doing: "closing the event log") {
            try checkpointer.withLock { connection in
                try connection?.close()
                connection = nil
            }
            try pool.close()
        }
    }

    /// Throws `store.closed` once ``close()`` has begun.
    func ensureOpen(_ action: String) throws(StoreError) {
        guard isClosed.load(ordering: .sequentiallyConsistent) else { return }
        throw StoreError(code: .closed, message: "the event log \(path) is closed; cannot go on \(action)", path: path)
    }

    /// The sequence number of the last committed event (0 for an empty log).
    /// It never goes backwards, even when compaction deleted every event.
    public func lastSeq() throws(StoreError) -> Int64 {
        try read("reading the last sequence number") { db in
            try Self.readLastSeq(db)
        }
    }

    /// The number of events currently stored (after any compaction).
    public func eventCount() throws(StoreError) -> Int {
        try read("counting events") { db in
            try Int.fetchOne(db, sql: "SELECT count(*) FROM events") ?? 0
        }
    }

    /// The number of distinct counters ever appended.
    public func keyCount() throws(StoreError) -> Int {
        try read("counting keys") { db in
            try Int.fetchOne(db, sql: "SELECT count(*) FROM keys") ?? 0
        }
    }

    /// The value of a one-column `PRAGMA` as text, read on the writer
    /// connection, whose settings decide durability (diagnostics and tests).
    func pragma(_ name: String) throws(StoreError) -> String? {
        try ensureOpen("reading PRAGMA \(name)")
        return try StoreError.typed(path: path, doing: "reading PRAGMA \(name)") {
            try pool.writeWithoutTransaction { db in
                switch try DatabaseValue.fetchOne(db, sql: "PRAGMA \(name)")?.storage {
                case .int64(let value): String(value)
                case .string(let value): value
                default: nil
                }
            }
        }
    }

    /// Runs a read in a WAL snapshot, translating errors to ``StoreError``.
    func read<T>(_ action: String, _ body: (Database) throws -> T) throws(StoreError) -> T {
        try StoreError.typed(path: path, doing: action) {
            try pool.read(body)
        }
    }

    /// Runs `body` in one `BEGIN IMMEDIATE` transaction, so a writer in
    /// another process waits at the start rather than failing at commit.
    func writeTransaction<T>(_ action: String, _ body: (Database) throws -> T) throws(StoreError) -> T {
        try ensureOpen(action)
        return try StoreError.typed(path: path, doing: action) {
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

    /// Milliseconds since the Unix epoch, for callers that do not pass a time.
    @usableFromInline
    static func wallClockMs() -> Int64 {
        Int64((Date().timeIntervalSince1970 * 1000).rounded())
    }
}
