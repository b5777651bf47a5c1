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
        let members: [String: JSONValue]
        do throws(JSONParser.Failure) {
            guard case .object(let object) = try JSONParser.parse(line) else {
                throw JSONParser.Failure(message: "expected a JSON object")
            }
            members = object
        } catch {
            throw TraceError(code: .malformedLine, line: number, field: nil, detail: "malformed JSON: \(error.message)")
        }
        func invalid(_ field: String, _ detail: String) -> TraceError {
            TraceError(code: .invalidField, line: number, field: field, detail: detail)
        }

        guard let tValue = members["t"], tValue != .null else {
            throw TraceError(code: .missingField, line: number, field: "t", detail: "is missing")
        }
        guard let t = tValue.integer else {
            throw invalid("t", "must be an integer number of ms, got \(tValue.kind)")
        }

        guard let keyValue = members["key"], keyValue != .null else {
            throw TraceError(code: .missingField, line: number, field: "key", detail: "is missing")
        }
        guard case .string(let key) = keyValue else {
            throw invalid("key", "must be a string, got \(keyValue.kind)")
        }
        guard !key.isEmpty else { throw invalid("key", "must not be empty") }
        guard key.utf8.count <= maxKeyBytes else {
            throw invalid("key", "is \(key.utf8.count) bytes, more than \(maxKeyBytes)")
        }

        var rule = "default"
        if let ruleValue = members["rule"], ruleValue != .null {
            guard case .string(let name) = ruleValue, !name.isEmpty else {
                throw invalid("rule", "must be a non-empty string, got \(ruleValue.kind)")
            }
            rule = name
        }

        var hits = 1
        if let hitsValue = members["hits"], hitsValue != .null {
            guard let value = hitsValue.integer else {
                throw invalid("hits", "must be an integer, got \(hitsValue.kind)")
            }
            guard value >= 0 else { throw invalid("hits", "must not be negative, got \(value)") }
            guard value <= maxHits else { throw invalid("hits", "must be at most \(maxHits), got \(value)") }
            hits = Int(value)
        }
        return TraceEvent(t: t, key: key, rule: rule, hits: hits)
    }
}
