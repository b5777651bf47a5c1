/// Identifies one counter: a rule name and the client-chosen key it limits.
///
/// Two rules limiting the same key never share state, just as two Cloudflare rate-limit
/// bindings keep separate counters for one key.
public struct CounterKey: Hashable, Sendable {
    public var rule: String
    public var key: String

    public init(rule: String, key: String) {
        self.rule = rule
        self.key = key
    }
}

extension CounterKey: Comparable {
    /// By rule, then key: the order counters are paged in when a node imports them.
    public static func < (lhs: CounterKey, rhs: CounterKey) -> Bool {
        (lhs.rule, lhs.key) < (rhs.rule, rhs.key)
    }
}
