import JSONCore

/// One line of a trace: `{"t": ms, "key": "...", "rule": "API", "hits": 1}` (DESIGN.md §5,
/// `ratelimit simulate`). `rule` defaults to `default` and `hits` to 1, as in `POST /v1/check`;
/// other members are ignored.
public struct TraceEvent: Sendable, Hashable {
    public var t: Int64
    public var key: String
    public var rule: String
    public var hits: Int

    /// The HTTP API's bounds (DESIGN.md §5), so a trace means what the same checks sent to a
    /// node would.
    public static let maxKeyBytes = 1024
    public static let maxHits = 1 << 31

    public init(t: Int64, key: String, rule: String = "default", hits: Int = 1) {
        self.t = t
        self.key = key
        self.rule = rule
        self.hits = hits
    }

    /// Parses line `number` (1-based, for messages); nil for a blank line.
    public static func parse(line: String, number: Int) throws(TraceError) -> TraceEvent? {
        if line.utf8.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0D || $0 == 0x0A }) {
            return nil
        }
        let object: JSONValue
        do {
            object = try JSONParser.parse(line)
        } catch {
            throw TraceError(code: .malformedLine, line: number, field: nil,
                             detail: "malformed JSON: \(error.reason) at byte \(error.offset)")
        }
        guard case .object(let pairs) = object else {
            throw TraceError(code: .malformedLine, line: number, field: nil, detail: "malformed JSON: expected a JSON object")
        }
        // The last of duplicate members wins, as in most JSON readers.
        var members: [String: JSONValue] = [:]
        for (name, value) in pairs { members[name] = value }
        func invalid(_ field: String, _ detail: String) -> TraceError {
            TraceError(code: .invalidField, line: number, field: field, detail: detail)
        }

        guard let tValue = members["t"], tValue != .null else {
            throw TraceError(code: .missingField, line: number, field: "t", detail: "is missing")
        }
        guard let t = tValue.exactInteger else {
            throw invalid("t", "must be an integer number of ms, got \(tValue.article)")
        }

        guard let keyValue = members["key"], keyValue != .null else {
            throw TraceError(code: .missingField, line: number, field: "key", detail: "is missing")
        }
        guard case .string(let key) = keyValue else {
            throw invalid("key", "must be a string, got \(keyValue.article)")
        }
        guard !key.isEmpty else { throw invalid("key", "must not be empty") }
        guard key.utf8.count <= maxKeyBytes else {
            throw invalid("key", "is \(key.utf8.count) bytes, more than \(maxKeyBytes)")
        }

        var rule = "default"
        if let ruleValue = members["rule"], ruleValue != .null {
            guard case .string(let name) = ruleValue, !name.isEmpty else {
                throw invalid("rule", "must be a non-empty string, got \(ruleValue.article)")
            }
            rule = name
        }

        var hits = 1
        if let hitsValue = members["hits"], hitsValue != .null {
            guard let value = hitsValue.exactInteger else {
                throw invalid("hits", "must be an integer, got \(hitsValue.article)")
            }
            guard value >= 0 else { throw invalid("hits", "must not be negative, got \(value)") }
            guard value <= maxHits else { throw invalid("hits", "must be at most \(maxHits), got \(value)") }
            hits = Int(value)
        }
        return TraceEvent(t: t, key: key, rule: rule, hits: hits)
    }
}

extension JSONValue {
    /// The kind with its article, for messages ("got a string").
    var article: String {
        switch self {
        case .object: "an object"
        case .array: "an array"
        case .string: "a string"
        case .integer, .double: "a number"
        case .bool: "a boolean"
        case .null: "null"
        }
    }

    /// The value as an exact 64-bit integer: an integer literal, or a number with a zero
    /// fraction or an exponent that denotes one exactly (`1e3`, `1000.0`).
    var exactInteger: Int64? {
        switch self {
        case .integer(let value): return value
        case .double(let real):
            guard real.isFinite, real == real.rounded(), abs(real) < 9_007_199_254_740_992 else { return nil }  // 2^53
            return Int64(real)
        default: return nil
        }
    }
}
