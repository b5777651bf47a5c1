import NIOCore
import NIOHTTP1

/// A whole request as the node's routes see it: head plus aggregated body.
public struct HTTPRequest: Sendable {
    public var method: HTTPMethod
    public var path: String
    public var query: [String: String]
    public var headers: HTTPHeaders
    public var body: ByteBuffer

    public init(method: HTTPMethod, uri: String, headers: HTTPHeaders, body: ByteBuffer) {
        self.method = method
        self.headers = headers
        self.body = body
        if let mark = uri.firstIndex(of: "?") {
            path = String(uri[..<mark])
            query = Self.parseQuery(uri[uri.index(after: mark)...])
        } else {
            path = uri
            query = [:]
        }
    }

    static func parseQuery(_ text: Substring) -> [String: String] {
        var query: [String: String] = [:]
        for pair in text.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1)
            let name = percentDecode(parts[0])
            query[name] = parts.count > 1 ? percentDecode(parts[1]) : ""
        }
        return query
    }

    static func percentDecode(_ text: Substring) -> String {
        var bytes: [UInt8] = []
        var iterator = Array(text.utf8).makeIterator()
        while let byte = iterator.next() {
            if byte == UInt8(ascii: "+") {
                bytes.append(UInt8(ascii: " "))
            } else if byte == UInt8(ascii: "%"), let high = iterator.next(), let low = iterator.next(),
                      let value = UInt8(String(decoding: [high, low], as: UTF8.self), radix: 16) {
                bytes.append(value)
            } else {
                bytes.append(byte)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
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
