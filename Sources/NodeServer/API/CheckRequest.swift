import JSONCore
import LimiterCore

/// One validated check: which counter, how many hits.
public struct CheckRequest: Sendable, Hashable {
    public var key: String
    public var rule: String
    public var hits: Int

    public init(key: String, rule: String = "default", hits: Int = 1) {
        self.key = key
        self.rule = rule
        self.hits = hits
    }

    /// DESIGN §5 limits on what a client may send.
    public static let maxKeyBytes = 1024
    public static let maxHits: Int64 = 1 << 31
    public static let maxBodyBytes = 1 << 20
    public static let maxBatch = 10_000

    /// Validates one check object; `path` prefixes field names (`checks[3].`).
    public static func validate(_ value: JSONValue, path: String = "", rules: [String: Rule]) throws(APIProblem) -> CheckRequest {
        guard case .object(let members) = value else {
            throw .invalidField(path.isEmpty ? "body" : String(path.dropLast()), "expected an object, got \(value.typeName)")
        }
        var key: String?
        var rule = "default"
        var hits = 1
        for (name, member) in members {
            switch name {
            case "key":
                guard case .string(let string) = member else {
                    throw .invalidField(path + "key", "expected string, got \(member.typeName)")
                }
                key = string
            case "rule":
                guard case .string(let string) = member else {
                    throw .invalidField(path + "rule", "expected string, got \(member.typeName)")
                }
                rule = string
            case "hits":
                switch member {
                case .integer(let n):
                    guard n >= 0 else { throw .invalidField(path + "hits", "must not be negative, got \(n)") }
                    guard n <= maxHits else { throw .invalidField(path + "hits", "must be at most 2^31 (\(maxHits)), got \(n)") }
                    hits = Int(n)
                case .double(let d):
                    throw .invalidField(path + "hits", "expected a whole number, got \(d)")
                default:
                    throw .invalidField(path + "hits", "expected integer, got \(member.typeName)")
                }
            default:
                continue  // Unknown members are ignored so clients can send extra context.
            }
        }
        guard let key else { throw .invalidField(path + "key", "is required") }
        guard !key.isEmpty else { throw .invalidField(path + "key", "must not be empty") }
        guard key.utf8.count <= maxKeyBytes else {
            throw .invalidField(path + "key", "must be at most \(maxKeyBytes) bytes, got \(key.utf8.count)")
        }
        guard rules[rule] != nil else { throw .unknownRule(path + "rule", rule, known: Array(rules.keys)) }
        return CheckRequest(key: key, rule: rule, hits: hits)
    }

    /// Parses and validates a `POST /v1/check` body.
    public static func parseSingle(_ body: UnsafeRawBufferPointer, rules: [String: Rule]) throws(APIProblem) -> CheckRequest {
        let value: JSONValue
        do { value = try JSONParser.parse(body) } catch { throw .malformedJSON(error.reason, offset: error.offset) }
        return try validate(value, rules: rules)
    }

    /// Parses and validates a `POST /v1/check/batch` body.
    public static func parseBatch(_ body: UnsafeRawBufferPointer, rules: [String: Rule]) throws(APIProblem) -> [CheckRequest] {
        let value: JSONValue
        do { value = try JSONParser.parse(body) } catch { throw .malformedJSON(error.reason, offset: error.offset) }
        guard case .object = value else { throw .invalidField("body", "expected an object, got \(value.typeName)") }
        guard let checks = value[member: "checks"] else { throw .invalidField("checks", "is required") }
        guard case .array(let items) = checks else { throw .invalidField("checks", "expected array, got \(checks.typeName)") }
        guard items.count <= maxBatch else { throw .batchTooLarge(count: items.count, limit: maxBatch) }
        var requests: [CheckRequest] = []
        requests.reserveCapacity(items.count)
        for (index, item) in items.enumerated() {
            requests.append(try validate(item, path: "checks[\(index)].", rules: rules))
        }
        return requests
    }
}
