extension Rule {
    /// Builds a rule, refusing the values DESIGN.md §3 calls errors instead of letting them
    /// become silent NaNs as the seed did: an empty name, a non-positive or too large limit,
    /// period or burst.
    public static func validated(
        name: String,
        namespaceID: String = "",
        limit: Int,
        periodSeconds: Int,
        algorithm: Algorithm,
        burst: Int? = nil
    ) throws(RuleError) -> Rule {
        let rule = Rule(
            name: name, namespaceID: namespaceID, limit: limit,
            periodSeconds: periodSeconds, algorithm: algorithm, burst: burst
        )
        try rule.validate()
        return rule
    }

    /// Throws the first problem with this rule's fields, naming the field and the rule.
    public func validate() throws(RuleError) {
        if name.isEmpty {
            throw RuleError(code: .emptyName, message: "rule name must not be empty")
        }
        if !Self.limitRange.contains(limit) {
            throw RuleError(
                code: .invalidLimit,
                message: "rule \"\(name)\": limit must be in \(Self.limitRange), got \(limit)"
            )
        }
        if !Self.periodSecondsRange.contains(periodSeconds) {
            throw RuleError(
                code: .invalidPeriod,
                message: "rule \"\(name)\": period must be in \(Self.periodSecondsRange) seconds, got \(periodSeconds)"
            )
        }
        if !Self.limitRange.contains(burst) {
            throw RuleError(
                code: .invalidBurst,
                message: "rule \"\(name)\": burst must be in \(Self.limitRange), got \(burst)"
            )
        }
    }
}

/// A rule whose fields cannot be enforced. `code` is stable for tools; `message` names the
/// rule and field for people.
public struct RuleError: Error, Sendable, Hashable, CustomStringConvertible {
    public struct Code: RawRepresentable, Sendable, Hashable, CustomStringConvertible {
        public var rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }

        public static let emptyName = Code(rawValue: "rule_empty_name")
        public static let invalidLimit = Code(rawValue: "rule_invalid_limit")
        public static let invalidPeriod = Code(rawValue: "rule_invalid_period")
        public static let invalidBurst = Code(rawValue: "rule_invalid_burst")
    }

    public var code: Code
    public var message: String

    public init(code: Code, message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(code): \(message)" }
}
