import LimiterCore

/// An immutable version of one environment's configuration: the rules and
/// vars read from wrangler.toml, with who made it, when and why
/// (DESIGN.md §7).
///
/// The id and the rules hash are computed from the rules when the bundle is
/// made, so they cannot disagree with its content: ``id`` is what every node
/// computes for the same rules (``VersionID``), and ``rulesHash`` is its hex
/// part, the value production's staging gate compares. Vars, tag, message,
/// author and time are carried but not hashed, so two bundles with the same
/// rules are the same version.
public struct VersionBundle: Sendable, Hashable {
    /// `v-` + 16 hex digits: ``VersionID/of(_:)`` of ``rules``.
    public let id: String
    /// The hash of the rules alone, equal to ``id`` without `v-`.
    public let rulesHash: String
    /// The rules, in canonical order (by name).
    public let rules: [Rule]
    /// The environment's vars (`[env.E] vars`), e.g. `ENVIRONMENT`.
    public let vars: [String: String]
    /// `deploy --tag`.
    public let tag: String?
    /// `deploy --message`.
    public let message: String?
    /// Who uploaded it.
    public let author: String
    /// When it was made, in ms since 1970.
    public let createdAtMs: Int64

    public init(
        rules: [Rule],
        vars: [String: String] = [:],
        tag: String? = nil,
        message: String? = nil,
        author: String,
        createdAtMs: Int64
    ) {
        self.rules = rules.sorted { $0.name != $1.name ? $0.name < $1.name : VersionID.line(for: $0) < VersionID.line(for: $1) }
        self.rulesHash = VersionID.rulesHash(of: rules)
        self.id = VersionID.prefix + self.rulesHash
        self.vars = vars
        self.tag = tag
        self.message = message
        self.author = author
        self.createdAtMs = createdAtMs
    }

    /// The names used by more than one rule, sorted; a bundle with any is
    /// refused, since nodes hold rules keyed by name.
    public var duplicateRuleNames: [String] {
        var seen: Set<String> = []
        var duplicates: Set<String> = []
        for rule in self.rules where !seen.insert(rule.name).inserted {
            duplicates.insert(rule.name)
        }
        return duplicates.sorted()
    }
}
