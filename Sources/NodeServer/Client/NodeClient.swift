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
        public enum Kind: Sendable {
            /// No connection: refused, unresolvable, unreachable, or not within 3 s.
            case connect
            /// Connected, but no whole response within the deadline.
            case timeout
            /// Connected, then the exchange failed: a refused TLS handshake, a reset.
            case exchange
        }

        public var kind: Kind
        /// One line: the URL and what went wrong, in words.
        public var message: String
        /// What went wrong alone, e.g. `connection refused`.
        public var reason: String
        public var description: String { message }

        init(_ kind: Kind, url: String, _ reason: String) {
            self.kind = kind
            self.reason = reason
            message = kind == .connect ? "cannot connect to \(url): \(reason)" : "\(url): \(reason)"
        }
    }

    /// A connect failure in words: NIO's errors print as nested dumps.
    static func reason(connecting error: any Error) -> String {
        if let error = error as? NIOConnectionError {
            if let failure = error.connectionErrors.first { return reason(connecting: failure.error) }
            if error.dnsAError != nil || error.dnsAAAAError != nil { return "cannot resolve \(error.host)" }
            return "no address for \(error.host)"
        }
        if let error = error as? IOError { return String(cString: strerror(error.errnoCode)).lowercased() }
        if let error = error as? ChannelError, case .connectTimeout(let amount) = error {
            return "no connection within \(amount.nanoseconds / 1_000_000) ms"
        }
        if let error = error as? SocketAddressError, case .unknown(let host, _) = error { return "cannot resolve \(host)" }
        return "\(error)"
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
            throw ClientError(.connect, url: "\(scheme)://\(host):\(port)", reason(connecting: error))
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
                    throw ClientError(.exchange, url: "\(scheme)://\(host):\(port)\(path)", "connection closed before the response ended")
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
                throw ClientError(.exchange, url: "\(scheme)://\(host):\(port)\(path)", "\(error)")
            }
            guard let first, let response = first else {
                channel.channel.close(promise: nil)
                throw ClientError(.timeout, url: "\(scheme)://\(host):\(port)\(path)", "no response within \(timeout)")
            }
            return response
        }
    }
}
