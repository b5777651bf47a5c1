import JSONCore
/// An RFC 9457 problem detail, sent as `application/problem+json`.
///
/// Every client error names the offending field (`checks[3].hits`) so an
/// operator can fix the request without reading the server's logs.
public struct APIProblem: Error, Sendable, Equatable {
    public var status: Int
    /// Stable machine-readable code, also the last path segment of `type`.
    public var code: String
    public var title: String
    public var detail: String
    public var field: String?

    public init(status: Int, code: String, title: String, detail: String, field: String? = nil) {
        self.status = status
        self.code = code
        self.title = title
        self.detail = detail
        self.field = field
    }

    public static func malformedJSON(_ reason: String, offset: Int) -> APIProblem {
        APIProblem(status: 400, code: "malformed-json", title: "Malformed JSON",
                   detail: "request body is not valid JSON: \(reason) at byte \(offset)")
    }

    public static func invalidField(_ field: String, _ detail: String) -> APIProblem {
        APIProblem(status: 422, code: "invalid-field", title: "Invalid field", detail: "\(field): \(detail)", field: field)
    }

    public static func unknownRule(_ field: String, _ rule: String, known: [String]) -> APIProblem {
        APIProblem(status: 422, code: "unknown-rule", title: "Unknown rule",
                   detail: "\(field): unknown rule \"\(rule)\" (known: \(known.sorted().joined(separator: ", ")))", field: field)
    }

    public static func bodyTooLarge(limit: Int) -> APIProblem {
        APIProblem(status: 413, code: "body-too-large", title: "Request body too large",
                   detail: "request body exceeds \(limit) bytes", field: "body")
    }

    public static func batchTooLarge(count: Int, limit: Int) -> APIProblem {
        APIProblem(status: 413, code: "batch-too-large", title: "Batch too large",
                   detail: "checks: \(count) checks exceed the limit of \(limit) per batch", field: "checks")
    }

    public static func malformedQuery(_ parameter: String) -> APIProblem {
        APIProblem(status: 400, code: "malformed-query", title: "Malformed query",
                   detail: "query parameter \(parameter): a % not followed by two hex digits, or not UTF-8", field: parameter)
    }

    public static func notFound(_ path: String) -> APIProblem {
        APIProblem(status: 404, code: "not-found", title: "Not found", detail: "no route for \(path)")
    }

    public static func methodNotAllowed(_ method: String, _ path: String) -> APIProblem {
        APIProblem(status: 405, code: "method-not-allowed", title: "Method not allowed", detail: "\(method) is not allowed on \(path)")
    }

    public static func unauthorized(tokenSent: Bool) -> APIProblem {
        APIProblem(status: 401, code: "unauthorized", title: "Unauthorized",
                   detail: tokenSent ? "the bearer token sent is not this server's ADMIN_TOKEN"
                                     : "admin routes need the header Authorization: Bearer <ADMIN_TOKEN>")
    }

    public static func unavailable(_ detail: String) -> APIProblem {
        APIProblem(status: 503, code: "unavailable", title: "Service unavailable", detail: detail)
    }

    public var json: [UInt8] {
        var writer = JSONWriter()
        writer.beginObject()
        writer.field("type", "https://ratelimit.dev/problems/\(code)")
        writer.field("title", title)
        writer.field("status", status)
        writer.field("detail", detail)
        if let field { writer.field("field", field) }
        writer.endObject()
        return writer.bytes
    }
}
