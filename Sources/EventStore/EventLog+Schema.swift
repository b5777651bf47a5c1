import GRDB

extension EventLog {
    /// The one migrator of the store. Migration names are never edited: a
    /// schema change is a new migration appended at the end.
    static let migrator: DatabaseMigrator = {
        var migrator = DatabaseMigrator()

        migrator.registerMigration("v1-keys-events") { db in
            try db.execute(sql: """
                CREATE TABLE keys (
                    id INTEGER PRIMARY KEY,
                    namespace TEXT NOT NULL,
                    key TEXT NOT NULL,
                    rule TEXT NOT NULL,
                    UNIQUE (namespace, key, rule)
                );
                CREATE INDEX keys_by_key ON keys (key);
                CREATE TABLE events (
                    seq INTEGER PRIMARY KEY,
                    key_id INTEGER NOT NULL,
                    at_ms INTEGER NOT NULL,
                    hits INTEGER NOT NULL
                );
                -- No index on key_id: keys are spread over the whole index,
                -- so each append transaction would dirty (and write to the
                -- WAL) one index page per distinct key, dividing the append
                -- rate by ten. Per-key queries are rare (CLI, admin) and scan.
                -- The high-water mark of seq. Kept apart from events so that
                -- compaction, which deletes old events, never lets SQLite hand
                -- out a seq twice.
                CREATE TABLE log_state (
                    id INTEGER PRIMARY KEY CHECK (id = 1),
                    last_seq INTEGER NOT NULL
                );
                INSERT INTO log_state (id, last_seq) VALUES (1, 0);
                """)
        }

        migrator.registerMigration("v1-snapshots") { db in
            try db.execute(sql: """
                CREATE TABLE snapshots (
                    seq INTEGER PRIMARY KEY,
                    taken_at_ms INTEGER NOT NULL,
                    state BLOB NOT NULL
                );
                """)
        }

        migrator.registerMigration("v1-durable-object-classes") { db in
            try db.execute(sql: """
                CREATE TABLE class_migrations (
                    tag TEXT PRIMARY KEY,
                    applied_at_ms INTEGER NOT NULL,
                    position INTEGER NOT NULL UNIQUE
                );
                CREATE TABLE classes (
                    name TEXT PRIMARY KEY,
                    created_tag TEXT NOT NULL
                );
                """)
        }

        migrator.registerMigration("v2-node-state") { db in
            // Small named values a node must keep across restarts, such as
            // the deployment it serves and the rule sets that deployment names.
            try db.execute(sql: """
                CREATE TABLE node_state (
                    name TEXT PRIMARY KEY,
                    value BLOB NOT NULL,
                    updated_at_ms INTEGER NOT NULL
                );
                """)
        }

        return migrator
    }()
}
