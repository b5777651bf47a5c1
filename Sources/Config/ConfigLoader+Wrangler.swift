import Alerting
import Foundation
import LimiterCore

/// wrangler.toml's Cloudflare-shaped sections: bindings, migrations, vars, env.
extension ConfigLoader {
    static func parseWrangler(_ root: TableReader, into problems: inout [ConfigError]) -> WranglerConfig {
        var config = WranglerConfig()
        if let name = root.string("name", into: &problems) { config.name = name }
        if let main = root.string("main", into: &problems) { config.main = main }
        if let date = compatibilityDate(root, into: &problems) { config.compatibilityDate = date }
        config.migrations = parseMigrations(root, into: &problems)
        config.durableObjectBindings = parseBindings(root, migrations: config.migrations, into: &problems)
        if let vars = root.table("vars", into: &problems) {
            config.vars = parseVars(vars, into: &problems)
            checkEnvironmentVar(config.vars, in: vars, expected: implicitEnvironment, into: &problems)
        }
        var monitoring = ParsedMonitoring()
        if let table = root.table("monitoring", into: &problems) {
            monitoring = parseMonitoring(table, over: MonitoringThresholds(), into: &problems)
            config.monitoring = monitoring.table
        }
        config.environments = parseEnvironments(root, monitoringBase: monitoring.asBase, into: &problems)
        config.ratelimits = parseRules(root, into: &problems)
        return config
    }

    /// Accepts both `compatibility_date = "2024-01-22"` (Cloudflare's form) and
    /// the bare TOML date `2024-01-22`, which TOML parses as a date, not a string.
    private static func compatibilityDate(_ root: TableReader, into problems: inout [ConfigError]) -> String? {
        let key = "compatibility_date"
        let text: String
        switch root.entries[key] {
        case nil: return nil
        case .dateTime(let date)?: text = date
        case .string?: guard let value = root.string(key, into: &problems) else { return nil }; text = value
        case let node?:
            problems.append(root.error(.wrongType, key, "expected date string, got \(node.typeName) \(node.rendered)"))
            return nil
        }
        let shape = text.map { $0.isNumber ? "9" : String($0) }.joined()
        guard shape == "9999-99-99" else {
            problems.append(root.error(.invalidValue, key, "expected YYYY-MM-DD, got \"\(text)\""))
            return nil
        }
        return text
    }

    // MARK: - Durable objects

    private static func parseBindings(
        _ root: TableReader, migrations: [WranglerConfig.Migration], into problems: inout [ConfigError]
    ) -> [WranglerConfig.DurableObjectBinding] {
        guard let section = root.table("durable_objects", into: &problems) else { return [] }
        let (live, deletedBy) = liveClasses(after: migrations)
        var bindings: [WranglerConfig.DurableObjectBinding] = []
        var firstIndex: [String: String] = [:]
        for (_, binding) in section.tables("bindings", into: &problems) {
            let name = binding.string("name", required: true, into: &problems)
            let className = binding.string("class_name", required: true, into: &problems)
            if let name {
                if name.isEmpty {
                    problems.append(binding.error(.invalidValue, "name", "must not be empty"))
                } else if let first = firstIndex[name] {
                    problems.append(
                        binding.error(.duplicateBinding, "name", "duplicate binding name \"\(name)\" (first at \(first))"))
                } else {
                    firstIndex[name] = binding.path
                }
            }
            // A binding with script_name points at another worker's class,
            // whose migrations are not in this file.
            let external = binding.has("script_name")
            if let className, !external, !live.contains(className) {
                let detail =
                    deletedBy[className].map { "class \"\(className)\" is deleted by \($0)" }
                    ?? "class \"\(className)\" is never created by [[migrations]] (add it to new_classes)"
                problems.append(binding.error(.bindingClassMissing, "class_name", detail))
            }
            if let name, let className {
                bindings.append(.init(name: name, className: className))
            }
        }
        return bindings
    }

    /// Classes alive after applying `migrations` in order, and which
    /// migration deleted each deleted one.
    private static func liveClasses(after migrations: [WranglerConfig.Migration]) -> (Set<String>, [String: String]) {
        var live: Set<String> = []
        var deletedBy: [String: String] = [:]
        for (index, migration) in migrations.enumerated() {
            live.formUnion(migration.newClasses)
            for rename in migration.renamedClasses {
                live.remove(rename.from)
                live.insert(rename.to)
            }
            for deleted in migration.deletedClasses {
                live.remove(deleted)
                deletedBy[deleted] = "migrations[\(index)]"
            }
        }
        return (live, deletedBy.filter { !live.contains($0.key) })
    }

    // MARK: - Migrations

    /// `[[migrations]]`: each tag applied once per store, so tags must be
    /// non-empty and unique, and each step must make sense given the ones before.
    private static func parseMigrations(_ root: TableReader, into problems: inout [ConfigError])
        -> [WranglerConfig.Migration]
    {
        var migrations: [WranglerConfig.Migration] = []
        var firstTag: [String: String] = [:]
        var live: Set<String> = []
        for (_, entry) in root.tables("migrations", into: &problems) {
            let tag = entry.string("tag", required: true, into: &problems)
            if let tag {
                if tag.trimmingCharacters(in: .whitespaces).isEmpty {
                    problems.append(entry.error(.invalidMigration, "tag", "must not be empty"))
                } else if let first = firstTag[tag] {
                    problems.append(
                        entry.error(.invalidMigration, "tag", "duplicate tag \"\(tag)\" (first at \(first))"))
                } else {
                    firstTag[tag] = entry.path
                }
            }
            var migration = WranglerConfig.Migration(tag: tag ?? "")
            migration.newClasses =
                entry.strings("new_classes", into: &problems) + entry.strings("new_sqlite_classes", into: &problems)
            for (_, rename) in entry.tables("renamed_classes", into: &problems) {
                let from = rename.string("from", required: true, into: &problems)
                let to = rename.string("to", required: true, into: &problems)
                if let from, let to { migration.renamedClasses.append(.init(from: from, to: to)) }
            }
            migration.deletedClasses = entry.strings("deleted_classes", into: &problems)
            checkSteps(of: migration, in: entry, live: &live, into: &problems)
            migrations.append(migration)
        }
        return migrations
    }

