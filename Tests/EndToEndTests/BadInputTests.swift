import JSONCore
import Foundation
import NIOCore
import NIOPosix
import NodeServer
import Testing

@Suite("Bad input gets a problem naming the field; the node stays up and its log valid", .serialized)
struct BadInputTests {
    struct Case: Sendable, CustomStringConvertible {
        var path = "/v1/check"
        var body: String
        var status: Int
        var field: String?
        var description: String { "\(path) \(body.prefix(60)) -> \(status) \(field ?? "")" }
    }

    static let cases: [Case] = [
        Case(body: "{\"key\": \"a\"", status: 400),
        Case(body: "not json", status: 400),
        Case(body: "", status: 400),
        Case(body: "[1,2]", status: 422, field: "body"),
        Case(body: "{\"key\": 42}", status: 422, field: "key"),
        Case(body: "{\"rule\": \"API\"}", status: 422, field: "key"),
        Case(body: "{\"key\": \"\"}", status: 422, field: "key"),
        Case(body: "{\"key\": \"\(String(repeating: "x", count: 1025))\"}", status: 422, field: "key"),
        Case(body: "{\"key\": \"a\", \"rule\": 7}", status: 422, field: "rule"),
        Case(body: "{\"key\": \"a\", \"rule\": \"NOPE\"}", status: 422, field: "rule"),
        Case(body: "{\"key\": \"a\", \"hits\": -1}", status: 422, field: "hits"),
        Case(body: "{\"key\": \"a\", \"hits\": 2147483649}", status: 422, field: "hits"),
        Case(body: "{\"key\": \"a\", \"hits\": 1.5}", status: 422, field: "hits"),
        Case(body: "{\"key\": \"a\", \"hits\": \"3\"}", status: 422, field: "hits"),
        Case(path: "/v1/check/batch", body: "{\"checks\": 5}", status: 422, field: "checks"),
        Case(path: "/v1/check/batch", body: "{}", status: 422, field: "checks"),
        Case(path: "/v1/check/batch", body: "{\"checks\": [{\"key\": \"a\"}, {\"key\": \"b\", \"hits\": -2}]}", status: 422,
             field: "checks[1].hits"),
        Case(path: "/v1/check/batch",
             body: "{\"checks\": [" + Array(repeating: "{\"key\":\"a\",\"hits\":0}", count: 10_001).joined(separator: ",") + "]}",
             status: 413, field: "checks"),
        Case(body: "{\"key\": \"" + String(repeating: "y", count: 1_048_577) + "\"}", status: 413, field: "body"),
    ]

    @Test("every bad request of DESIGN §5 gets its status and a problem+json naming the field")
    func badRequests() async throws {
        let cluster = try NodeProcessCluster(nodeCount: 1)
        try cluster.startAll()
        try await cluster.waitHealthy("n1")
        for testCase in Self.cases {
            let response = try await cluster.post("n1", path: testCase.path, body: testCase.body)
            #expect(response.status == testCase.status, "\(testCase)")
            #expect(response.header("content-type") == "application/problem+json", "\(testCase)")
            let problem = try #require(response.json, "\(testCase): body \(response.text.prefix(200))")
            #expect(problem[member: "status"]?.int == Int64(testCase.status), "\(testCase)")
            #expect(problem[member: "detail"]?.string?.isEmpty == false, "\(testCase)")
            if let field = testCase.field {
                #expect(problem[member: "field"]?.string == field, "\(testCase): \(response.text.prefix(300))")
            }
        }
        // Nothing bad was logged: only this good hit.
        let good = try await cluster.check("n1", key: "a", rule: "EXACT")
        #expect(good.json?[member: "remaining"]?.int == 6)
        await cluster.stopAll()
    }

    @Test("random bytes, truncated bodies and dropped connections never take the node down or corrupt its log")
    func garbageOnTheWire() async throws {
        let cluster = try NodeProcessCluster(nodeCount: 1)
        let process = try cluster.start("n1")
        try await cluster.waitHealthy("n1")
        let port = cluster.node("n1").httpPort
        var generator = SystemRandomNumberGenerator()
        for round in 0..<60 {
            var bytes: [UInt8]
            switch round % 3 {
            case 0:  // Random bytes, no HTTP at all.
                bytes = (0..<Int.random(in: 1...512, using: &generator)).map { _ in UInt8.random(in: 0...255, using: &generator) }
            case 1:  // A request whose body stops short of its Content-Length.
                let body = "{\"key\": \"t\", \"rule\": \"EXACT\", \"hits\": 1}"
                bytes = Array("POST /v1/check HTTP/1.1\r\nhost: x\r\ncontent-length: \(body.utf8.count + 40)\r\n\r\n\(body)".utf8)
            default:  // Valid head, random JSON-ish body.
                let body = (0..<Int.random(in: 1...200, using: &generator)).map { _ in
                    Array("{}[],:\"0123456789aeflnrstu\\ ".utf8).randomElement(using: &generator)!
                }
                bytes = Array("POST /v1/check HTTP/1.1\r\nhost: x\r\ncontent-length: \(body.count)\r\n\r\n".utf8) + body
            }
            try await RawSocket.sendAndClose(bytes, port: port)
        }
        let health = try await cluster.get("n1", path: "/health")
        #expect(health.status == 200)
        for _ in 0..<3 { _ = try await cluster.check("n1", key: "after", rule: "EXACT") }
        await process.stop()
        #expect(process.exitStatus == 0)

        // The log replays and holds exactly the good hits.
        try cluster.start("n1")
        try await cluster.waitHealthy("n1")
        let after = try await cluster.check("n1", key: "after", rule: "EXACT", hits: 0)
        #expect(after.json?[member: "remaining"]?.int == 4)
        let junk = try await cluster.check("n1", key: "t", rule: "EXACT", hits: 0)
        #expect(junk.json?[member: "remaining"]?.int == 7)
        await cluster.stopAll()
    }
}

/// Writes raw bytes to a TCP port and closes, reading whatever comes back.
enum RawSocket {
    static func sendAndClose(_ bytes: [UInt8], port: Int) async throws {
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connectTimeout(.seconds(2))
            .connect(host: "127.0.0.1", port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                }
            }
        try await channel.executeThenClose { _, outbound in
            try await outbound.write(ByteBuffer(bytes: bytes))
        }
    }
}
