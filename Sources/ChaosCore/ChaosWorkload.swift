import LimiterCore

/// What the chaos clients send: rules with small limits and the keys they hit,
/// each key under one rule.
///
/// The window rules have periods far longer than any run (3600 s), so
/// "admitted <= limit" is exact for them without any doubt about which window
/// a hit fell in; the rate rules refill slowly, so their bound
/// `burst + limit * elapsed / period` stays close to the burst; one short
/// fixed window (5 s) shows the conservative judging of hits near a window
/// edge (``AdmissionJudge``).
public struct ChaosWorkload: Sendable, Hashable {
    /// One key the clients hit, and the rule its checks name.
    public struct Key: Sendable, Hashable {
        public var name: String
        public var rule: String

        public init(name: String, rule: String) {
            self.name = name
            self.rule = rule
        }
    }

    public static let defaultRules: [Rule] = [
        Rule(name: "CHAOS_LOG", namespaceID: "9001", limit: 8, periodSeconds: 3600, algorithm: .slidingLog),
        Rule(name: "CHAOS_FIXED", namespaceID: "9002", limit: 6, periodSeconds: 3600, algorithm: .fixedWindow),
        Rule(name: "CHAOS_SLIDING", namespaceID: "9003", limit: 6, periodSeconds: 3600, algorithm: .slidingWindow),
        Rule(name: "CHAOS_BUCKET", namespaceID: "9004", limit: 1, periodSeconds: 600, algorithm: .tokenBucket, burst: 6),
        Rule(name: "CHAOS_GCRA", namespaceID: "9005", limit: 1, periodSeconds: 600, algorithm: .gcra, burst: 5),
        Rule(name: "CHAOS_SHORT", namespaceID: "9006", limit: 3, periodSeconds: 5, algorithm: .fixedWindow),
    ]

    public let rules: [Rule]
    public let keys: [Key]

    /// `keyCount` keys, dealt to the rules in turn (key `i` gets rule `i % rules.count`).
    public init(rules: [Rule] = ChaosWorkload.defaultRules, keyCount: Int) {
        precondition(!rules.isEmpty && keyCount > 0, "a workload needs rules and keys")
        self.rules = rules
        keys = (0..<keyCount).map { index in
            let rule = rules[index % rules.count]
            return Key(name: "chaos:\(rule.name.lowercased()):\(index)", rule: rule.name)
        }
    }

    public func rule(named name: String) -> Rule? {
        rules.first { $0.name == name }
    }

    /// The rules as wrangler.toml `[[ratelimits]]` tables (DESIGN §3).
    public var wranglerRules: String {
        rules.map { rule in
            var table = """
                [[ratelimits]]
                name = "\(rule.name)"
                namespace_id = "\(rule.namespaceID)"
                simple = { limit = \(rule.limit), period = \(rule.periodSeconds) }
                algorithm = "\(rule.algorithm.rawValue)"

                """
            if rule.algorithm == .tokenBucket || rule.algorithm == .gcra {
                table += "burst = \(rule.burst)\n"
            }
            return table
        }.joined(separator: "\n")
    }
}
