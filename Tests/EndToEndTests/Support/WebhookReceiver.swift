import JSONCore
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import Synchronization
import TestSupport

/// A real HTTP/1.1 server on a loopback port (SwiftNIO) standing in for
/// `ALERT_WEBHOOK_URL` (DESIGN §8): it records every request it gets, with
/// headers and body, and answers 500 to the first `failingFirst` deliveries
/// of each distinct body and 204 after, so a test sees what the coordinator
/// sent and that it retries each alert (a retry carries the same body).
/// Given a TLS context it serves https only.
final class WebhookReceiver: Sendable {
    struct Request: Sendable, CustomStringConvertible {
        var method: String
        var path: String
        var headers: [(String, String)]
        var body: [UInt8]
        /// The status this receiver answered it with.
        var answered: Int

        func header(_ name: String) -> String? {
            headers.first { $0.0.lowercased() == name.lowercased() }?.1
        }

        var json: JSONValue? { try? JSONParser.parse(body) }
        var text: String { String(decoding: body, as: UTF8.self) }
        var description: String { "\(method) \(path) -> \(answered): \(text)" }
    }

    private struct State {
        var requests: [Request] = []
        var failingFirst: Int
        var deliveries: [[UInt8]: Int] = [:]
    }

    let port: Int
    let https: Bool
    private let state: Mutex<State>

    private init(port: Int, https: Bool, failingFirst: Int) {
        self.port = port
        self.https = https
        state = Mutex(State(failingFirst: failingFirst))
    }

    /// `http(s)://127.0.0.1:PORT/PATH`, for ALERT_WEBHOOK_URL.
    func url(path: String = "/hooks/ratelimit") -> String { "\(https ? "https" : "http")://127.0.0.1:\(port)\(path)" }

    /// Every request so far, in arrival order.
    var requests: [Request] { state.withLock { $0.requests } }

    /// Serves on a fresh loopback port while `body` runs, then stops.
    static func serving<T>(failingFirst: Int = 0, tls: NIOSSLContext? = nil,
                           _ body: (WebhookReceiver) async throws -> T) async throws -> T {
        let server = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .bind(host: "127.0.0.1", port: 0) { channel in
                channel.eventLoop.makeCompletedFuture {
                    if let tls { try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: tls)) }
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    return try NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>(wrappingChannelSynchronously: channel)
                }
            }
        guard let port = server.channel.localAddress?.port else { throw TestFailure("the webhook receiver has no port") }
        let receiver = WebhookReceiver(port: port, https: tls != nil, failingFirst: failingFirst)
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                try await server.executeThenClose { connections in
                    try await withThrowingDiscardingTaskGroup { handlers in
                        for try await connection in connections {
                            handlers.addTask { try? await receiver.serve(connection) }
                        }
                    }
                }
            }
            defer { group.cancelAll() }
            let result = try await body(receiver)
            try? await server.channel.close()
            return result
        }
    }

    /// Reads one request, records it and answers; the client closes after one.
    private func serve(_ connection: NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>) async throws {
        try await connection.executeThenClose { inbound, outbound in
            var head: HTTPRequestHead?
            var body: [UInt8] = []
            for try await part in inbound {
                switch part {
                case .head(let received):
                    head = received
                    body = []
                case .body(let buffer):
                    body.append(contentsOf: buffer.readableBytesView)
                case .end:
                    guard let head else { continue }
                    let status = state.withLock { state -> Int in
                        state.deliveries[body, default: 0] += 1
                        let status = state.deliveries[body]! <= state.failingFirst ? 500 : 204
                        state.requests.append(Request(method: "\(head.method)", path: head.uri,
                                                      headers: head.headers.map { ($0.name, $0.value) }, body: body,
                                                      answered: status))
                        return status
                    }
                    let response = HTTPResponseHead(version: .http1_1, status: HTTPResponseStatus(statusCode: status),
                                                    headers: ["content-length": "0", "connection": "close"])
                    try await outbound.write(.head(response))
                    try await outbound.write(.end(nil))
                    return
                }
            }
        }
    }
}