    /// Cloudflare rejects creating an existing class or renaming/deleting a
    /// missing one; so do we, naming the migration.
    private static func checkSteps(
        of migration: WranglerConfig.Migration, in entry: TableReader,
        live: inout Set<String>, into problems: inout [ConfigError]
    ) {
        for name in migration.newClasses {
            if !live.insert(name).inserted {
                problems.append(entry.error(.invalidMigration, "new_classes", "class \"\(name)\" already exists"))
            }
        }
        for (index, rename) in migration.renamedClasses.enumerated() {
            let key = "renamed_classes[\(index)]"
            if live.remove(rename.from) == nil {
                problems.append(entry.error(.invalidMigration, key, "cannot rename \"\(rename.from)\": no such class"))
            }
            if !live.insert(rename.to).inserted {
                problems.append(entry.error(.invalidMigration, key, "cannot rename to \"\(rename.to)\": class exists"))
            }
        }
        for name in migration.deletedClasses where live.remove(name) == nil {
            problems.append(entry.error(.invalidMigration, "deleted_classes", "cannot delete \"\(name)\": no such class"))
        }
    }

    // MARK: - Environments

    /// `monitoringBase`: the top-level monitoring values each section's
    /// `monitoring` overrides (nil when they hold an invalid timing value).
    private static func parseEnvironments(
        _ root: TableReader, monitoringBase: MonitoringThresholds?, into problems: inout [ConfigError]
    ) -> [String: WranglerConfig.EnvironmentSection] {
        guard let env = root.table("env", into: &problems) else { return [:] }
        var sections: [String: WranglerConfig.EnvironmentSection] = [:]
        for name in env.entries.keys.sorted() {
            guard let table = env.table(name, into: &problems) else { continue }
            if !isEnvironmentName(name) {
                problems.append(env.error(.invalidValue, name, "environment names must match [a-z0-9_-]+"))
                continue
            }
            var section = WranglerConfig.EnvironmentSection()
            if let vars = table.table("vars", into: &problems) {
                section.vars = parseVars(vars, into: &problems)
                checkEnvironmentVar(section.vars, in: vars, expected: name, into: &problems)
            }
            section.routes = parseRoutes(table, into: &problems)
            if let monitoring = table.table("monitoring", into: &problems) {
                section.monitoring = parseMonitoring(monitoring, over: monitoringBase, into: &problems).table
            }
            sections[name] = section
        }
        return sections
    }

    /// A section's own `ENVIRONMENT` var must name that section: the selected
    /// name is the authority, and a mismatch is a copy-paste slip.
    private static func checkEnvironmentVar(
        _ vars: [String: String], in table: TableReader, expected: String, into problems: inout [ConfigError]
    ) {
        guard let named = vars["ENVIRONMENT"], named != expected else { return }
        problems.append(
            table.error(.invalidValue, "ENVIRONMENT", "must be \"\(expected)\" in this section, got \"\(named)\""))
    }

    /// The name appears in `cluster/<env>.toml` and certificate URIs, so no
    /// slashes, dots or spaces.
    static func isEnvironmentName(_ name: String) -> Bool {
        !name.isEmpty && name.unicodeScalars.allSatisfy { scalar in
            ("a"..."z").contains(scalar) || ("0"..."9").contains(scalar) || scalar == "-" || scalar == "_"
        }
    }

    /// `routes = [{ pattern, zone_id }]`, or bare pattern strings as wrangler allows.
    private static func parseRoutes(_ table: TableReader, into problems: inout [ConfigError])
        -> [WranglerConfig.Route]
    {
        guard let items = table.array("routes", into: &problems) else { return [] }
        var routes: [WranglerConfig.Route] = []
        for (index, item) in items.enumerated() {
            let path = "\(table.keyPath("routes"))[\(index)]"
            switch item {
            case .string(let pattern):
                routes.append(.init(pattern: pattern))
            case .table(let entries):
                let route = TableReader(file: table.file, path: path, entries: entries)
                let pattern = route.string("pattern", required: true, into: &problems)
                let zoneID = route.string("zone_id", into: &problems) ?? ""
                if let pattern { routes.append(.init(pattern: pattern, zoneID: zoneID)) }
            default:
                problems.append(
                    ConfigError(
                        .wrongType, file: table.file, key: path,
                        "expected table or string, got \(item.typeName) \(item.rendered)"))
            }
        }
        return routes
    }

    /// `vars` values as the strings a process environment would hold; numbers
    /// and booleans are accepted (wrangler allows them), tables and arrays not.
    static func parseVars(_ vars: TableReader, into problems: inout [ConfigError]) -> [String: String] {
        var result: [String: String] = [:]
        for (key, node) in vars.entries {
            switch node {
            case .string(let value): result[key] = value
            case .integer(let value): result[key] = String(value)
            case .float(let value): result[key] = String(value)
            case .boolean(let value): result[key] = String(value)
            default:
                problems.append(
                    vars.error(
                        .wrongType, key, "expected string, number or boolean, got \(node.typeName) \(node.rendered)"))
            }
        }
        return result
    }
}
