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
