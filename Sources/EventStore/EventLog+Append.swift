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
            let insert = try db.cachedStatement(
                sql: "INSERT INTO events (seq, key_id, at_ms, hits) VALUES (?, ?, ?, ?)")
            let statement = insert.sqliteStatement
            var seq = first - 1
            for index in events.indices {
                seq += 1
                sqlite3_bind_int64(statement, 1, seq)
                sqlite3_bind_int64(statement, 2, ids[index])
                sqlite3_bind_int64(statement, 3, events[index].atMs)
                sqlite3_bind_int64(statement, 4, Int64(events[index].hits))
                let code = sqlite3_step(statement)
                if code != SQLITE_DONE {
                    let message = db.lastErrorMessage
                    sqlite3_reset(statement)
                    throw DatabaseError(resultCode: ResultCode(rawValue: code), message: message)
                }
                sqlite3_reset(statement)
            }
            try db.cachedStatement(sql: "UPDATE log_state SET last_seq = ? WHERE id = 1").execute(arguments: [seq])
            return (seq, newKeys)
        }

        if !newKeys.isEmpty {
            keyIDs.withLock { cache in cache.merge(newKeys) { current, _ in current } }
        }
        return lastSeq
    }

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
