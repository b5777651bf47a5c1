import JSONCore
import LimiterCore

/// A decision as the HTTP API reports it (DESIGN §5).
public struct CheckResult: Sendable, Hashable {
    public var decision: Decision
    public var rule: String
    public var version: String
    public var node: String

    public init(decision: Decision, rule: String, version: String, node: String) {
        self.decision = decision
        self.rule = rule
        self.version = version
        self.node = node
    }

    func write(to writer: inout JSONWriter) {
        writer.beginObject()
        writer.field("allowed", decision.allowed)
        writer.field("limit", decision.limit)
        writer.field("remaining", decision.remaining)
        writer.field("reset_ms", decision.resetMs)
        writer.field("retry_after_ms", decision.retryAfterMs)
        writer.field("rule", rule)
        writer.field("version", version)
        writer.field("node", node)
        writer.endObject()
    }

    public var json: [UInt8] {
        var writer = JSONWriter(capacity: 192)
        write(to: &writer)
        return writer.bytes
    }

    /// Headers of draft-ietf-httpapi-ratelimit-headers (Structured Fields form):
    /// `RateLimit-Policy: "API";q=100;w=60`, `RateLimit: "API";r=42;t=17`, and
    /// `Retry-After` in whole seconds (at least 1) when denied (RFC 9110 §10.2.3).
    public func headers(periodSeconds: Int) -> [(String, String)] {
        let name = Self.structuredString(rule)
        var headers = [
            ("RateLimit-Policy", "\(name);q=\(decision.limit);w=\(periodSeconds)"),
            ("RateLimit", "\(name);r=\(decision.remaining);t=\(Self.ceilSeconds(decision.resetMs))"),
        ]
        if !decision.allowed {
            headers.append(("Retry-After", String(max(1, Self.ceilSeconds(decision.retryAfterMs)))))
        }
        return headers
    }

    /// Whole seconds, rounded up; cannot overflow, whatever `ms` a peer sent.
    static func ceilSeconds(_ ms: Int64) -> Int64 { ms <= 0 ? 0 : ms / 1000 + (ms % 1000 == 0 ? 0 : 1) }

    /// An sf-string (RFC 8941 §3.3.3): quotes and backslashes escaped; rule
    /// names are validated ASCII so nothing else needs care.
    static func structuredString(_ value: String) -> String {
        var out = "\""
        for character in value.unicodeScalars {
            if character == "\"" || character == "\\" { out.append("\\") }
            if character.value >= 0x20 && character.value < 0x7F { out.unicodeScalars.append(character) }
        }
        out.append("\"")
        return out
    }
}

extension Array where Element == CheckResult {
    /// `{"results": [...]}` for `POST /v1/check/batch`.
    public var batchJSON: [UInt8] {
        var writer = JSONWriter(capacity: 160 * count + 16)
        writer.beginObject()
        writer.key("results")
        writer.beginArray()
        for result in self { result.write(to: &writer) }
        writer.endArray()
        writer.endObject()
        return writer.bytes
    }
}
