import LimiterCore
import Placement

/// The id of a rule-set version: `v-` + 16 lower-case hex digits of
/// ``Placement/StableHash`` over a canonical text of the rules (DESIGN.md §7).
///
/// Nodes name the version they serve by the same formula
/// (`RuleSet.contentVersion(of:)` in NodeServer), computed from the rules in
/// their own wrangler.toml, so a node started from the same file agrees with
/// the coordinator without being told. That is why the id covers the rules
/// only and never the vars: the nodes do not hash vars, and vars such as
/// `ENVIRONMENT` differ between environments by design, so the same rules
/// carry the same id on staging and production and the staging gate can
/// compare them. ``rulesHash(of:)`` is therefore the id's hex part.
///
/// One line per rule, sorted by name, joined by `\n`:
/// `name|namespace_id|limit|period_seconds|algorithm|burst`. Changing this
/// text changes every version id in every journal and on every node; the
/// exact values are pinned by tests.
public enum VersionID {
    /// The prefix of every version id.
    public static let prefix = "v-"

    /// The version id of `rules`, e.g. `v-0123456789abcdef`.
    public static func of(_ rules: some Collection<Rule>) -> String {
        prefix + rulesHash(of: rules)
    }

    /// The 16 hex digits that compare rules across environments: the
    /// version id without its `v-` prefix.
    public static func rulesHash(of rules: some Collection<Rule>) -> String {
        let hex = String(StableHash.hash64(canonicalText(of: rules)), radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex
    }

    /// The text that is hashed. Rules are sorted by name as nodes sort them;
    /// nodes hold rules keyed by name, so names are unique there, and the
    /// tie-break on the whole line only makes a list with duplicate names
    /// (which ``CoordinatorJournal/upload(_:)`` refuses) hash deterministically.
    public static func canonicalText(of rules: some Collection<Rule>) -> String {
        rules.map { (name: $0.name, line: line(for: $0)) }
            .sorted { $0.name != $1.name ? $0.name < $1.name : $0.line < $1.line }
            .map(\.line)
            .joined(separator: "\n")
    }

    /// True when `id` has the shape of a version id: `v-` and 16 lower-case hex digits.
    public static func isWellFormed(_ id: String) -> Bool {
        guard id.hasPrefix(prefix) else { return false }
        let hex = id.utf8.dropFirst(prefix.utf8.count)
        return hex.count == 16 && hex.allSatisfy { (0x30...0x39).contains($0) || (0x61...0x66).contains($0) }
    }

    static func line(for rule: Rule) -> String {
        "\(rule.name)|\(rule.namespaceID)|\(rule.limit)|\(rule.periodSeconds)|\(rule.algorithm.rawValue)|\(rule.burst)"
    }
}
