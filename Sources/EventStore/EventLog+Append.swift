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

        let (lastSeq, newKeys) = try writeTransaction("appending \(events.count) events") { db in
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
            // Rows go in chunks of `rowsPerInsert` per statement execution,
            // which saves SQLite's per-statement setup on every row.
            let chunk = try db.cachedStatement(sql: Self.multiRowInsert).sqliteStatement
            let single = try db.cachedStatement(sql: Self.singleRowInsert).sqliteStatement
            var index = 0
            while index < events.count {
                let rows = events.count - index >= Self.rowsPerInsert ? Self.rowsPerInsert : 1
                let statement = rows == 1 ? single : chunk
                for row in 0..<rows {
                    let column = Int32(row * 4)
                    let position = index + row
                    sqlite3_bind_int64(statement, column + 1, first + Int64(position))
                    sqlite3_bind_int64(statement, column + 2, ids[position])
                    sqlite3_bind_int64(statement, column + 3, events[position].atMs)
                    sqlite3_bind_int64(statement, column + 4, Int64(events[position].hits))
                }
                let code = sqlite3_step(statement)
                if code != SQLITE_DONE {
                    let message = db.lastErrorMessage
                    sqlite3_reset(statement)
                    throw DatabaseError(resultCode: ResultCode(rawValue: code), message: message)
                }
                sqlite3_reset(statement)
                index += rows
            }
            let seq = first + Int64(events.count) - 1
            try db.cachedStatement(sql: "UPDATE log_state SET last_seq = ? WHERE id = 1").execute(arguments: [seq])
            return (seq, newKeys)
        }

        if !newKeys.isEmpty {
            keyIDs.withLock { cache in cache.merge(newKeys) { current, _ in current } }
        }
        return lastSeq
    }

    static let rowsPerInsert = 64
    static let singleRowInsert = "INSERT INTO events (seq, key_id, at_ms, hits) VALUES (?, ?, ?, ?)"
    static let multiRowInsert = "INSERT INTO events (seq, key_id, at_ms, hits) VALUES "
        + Array(repeating: "(?, ?, ?, ?)", count: rowsPerInsert).joined(separator: ", ")

    static func readLastSeq(_ db: Database) throws -> Int64 {
        try Int64.fetchOne(db.cachedStatement(sql: "SELECT last_seq FROM log_state WHERE id = 1")) ?? 0
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
