import NIOCore
import NIOHTTP1

/// A whole request as the node's routes see it: head plus aggregated body.
public struct HTTPRequest: Sendable {
    public var method: HTTPMethod
    public var path: String
    public var query: [String: String]
    /// The first query parameter whose name or value has a `%` not followed
    /// by two hex digits or is not UTF-8 once decoded; routes answer 400
    /// naming it instead of reading a value other than the one sent.
    public var malformedQueryParameter: String?
    public var headers: HTTPHeaders
    public var body: ByteBuffer

    public init(method: HTTPMethod, uri: String, headers: HTTPHeaders, body: ByteBuffer) {
        self.method = method
        self.headers = headers
        self.body = body
        if let mark = uri.firstIndex(of: "?") {
            path = String(uri[..<mark])
            (query, malformedQueryParameter) = Self.parseQuery(uri[uri.index(after: mark)...])
        } else {
            path = uri
            query = [:]
        }
    }

    /// `name=value` pairs split on `&`; a pair without `=` has the empty
    /// value, one with an empty name is skipped.
    static func parseQuery(_ text: Substring) -> (query: [String: String], malformed: String?) {
        var query: [String: String] = [:]
        var malformed: String?
        for pair in text.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard let rawName = parts.first, !rawName.isEmpty else { continue }
            guard let name = percentDecode(rawName) else {
                if malformed == nil { malformed = String(rawName) }
                continue
            }
            guard let value = parts.count > 1 ? percentDecode(parts[1]) : "" else {
                if malformed == nil { malformed = name }
                continue
            }
            query[name] = value
        }
        return (query, malformed)
    }

    /// `+` as space and `%XX` escapes; nil for a `%` without two hex digits
    /// or bytes that are not UTF-8.
    static func percentDecode(_ text: Substring) -> String? {
        var bytes: [UInt8] = []
        var iterator = Array(text.utf8).makeIterator()
        while let byte = iterator.next() {
            if byte == UInt8(ascii: "+") {
                bytes.append(UInt8(ascii: " "))
            } else if byte == UInt8(ascii: "%") {
                guard let high = iterator.next().flatMap(hexValue), let low = iterator.next().flatMap(hexValue) else { return nil }
                bytes.append(high << 4 | low)
            } else {
                bytes.append(byte)
            }
        }
        return String(validating: bytes, as: UTF8.self)
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}

/// A response to write: status, extra headers, body bytes.
public struct HTTPResponse: Sendable {
    public var status: HTTPResponseStatus
    public var contentType: String
    public var headers: [(String, String)]
    public var body: [UInt8]

    public init(status: HTTPResponseStatus = .ok, contentType: String = "application/json",
                headers: [(String, String)] = [], body: [UInt8]) {
        self.status = status
        self.contentType = contentType
        self.headers = headers
        self.body = body
    }

    public static func json(_ body: [UInt8], status: HTTPResponseStatus = .ok, headers: [(String, String)] = []) -> HTTPResponse {
        HTTPResponse(status: status, headers: headers, body: body)
    }

    public static func problem(_ problem: APIProblem) -> HTTPResponse {
        HTTPResponse(status: HTTPResponseStatus(statusCode: problem.status), contentType: "application/problem+json",
                     body: problem.json)
    }
}

/// A response now, or later (after a commit or a forwarded round trip).
public enum HTTPResult: Sendable {
    case ready(HTTPResponse)
    case pending(EventLoopFuture<HTTPResponse>)
}

/// What the HTTP handler calls for every complete request.
public protocol HTTPResponder: Sendable {
    func respond(to request: HTTPRequest, on eventLoop: any EventLoop) -> HTTPResult
}

/// A responder that answers `POST /v1/check`, the route nearly every client
/// calls, from the body bytes alone: no ``HTTPRequest``, no future.
protocol CheckResponder: Sendable {
    /// The answer when it is ready now; otherwise nil, and `committed` runs
    /// once with it, on any thread, when the hit's commit (or the owner's
    /// answer) arrives.
    func check(body: ByteBuffer, committed: @escaping @Sendable (CheckReply) -> Void) -> CheckReply?
}
