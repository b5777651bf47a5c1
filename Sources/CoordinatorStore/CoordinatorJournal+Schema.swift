import GRDB

extension CoordinatorJournal {
    /// The one migrator of the journal. Migration names are never edited: a
    /// schema change is a new migration appended at the end.
    static let migrator: DatabaseMigrator = {
        var migrator = DatabaseMigrator()

        migrator.registerMigration("v1-versions") { db in
            try db.execute(sql: "PRAGMA application_id = \(CoordinatorJournal.applicationID)")
            try db.execute(sql: """
                -- Immutable bundles; the newest `retainedVersions` are kept.
                -- position orders uploads (AUTOINCREMENT: never reused after
                -- pruning, so "newest" stays true).
                CREATE TABLE versions (
                    position INTEGER PRIMARY KEY AUTOINCREMENT,
                    id TEXT NOT NULL UNIQUE,
                    rules_hash TEXT NOT NULL,
                    rules TEXT NOT NULL,
                    vars TEXT NOT NULL,
                    tag TEXT,
                    message TEXT,
                    author TEXT NOT NULL,
                    created_at_ms INTEGER NOT NULL
                );
                -- Every id ever uploaded with its rules hash, never pruned:
                -- the staging gate must still recognise a version whose
                -- bundle was pruned.
                CREATE TABLE version_rules (
                    id TEXT PRIMARY KEY,
                    rules_hash TEXT NOT NULL
                ) WITHOUT ROWID;
                CREATE INDEX version_rules_by_hash ON version_rules (rules_hash);
                """)
        }

        migrator.registerMigration("v1-journal") { db in
            try db.execute(sql: """
                -- Append-only: rows are never updated or deleted.
                -- epoch, stable, canary, split_percent: the deployment pushed
                -- (all NULL when none was).
                CREATE TABLE journal (
                    seq INTEGER PRIMARY KEY AUTOINCREMENT,
                    at_ms INTEGER NOT NULL,
                    actor TEXT NOT NULL,
                    kind TEXT NOT NULL,
                    outcome TEXT NOT NULL,
                    version TEXT,
                    from_stable TEXT,
                    percent INTEGER,
                    epoch INTEGER,
                    stable TEXT,
                    canary TEXT,
                    split_percent INTEGER,
                    reason TEXT,
                    metrics TEXT,
                    forced INTEGER NOT NULL DEFAULT 0,
                    force_message TEXT,
                    CHECK ((epoch IS NULL) = (stable IS NULL) AND (epoch IS NULL) = (split_percent IS NULL))
                );
                CREATE INDEX journal_by_epoch ON journal (epoch) WHERE epoch IS NOT NULL;
                """)
        }

        migrator.registerMigration("v1-rollout-state") { db in
            try db.execute(sql: """
                -- The current Rollout (its Codable JSON) and the shell's
                -- baselines, replaced with each journal entry that changes them.
                CREATE TABLE rollout_state (
                    id INTEGER PRIMARY KEY CHECK (id = 1),
                    rollout TEXT NOT NULL,
                    baselines BLOB,
                    seq INTEGER NOT NULL,
                    saved_at_ms INTEGER NOT NULL
                );
                """)
        }

        migrator.registerMigration("v2-alert-state") { db in
            try db.execute(sql: """
                -- The alert evaluator (its Codable JSON: window and states),
                -- replaced after every evaluation, so firing alerts survive a restart.
                CREATE TABLE alert_state (
                    id INTEGER PRIMARY KEY CHECK (id = 1),
                    evaluator BLOB NOT NULL,
                    saved_at_ms INTEGER NOT NULL
                );
                """)
        }

        return migrator
    }()
}
