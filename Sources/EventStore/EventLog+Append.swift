import GRDB
import GRDBSQLite

extension EventLog {
    /// Appends `events` in ONE transaction and returns the `seq` of the last
    /// one; the events get consecutive sequence numbers ending there. When
    /// this returns, the transaction is committed (and, with
    /// ``Durability/full``, synced to disk).
    ///
    /// Appending nothing returns ``lastSeq()`` without writing.
    @discardableResult
    public func append(_ events: [NewEvent]) throws(StoreError) -> Int64 {
        if events.isEmpty { return try lastSeq() }

        // Resolve known keys before taking the write lock.
        var ids = [Int64](repeating: 0, count: events.count)
        var misses: [Int] = []
        keyIDs.withLock { cache in
            for index in events.indices {
                if let id = cache[events[index].eventKey] {
                    ids[index] = id
                } else {
                    misses.append(index)
                }
            }
        }

        let (lastSeq, newKeys) = try appendTransaction("appending \(events.count) events") { db in
            var newKeys: [EventKey: Int64] = [:]
            for index in misses {
                let key = events[index].eventKey
                if let id = newKeys[key] {
                    ids[index] = id
                } else {
                    let id = try Self.internKey(key, db)
                    newKeys[key] = id
                    ids[index] = id
                }
            }

            let first = try Self.readLastSeq(db) + 1
            // Rows go in multi-row statements of 64, 32, ... 1 rows (the
            // count's binary digits), which saves SQLite's per-statement
            // setup on every row: 8 events are one statement, not eight.
            var index = 0
            while index < events.count {
                var rows = Self.rowsPerInsert
                while rows > events.count - index { rows /= 2 }
                let statement = try db.cachedStatement(sql: Self.insertSQL[rows.trailingZeroBitCount]).sqliteStatement
                for row in 0..<rows {
                    let column = Int32(row * 4)
                    let position = index + row
                    sqlite3_bind_int64(statement, column + 1, first + Int64(position))
                    sqlite3_bind_int64(statement, column + 2, ids[position])
                    sqlite3_bind_int64(statement, column + 3, events[position].atMs)
                    sqlite3_bind_int64(statement, column + 4, Int64(events[position].hits))
                }
                try Self.step(db, statement)
                index += rows
            }
            let seq = first + Int64(events.count) - 1
            let update = try db.cachedStatement(sql: Self.updateLastSeq).sqliteStatement
            sqlite3_bind_int64(update, 1, seq)
            try Self.step(db, update)
            return (seq, newKeys)
        }

        if !newKeys.isEmpty {
            keyIDs.withLock { cache in cache.merge(newKeys) { current, _ in current } }
        }
        return lastSeq
    }

    static let rowsPerInsert = 64
    /// `INSERT` statements of 1, 2, 4, ... 64 rows, indexed by the power of two.
    static let insertSQL: [String] = (0...rowsPerInsert.trailingZeroBitCount).map { power in
        "INSERT INTO events (seq, key_id, at_ms, hits) VALUES "
            + Array(repeating: "(?, ?, ?, ?)", count: 1 << power).joined(separator: ", ")
    }
    static let selectLastSeq = "SELECT last_seq FROM log_state WHERE id = 1"
    static let updateLastSeq = "UPDATE log_state SET last_seq = ? WHERE id = 1"

    /// Runs `body` in one `BEGIN IMMEDIATE` ... `COMMIT` on the writer, with
    /// the statements prepared once and stepped directly. GRDB's
    /// `inTransaction` prepares `BEGIN` and `COMMIT` anew on every call; with
    /// it and a statement per row, an owner's append of a forwarded batch
    /// (8.2 events) took 128k user-space instructions, against 71k (7.2
    /// events) this way (callgrind, BENCHMARKS.md). Any error rolls back.
    func appendTransaction<T>(_ action: String, _ body: (Database) throws -> T) throws(StoreError) -> T {
        try ensureOpen(action)
        return try StoreError.typed(path: path, doing: action) {
            try pool.writeWithoutTransaction { db in
                let begin = try db.cachedStatement(sql: "BEGIN IMMEDIATE TRANSACTION").sqliteStatement
                try Self.step(db, begin)
                do {
                    let result = try body(db)
                    try Self.step(db, try db.cachedStatement(sql: "COMMIT TRANSACTION").sqliteStatement)
                    return result
                } catch {
                    // A failed COMMIT may leave the transaction open (SQLITE_BUSY):
                    // undo it, so the next append starts clean.
                    if let connection = db.sqliteConnection, sqlite3_get_autocommit(connection) == 0 {
                        sqlite3_exec(connection, "ROLLBACK", nil, nil, nil)
                    }
                    throw error
                }
            }
        }
    }

    /// Steps `statement` once, resets it, and throws SQLite's error. With
    /// `reading`, returns the first column of the row it produced (0 if none).
    @discardableResult
    static func step(_ db: Database, _ statement: OpaquePointer, reading: Bool = false) throws -> Int64 {
        let code = sqlite3_step(statement)
        defer { sqlite3_reset(statement) }
        switch code {
        case SQLITE_DONE:
            return 0
        case SQLITE_ROW where reading:
            return sqlite3_column_int64(statement, 0)
        default:
            throw DatabaseError(resultCode: ResultCode(rawValue: code), message: db.lastErrorMessage)
        }
    }

    static func readLastSeq(_ db: Database) throws -> Int64 {
        try step(db, try db.cachedStatement(sql: selectLastSeq).sqliteStatement, reading: true)
    }

    /// Returns the id of `key`, inserting it if this is its first event. A
    /// second process may have inserted it, hence the lookup first.
    private static func internKey(_ key: EventKey, _ db: Database) throws -> Int64 {
        let arguments: StatementArguments = [key.namespace, key.key, key.rule]
        let select = try db.cachedStatement(sql: "SELECT id FROM keys WHERE namespace = ? AND key = ? AND rule = ?")
        if let id = try Int64.fetchOne(select, arguments: arguments) {
            return id
        }
        try db.cachedStatement(sql: "INSERT INTO keys (namespace, key, rule) VALUES (?, ?, ?)")
            .execute(arguments: arguments)
        return db.lastInsertedRowID
    }
}
