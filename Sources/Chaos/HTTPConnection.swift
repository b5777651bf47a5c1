import NIOCore
import NIOHTTP1
import NIOPosix
#if canImport(Glibc)
import Glibc
#endif

/// An HTTP/1.1 keep-alive connection to one node: one request at a time,
/// reused until it fails or the server closes it. The chaos clients keep one
/// per node, as a real client's connection pool does, so a killed node shows
/// up as a broken connection or a refused reconnect.
final class HTTPConnection: Sendable {
    struct Response: Sendable {
        var status: Int
        var body: [UInt8]
    }

    /// Why a request got no response; `description` is short and stable
    /// enough to count by (the report groups failures by it).
    struct Failure: Error, Sendable, CustomStringConvertible {
        var description: String
    }

    private let channel: any Channel
    let host: String
    let port: Int

    private init(channel: any Channel, host: String, port: Int) {
        self.channel = channel
        self.host = host
        self.port = port
    }

    static func connect(host: String, port: Int, timeout: TimeAmount) async throws(Failure) -> HTTPConnection {
        let address: SocketAddress
        do {
            address = try SocketAddress(ipAddress: host, port: port)
        } catch {
            throw Failure(description: "not an IP address: \(host)")
        }
        do {
            let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .connectTimeout(timeout)
                .channelOption(.socketOption(.tcp_nodelay), value: 1)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHTTPClientHandlers()
                        try channel.pipeline.syncOperations.addHandler(ExchangeHandler())
                    }
                }
                .connect(to: address).get()
            return HTTPConnection(channel: channel, host: host, port: port)
        } catch let error as IOError where error.errnoCode == ECONNREFUSED {
            throw Failure(description: "connection refused")
        } catch ChannelError.connectTimeout(_) {
            throw Failure(description: "connect timed out")
        } catch {
            throw Failure(description: "cannot connect: \(error)")
        }
    }

    /// Whether the connection can carry another request.
    var isOpen: Bool { channel.isActive }

    /// Sends one request and waits for the whole response, closing the
    /// connection if none arrives within `timeout`.
    func send(_ method: HTTPMethod, path: String, headers: [(String, String)] = [], body: [UInt8]? = nil,
              timeout: TimeAmount) async throws(Failure) -> Response {
        var head = HTTPRequestHead(version: .http1_1, method: method, uri: path)
        head.headers.add(name: "host", value: "\(host):\(port)")
        head.headers.add(name: "content-length", value: String(body?.count ?? 0))
        if body != nil { head.headers.add(name: "content-type", value: "application/json") }
        for (name, value) in headers { head.headers.add(name: name, value: value) }
        let promise = channel.eventLoop.makePromise(of: Response.self)
        let exchange = Exchange(head: head, body: body.map { ByteBuffer(bytes: $0) }, promise: promise)
        let channel = self.channel
        let timer = channel.eventLoop.scheduleTask(in: timeout) {
            // A completed promise ignores a second completion, so this races
            // a late answer harmlessly.
            promise.fail(Failure(description: "no response within \(timeout.nanoseconds / 1_000_000) ms"))
            channel.close(promise: nil)
        }
        channel.writeAndFlush(exchange).whenFailure { error in
            promise.fail(Failure(description: "write failed: \(error)"))
        }
        defer { timer.cancel() }
        do {
            return try await promise.futureResult.get()
        } catch let failure as Failure {
            throw failure
        } catch {
            throw Failure(description: "\(error)")
        }
    }

    func close() {
        channel.close(promise: nil)
    }
}

/// A request and the promise its response completes.
private struct Exchange: Sendable {
    var head: HTTPRequestHead
    var body: ByteBuffer?
    var promise: EventLoopPromise<HTTPConnection.Response>
}

/// Writes each ``Exchange`` as HTTP/1.1 parts and completes its promise with
/// the response that comes back, in order; fails whatever is waiting when
/// the connection closes or errs.
private final class ExchangeHandler: ChannelDuplexHandler {
    typealias InboundIn = HTTPClientResponsePart
    typealias OutboundIn = Exchange
    typealias OutboundOut = HTTPClientRequestPart

    private var waiting = CircularBuffer<EventLoopPromise<HTTPConnection.Response>>()
    private var response = HTTPConnection.Response(status: 0, body: [])

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let exchange = unwrapOutboundIn(data)
        waiting.append(exchange.promise)
        context.write(wrapOutboundOut(.head(exchange.head)), promise: nil)
        if let body = exchange.body { context.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: nil) }
        context.write(wrapOutboundOut(.end(nil)), promise: promise)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            response = HTTPConnection.Response(status: Int(head.status.code), body: [])
        case .body(let buffer):
            response.body.append(contentsOf: buffer.readableBytesView)
        case .end:
            waiting.popFirst()?.succeed(response)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        failAll("connection closed before the response")
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        failAll("connection error: \(error)")
        context.close(promise: nil)
    }

    private func failAll(_ reason: String) {
        while let promise = waiting.popFirst() { promise.fail(HTTPConnection.Failure(description: reason)) }
    }
}
