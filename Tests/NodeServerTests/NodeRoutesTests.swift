import NIOCore
import JSONCore
import NIOHTTP1
@testable import NodeServer
import TestSupport
import Testing

/// The node's routes by method (DESIGN §5): each path answers its own
/// method and refuses the others with a 405 problem naming both.
struct NodeRoutesTests {
    @Test("GET and HEAD on /health and /metrics answer; any other method on them, or GET on a check route, is a 405 naming method and path")
    func methods() async throws {
        let directory = try TemporaryDirectory(prefix: "node-routes")
        let node = StoreFaultFixture(path: directory.file("events.sqlite"))
        defer { node.close() }

        #expect(try await node.respond(.GET, "/health").status == .ok)
        #expect(try await node.respond(.HEAD, "/health").status == .ok)
        #expect(try await node.respond(.HEAD, "/metrics").status == .ok)
        let metrics = try await node.respond(.GET, "/metrics")
        #expect(metrics.status == .ok && metrics.contentType.hasPrefix("text/plain"))

        for (method, path) in [(HTTPMethod.POST, "/health"), (.DELETE, "/health"), (.POST, "/metrics"), (.PUT, "/metrics"),
                               (.GET, "/v1/check"), (.GET, "/v1/check/batch")] {
            let answer = try await node.respond(method, path)
            #expect(answer.status == .methodNotAllowed, "\(method) \(path): \(answer.status)")
            #expect(answer.contentType == "application/problem+json", "\(method) \(path)")
            #expect(answer.json?[member: "detail"] == .string("\(method) is not allowed on \(path)"), "\(String(decoding: answer.body, as: UTF8.self))")
        }
    }
}

/// Query strings as clients send them, well-formed or not (DESIGN §5: bad
/// input gets a 400 naming the field; nothing a client sends may crash a node).
struct QueryParsingTests {
    @Test("pairs without a name or without a value parse, and never trap: ?=, ?==, ?&&, ?a, ?a=")
    func oddPairs() async throws {
        #expect(HTTPRequest(method: .GET, uri: "/health?=", headers: [:], body: ByteBuffer()).query.isEmpty)
        #expect(HTTPRequest(method: .GET, uri: "/health?==", headers: [:], body: ByteBuffer()).query.isEmpty)
        #expect(HTTPRequest(method: .GET, uri: "/health?&&", headers: [:], body: ByteBuffer()).query.isEmpty)
        let request = HTTPRequest(method: .GET, uri: "/x?a&b=&c=1=2&d=%41%2b+z", headers: [:], body: ByteBuffer())
        #expect(request.query == ["a": "", "b": "", "c": "1=2", "d": "A+ z"])
        #expect(request.malformedQueryParameter == nil)

        let directory = try TemporaryDirectory(prefix: "node-query")
        let node = StoreFaultFixture(path: directory.file("events.sqlite"))
        defer { node.close() }
        #expect(try await node.respond(.GET, "/health?=").status == .ok)
    }

    @Test("a % without two hex digits, or bytes that are not UTF-8, is a 400 naming the parameter, not another value")
    func malformedEscapes() async throws {
        for (uri, parameter) in [("/admin/events?key=50%off", "key"), ("/admin/events?key=%FF", "key"),
                                 ("/health?%ZZ=1", "%ZZ"), ("/metrics?rule=%4", "rule")] {
            let request = HTTPRequest(method: .GET, uri: uri, headers: [:], body: ByteBuffer())
            #expect(request.malformedQueryParameter == parameter, "\(uri)")
        }
        let directory = try TemporaryDirectory(prefix: "node-query")
        let node = StoreFaultFixture(path: directory.file("events.sqlite"))
        defer { node.close() }
        let answer = try await node.respond(.GET, "/admin/events?key=50%off&rule=API")
        #expect(answer.status == .badRequest)
        #expect(answer.json?[member: "field"] == .string("key"), "\(String(decoding: answer.body, as: UTF8.self))")
    }
}
