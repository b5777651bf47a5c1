import GRDB

extension EventLog {
    /// Applies the Durable Object class migrations of wrangler.toml that this
    /// store has not applied yet, in order, and returns their tags.
    ///
    /// Cloudflare's rules (https://developers.cloudflare.com/durable-objects/reference/durable-objects-migrations/):
    /// each tag is applied once; the list only ever grows at its end. So the
    /// tags already recorded must be exactly the list's prefix, in the same
    /// positions, or this fails with `store.migration_order` naming the tag.
    /// `new_classes` must not exist yet, a rename's source must exist and its
    /// target must not, a deleted class must exist (`store.migration_conflict`).
    /// Everything happens in one transaction: on any error nothing is applied.
    @discardableResult
    public func applyMigrations(
        _ migrations: [ClassMigration], at appliedAtMs: Int64 = EventLog.wallClockMs()
    ) throws(StoreError) -> [String] {
        let path = self.path
        func fail(_ code: StoreError.Code, _ message: String) -> StoreError {
            StoreError(code: code, message: "\(message) (migrations of \(path))", path: path)
        }

        var seen = Set<String>()
        for migration in migrations where !seen.insert(migration.tag).inserted {
            throw fail(.migrationOrder, "migration tag '\(migration.tag)' appears twice")
        }

        return try writeTransaction("applying class migrations") { db in
            let recorded = try String.fetchAll(db, sql: "SELECT tag FROM class_migrations ORDER BY position")
            for (position, tag) in recorded.enumerated() {
                guard position < migrations.count else {
                    throw fail(.migrationOrder, "migration '\(tag)' was applied at position \(position + 1) but is missing from the list")
                }
                guard migrations[position].tag == tag else {
                    throw fail(
                        .migrationOrder,
                        "migration '\(migrations[position].tag)' is at position \(position + 1), where '\(tag)' was applied; applied migrations cannot be reordered or removed")
                }
            }

            var applied: [String] = []
            for position in recorded.count..<migrations.count {
                let migration = migrations[position]
                let tag = migration.tag
                func exists(_ name: String) throws -> Bool {
                    try Bool.fetchOne(db, sql: "SELECT 1 FROM classes WHERE name = ?", arguments: [name]) ?? false
                }
                for name in migration.newClasses {
                    guard try !exists(name) else {
                        throw fail(.migrationConflict, "migration '\(tag)' creates class '\(name)', which already exists")
                    }
                    try db.execute(sql: "INSERT INTO classes (name, created_tag) VALUES (?, ?)", arguments: [name, tag])
                }
                for rename in migration.renamedClasses {
                    guard try exists(rename.from) else {
                        throw fail(.migrationConflict, "migration '\(tag)' renames class '\(rename.from)', which does not exist")
                    }
                    guard try !exists(rename.to) else {
                        throw fail(.migrationConflict, "migration '\(tag)' renames '\(rename.from)' to '\(rename.to)', which already exists")
                    }
                    try db.execute(sql: "UPDATE classes SET name = ? WHERE name = ?", arguments: [rename.to, rename.from])
                }
                for name in migration.deletedClasses {
                    guard try exists(name) else {
                        throw fail(.migrationConflict, "migration '\(tag)' deletes class '\(name)', which does not exist")
                    }
                    try db.execute(sql: "DELETE FROM classes WHERE name = ?", arguments: [name])
                }
                try db.execute(
                    sql: "INSERT INTO class_migrations (tag, applied_at_ms, position) VALUES (?, ?, ?)",
                    arguments: [tag, appliedAtMs, position])
                applied.append(tag)
            }
            return applied
        }
    }

    /// The Durable Object classes that exist after the applied migrations, sorted.
    public func classes() throws(StoreError) -> [String] {
        try read("reading classes") { db in
            try String.fetchAll(db, sql: "SELECT name FROM classes ORDER BY name")
        }
    }

    /// The tags of the applied migrations, in the order they were applied.
    public func appliedMigrationTags() throws(StoreError) -> [String] {
        try read("reading applied migrations") { db in
            try String.fetchAll(db, sql: "SELECT tag FROM class_migrations ORDER BY position")
        }
    }
}
