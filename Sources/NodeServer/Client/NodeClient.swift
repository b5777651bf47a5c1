import JSONCore
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL

/// A small HTTP/1.1 client for the CLI, the coordinator's webhooks and the
/// end-to-end tests: one connection per request, whole bodies, a deadline
/// on everything, and TLS when given a context (https).
public enum NodeClient {
    public struct Response: Sendable {
        public var status: Int
        public var headers: [(String, String)]
        public var body: [UInt8]

        public var text: String { String(decoding: body, as: UTF8.self) }
        public func header(_ name: String) -> String? {
            headers.first { $0.0.lowercased() == name.lowercased() }?.1
        }
        public var json: JSONValue? { try? JSONParser.parse(body) }
    }

    public struct ClientError: Error, Sendable, CustomStringConvertible {
        public var message: String
        public var description: String { message }
    }

    public static func request(
        _ method: HTTPMethod, host: String, port: Int, path: String,
        headers: [(String, String)] = [], body: [UInt8]? = nil,
        timeout: Duration = .seconds(10), tls: NIOSSLContext? = nil
    ) async throws -> Response {
        let scheme = tls == nil ? "http" : "https"
        // An IP address is checked against the certificate's IP names; a
        // host name also goes out as SNI and is checked against its DNS names.
        let serverName = (try? SocketAddress(ipAddress: host, port: 0)) == nil ? host : nil
        let channel: NIOAsyncChannel<HTTPClientResponsePart, HTTPClientRequestPart>
        do {
            channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .connectTimeout(.seconds(3))
                .channelOption(.socketOption(.tcp_nodelay), value: 1)
                .connect(host: host, port: port) { channel in
                    channel.eventLoop.makeCompletedFuture {
                        if let tls {
                            try channel.pipeline.syncOperations.addHandler(NIOSSLClientHandler(context: tls, serverHostname: serverName))
                        }
                        try channel.pipeline.syncOperations.addHTTPClientHandlers()
                        return try NIOAsyncChannel<HTTPClientResponsePart, HTTPClientRequestPart>(
                            wrappingChannelSynchronously: channel)
                    }
                }
        } catch {
            throw ClientError(message: "cannot connect to \(scheme)://\(host):\(port): \(error)")
        }
        return try await withThrowingTaskGroup(of: Response?.self) { group in
            group.addTask {
                try await channel.executeThenClose { inbound, outbound in
                    var head = HTTPRequestHead(version: .http1_1, method: method, uri: path)
                    head.headers.add(name: "host", value: "\(host):\(port)")
                    head.headers.add(name: "connection", value: "close")
                    for (name, value) in headers { head.headers.add(name: name, value: value) }
                    // Always a length: without one NIO frames the request as chunked, and a
                    // server that answers a bodiless GET and closes at once would make the
                    // chunk terminator's write fail after the answer arrived.
                    head.headers.add(name: "content-length", value: String(body?.count ?? 0))
                    if body != nil, !headers.contains(where: { $0.0.lowercased() == "content-type" }) {
                        head.headers.add(name: "content-type", value: "application/json")
                    }
                    try await outbound.write(.head(head))
                    if let body { try await outbound.write(.body(.byteBuffer(ByteBuffer(bytes: body)))) }
                    // The server may answer and close before this end marker is written;
                    // the answer is still read below.
                    try? await outbound.write(.end(nil))
                    var response = Response(status: 0, headers: [], body: [])
                    for try await part in inbound {
                        switch part {
                        case .head(let head):
                            response.status = Int(head.status.code)
                            response.headers = head.headers.map { ($0.name, $0.value) }
                        case .body(let buffer):
                            response.body.append(contentsOf: buffer.readableBytesView)
                        case .end:
                            return response
                        }
                    }
                    throw ClientError(message: "\(scheme)://\(host):\(port)\(path): connection closed before the response ended")
                }
            }
            group.addTask {
                try await Task.sleep(for: timeout)
                return nil
            }
            defer { group.cancelAll() }
            let first: Response??
            do {
                first = try await group.next()
            } catch let error as ClientError {
                throw error
            } catch {
                // A refused TLS handshake, a reset: name the request it failed.
                throw ClientError(message: "\(scheme)://\(host):\(port)\(path): \(error)")
            }
            guard let first, let response = first else {
                channel.channel.close(promise: nil)
                throw ClientError(message: "\(scheme)://\(host):\(port)\(path): no response within \(timeout)")
            }
            return response
        }
    }
}
