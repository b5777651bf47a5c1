import LimiterCore
import CoordinatorStore

/// The rules a node enforces, with the version id clients see in responses.
///
/// A version is identified by the hash of its canonical content (DESIGN §7),
/// so the same wrangler.toml yields the same id on every node.
public struct RuleSet: Sendable, Hashable {
    public var rules: [String: Rule]
    public var version: String

    public init(rules: [String: Rule], version: String? = nil) {
        self.rules = rules
        self.version = version ?? Self.contentVersion(of: rules)
    }

    /// The content hash the coordinator also computes for an uploaded
    /// version (``VersionID``): one implementation, so they always agree.
    public static func contentVersion(of rules: [String: Rule]) -> String {
        VersionID.of(Array(rules.values))
    }
}
