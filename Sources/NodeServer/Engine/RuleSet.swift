import LimiterCore
import Placement

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

    public static func contentVersion(of rules: [String: Rule]) -> String {
        let canonical = rules.values.sorted { $0.name < $1.name }.map { rule in
            "\(rule.name)|\(rule.namespaceID)|\(rule.limit)|\(rule.periodSeconds)|\(rule.algorithm.rawValue)|\(rule.burst)"
        }.joined(separator: "\n")
        let hash = StableHash.hash64(canonical)
        let hex = String(hash, radix: 16)
        return "v-" + String(repeating: "0", count: 16 - hex.count) + hex
    }
}
