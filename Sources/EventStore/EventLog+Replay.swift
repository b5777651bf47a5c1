import GRDB
import GRDBSQLite

extension EventLog {
    /// Streams every event with `seq > after`, in `seq` order, to `body`.
    ///
    /// This is the restart path: load ``latestSnapshot()``, then replay the
    /// tail after its `seq`. The scan runs in one WAL read snapshot, so it
    /// sees a consistent log while appends continue; it reads integers with a
    /// raw prepared statement and hands out key strings from a table loaded
    /// once, so no string is decoded per event. After a snapshot (`seq > 0`)
    /// only the keys the tail names are loaded, so the cost does not grow
    /// with the number of keys the log has ever seen.
    ///
    /// - Throws: ``StoreError`` for storage failures; errors thrown by
    ///   `body` stop the replay and are rethrown unchanged.
    public func replay(after seq: Int64 = 0, _ body: (HitEvent) throws -> Void) throws {
        try StoreError.translating(path: path, doing: "replaying events after seq \(seq)") {
            try pool.read { db in
                let keys = seq == 0 ? KeyLookup.dense(try Self.loadKeyTable(db)) : .sparse(try Self.loadKeys(db, namedAfter: seq))
                try Self.scanEvents(db, after: seq) { seq, keyID, atMs, hits in
                    guard let key = keys[keyID] else {
                        throw Self.danglingKey(seq: seq, keyID: keyID)
                    }
                    try body(HitEvent(
                        seq: seq, namespace: key.namespace, key: key.key, rule: key.rule,
                        atMs: atMs, hits: hits))
                }
            }
        }
    }

    /// The fastest replay: first every counter of the log as `(keyID, key)`,
    /// then every event with `seq > after` in `seq` order naming its counter
    /// by `keyID`. A caller resolves each key to its own structure once and
    /// then applies events by integer id. Both come from one read snapshot.
    public func replayRaw(
        after seq: Int64 = 0,
        keys: (Int64, EventKey) throws -> Void,
        events: (RawHitEvent) throws -> Void
    ) throws {
        try StoreError.translating(path: path, doing: "replaying events after seq \(seq)") {
            try pool.read { db in
                let rows = try Row.fetchCursor(db, sql: "SELECT id, namespace, key, rule FROM keys ORDER BY id")
                while let row = try rows.next() {
                    try keys(row[0], EventKey(namespace: row[1], key: row[2], rule: row[3]))
                }
                try Self.scanEvents(db, after: seq) { seq, keyID, atMs, hits in
                    try events(RawHitEvent(seq: seq, keyID: keyID, atMs: atMs, hits: hits))
                }
            }
        }
    }

    /// The events of one key, oldest first, for `ratelimit events --key K`
    /// and the admin API. `namespace: nil` matches the key in every
    /// namespace; every rule's counter for the key is included.
    ///
    /// The events table has no per-key index (it would slow every append),
    /// so this scans the log: about a tenth of a second per million events.
    public func events(namespace: String? = nil, key: String) throws(StoreError) -> [HitEvent] {
        try read("reading the events of key \(key)") { db in
            var sql = "SELECT id, namespace, key, rule FROM keys WHERE key = ?"
            var arguments: StatementArguments = [key]
            if let namespace {
                sql += " AND namespace = ?"
                arguments += [namespace]
            }
            var matching: [Int64: EventKey] = [:]
            for row in try Row.fetchAll(db, sql: sql, arguments: arguments) {
                matching[row[0]] = EventKey(namespace: row[1], key: row[2], rule: row[3])
            }
            guard !matching.isEmpty else { return [] }

            var found: [HitEvent] = []
            try Self.scanEvents(db, after: 0) { seq, keyID, atMs, hits in
                if let key = matching[keyID] {
                    found.append(HitEvent(
                        seq: seq, namespace: key.namespace, key: key.key, rule: key.rule, atMs: atMs, hits: hits))
                }
            }
            return found
        }
    }

    /// Every key of the log indexed by id. Ids are assigned densely by
    /// SQLite's rowid and keys are never deleted, so an array is exact.
    static func loadKeyTable(_ db: Database) throws -> [EventKey?] {
        let maxID = try Int.fetchOne(db, sql: "SELECT max(id) FROM keys") ?? 0
        var table = [EventKey?](repeating: nil, count: maxID + 1)
        let rows = try Row.fetchCursor(db, sql: "SELECT id, namespace, key, rule FROM keys")
        while let row = try rows.next() {
            let id: Int = row[0]
            guard id > 0, id <= maxID else { continue }
            table[id] = EventKey(namespace: row[1], key: row[2], rule: row[3])
        }
        return table
    }

    /// The keys named by the events after `seq`, by id: one lookup by
    /// primary key per distinct key of the tail.
    static func loadKeys(_ db: Database, namedAfter seq: Int64) throws -> [Int64: EventKey] {
        var keys: [Int64: EventKey] = [:]
        let rows = try Row.fetchCursor(db, sql: """
            SELECT id, namespace, key, rule FROM keys
            WHERE id IN (SELECT DISTINCT key_id FROM events WHERE seq > ?)
            """, arguments: [seq])
        while let row = try rows.next() {
            keys[row[0]] = EventKey(namespace: row[1], key: row[2], rule: row[3])
        }
        return keys
    }

    /// Key strings by id: every key in an array (a full replay), or the
    /// tail's keys in a dictionary.
    enum KeyLookup {
        case dense([EventKey?])
        case sparse([Int64: EventKey])

        @inline(__always)
        subscript(id: Int64) -> EventKey? {
            switch self {
            case .dense(let table): id > 0 && id < table.count ? table[Int(id)] : nil
            case .sparse(let keys): keys[id]
            }
        }
    }

    /// Steps `SELECT seq, key_id, at_ms, hits ... WHERE seq > after` with the
    /// raw SQLite API: four integer columns per row, no `Row` allocation.
    static func scanEvents(
        _ db: Database, after seq: Int64,
        _ body: (_ seq: Int64, _ keyID: Int64, _ atMs: Int64, _ hits: Int) throws -> Void
    ) throws {
        let select = try db.makeStatement(
            sql: "SELECT seq, key_id, at_ms, hits FROM events WHERE seq > ? ORDER BY seq")
        let statement = select.sqliteStatement
        sqlite3_bind_int64(statement, 1, seq)
        defer { sqlite3_reset(statement) }
        while true {
            let code = sqlite3_step(statement)
            if code == SQLITE_ROW {
                try body(
                    sqlite3_column_int64(statement, 0),
                    sqlite3_column_int64(statement, 1),
                    sqlite3_column_int64(statement, 2),
                    Int(sqlite3_column_int64(statement, 3)))
            } else if code == SQLITE_DONE {
                return
            } else {
                throw DatabaseError(resultCode: ResultCode(rawValue: code), message: db.lastErrorMessage)
            }
        }
    }

    static func danglingKey(seq: Int64, keyID: Int64) -> DatabaseError {
        DatabaseError(
            resultCode: .SQLITE_CORRUPT,
            message: "event \(seq) refers to key id \(keyID), which is not in the keys table")
    }
}
