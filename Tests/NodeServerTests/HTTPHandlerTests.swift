import Foundation
import Logging
import NIOPosix
import NIOCore
import NIOEmbedded
import NIOHTTP1
@testable import NodeServer
import PeerTestSupport
import Synchronization
import Testing
import TestSupport

@Suite("The HTTP handler: NIO's server pipeline bytes, answers in request order")
struct HTTPHandlerTests {
    static let responses: [HTTPResponse] = [
        .json(Array(#"{"allowed":true}"#.utf8), headers: [("RateLimit-Policy", "\"API\";q=100;w=60"), ("RateLimit", "\"API\";r=9;t=60")]),
        .json(Array("{}".utf8), headers: [("Retry-After", "3")]),
        .problem(.malformedJSON("unexpected end of input", offset: 3)),
        .problem(.unknownRule("rule", "X", known: ["API"])),
        .problem(.bodyTooLarge(limit: 10)),
        .problem(.notFound("/x")),
        .problem(.methodNotAllowed("GET", "/v1/check")),
        .problem(.unauthorized(tokenSent: false)),
        .problem(.unavailable("draining")),
        HTTPResponse(contentType: "text/plain; version=0.0.4; charset=utf-8", body: Array("a 1\n".utf8)),
        .json([], status: .serviceUnavailable),
    ]

    /// What `configureHTTPServerPipeline` plus the old handler's three writes put on the wire.
    func nioBytes(_ response: HTTPResponse, request: String) throws -> [UInt8] {
        let channel = EmbeddedChannel()
        defer { _ = try? channel.finish() }
        try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
        try channel.writeInbound(ByteBuffer(string: request))
        var keepAlive = true
        while let part = try channel.readInbound(as: HTTPServerRequestPart.self) {
            if case .head(let head) = part { keepAlive = head.isKeepAlive }
        }
        var headers = HTTPHeaders()
        headers.add(name: "content-type", value: response.contentType)
        headers.add(name: "content-length", value: String(response.body.count))
        for (name, value) in response.headers { headers.add(name: name, value: value) }
        if !keepAlive { headers.add(name: "connection", value: "close") }
        channel.write(HTTPServerResponsePart.head(HTTPResponseHead(version: .http1_1, status: response.status, headers: headers)), promise: nil)
        channel.write(HTTPServerResponsePart.body(.byteBuffer(ByteBuffer(bytes: response.body))), promise: nil)
        try channel.writeAndFlush(HTTPServerResponsePart.end(nil)).wait()
        var bytes: [UInt8] = []
        while var buffer = try channel.readOutbound(as: IOData.self).map({ data -> ByteBuffer in
            guard case .byteBuffer(let buffer) = data else { preconditionFailure("file region") }
            return buffer
        }) {
            bytes += buffer.readBytes(length: buffer.readableBytes) ?? []
        }
        return bytes
    }

    func ownBytes(_ response: HTTPResponse, keepAlive: Bool, method: HTTPMethod) -> [UInt8] {
        var buffer = ByteBuffer()
        response.encode(into: &buffer, keepAlive: keepAlive, requestMethod: method)
        return Array(buffer.readableBytesView)
    }

    @Test("every response encodes to the bytes NIO's encoder wrote, for each method and keep-alive")
    func encodingMatchesNIO() throws {
        let requests: [(String, HTTPMethod, Bool)] = [
            ("POST /v1/check HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n", .POST, true),
            ("GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", .GET, false),
            ("GET /health HTTP/1.0\r\n\r\n", .GET, false),
            ("HEAD /health HTTP/1.1\r\nHost: x\r\n\r\n", .HEAD, true),
            ("CONNECT example.com:443 HTTP/1.1\r\nHost: example.com\r\n\r\n", .CONNECT, true),
        ]
        for response in Self.responses {
            for (request, method, keepAlive) in requests {
                let expected = try nioBytes(response, request: request)
                let own = ownBytes(response, keepAlive: keepAlive, method: method)
                #expect(own == expected, "\(method) \(response.status): \(String(decoding: own, as: UTF8.self))")
            }
        }
    }

    @Test("decimal digits are String(value)'s")
    func decimals() {
        for value: Int64 in [0, 1, 9, 10, 99, 100, 12_345, -1, -10, -987, .max, .min, 1 << 31, 999_999_999_999] {
            var buffer = ByteBuffer()
            let written = buffer.writeDecimal(value)
            #expect(String(buffer: buffer) == String(value))
            #expect(written == String(value).utf8.count)
            #expect(ByteBuffer.decimalLength(value) == written)
        }
    }

    /// Answers `/slow/<n>` later, when the test says, and everything else at once.
    final class Responder: HTTPResponder {
        let pending = Mutex<[String: EventLoopPromise<HTTPResponse>]>([:])

        func respond(to request: HTTPRequest, on eventLoop: any EventLoop) -> HTTPResult {
            let body = HTTPResponse.json(Array(request.path.utf8))
            guard request.path.hasPrefix("/slow/") else { return .ready(body) }
            let promise = eventLoop.makePromise(of: HTTPResponse.self)
            pending.withLock { $0[request.path] = promise }
            return .pending(promise.futureResult)
        }

        func answer(_ path: String) {
            let promise = pending.withLock { $0.removeValue(forKey: path) }
            promise?.succeed(.json(Array(path.utf8)))
        }
    }

    func handlerChannel(_ responder: any HTTPResponder) throws -> EmbeddedChannel {
        let channel = EmbeddedChannel()
        try channel.pipeline.syncOperations.addHandlers(
            ByteToMessageHandler(HTTPRequestDecoder(leftOverBytesStrategy: .dropBytes)),
            HTTPHandler(responder: responder, maxBody: 1 << 20)
        )
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 8080)).wait()
        return channel
    }

    /// Pipelined keep-alive `POST /v1/check` requests with these bodies.
    func checkRequests(_ bodies: [String]) -> String {
        bodies.map { "POST /v1/check HTTP/1.1\r\nHost: x\r\nContent-Length: \($0.utf8.count)\r\n\r\n\($0)" }.joined()
    }

    func output(_ channel: EmbeddedChannel) throws -> String {
        var text = ""
        while let buffer = try channel.readOutbound(as: ByteBuffer.self) { text += String(buffer: buffer) }
        return text
    }

    /// The bodies of the 200 answers in `text`, in order.
    func bodies(_ text: String) -> [String] {
        var bodies: [String] = []
        var rest = Substring(text)
        while let start = rest.range(of: "HTTP/1.1 200 OK\r\n"), let end = rest.range(of: "\r\n\r\n", range: start.upperBound..<rest.endIndex) {
            let head = rest[start.upperBound..<end.lowerBound]
            let length = head.split(separator: "\r\n").first { $0.hasPrefix("content-length: ") }
                .flatMap { Int($0.dropFirst("content-length: ".count)) } ?? 0
            let body = rest[end.upperBound...].utf8.prefix(length)
            bodies.append(String(decoding: body, as: UTF8.self))
            rest = rest[body.endIndex...]
        }
        return bodies
    }

    @Test("pipelined requests are answered in order even when a later answer is ready first")
    func pipelinedOrder() throws {
        let responder = Responder()
        let channel = try handlerChannel(responder)
        defer { _ = try? channel.finish() }
        let requests = ["/slow/1", "/fast/2", "/slow/3", "/fast/4"].map { "GET \($0) HTTP/1.1\r\nHost: x\r\n\r\n" }.joined()
        try channel.writeInbound(ByteBuffer(string: requests))
        #expect(try output(channel).isEmpty)
        responder.answer("/slow/1")
        channel.embeddedEventLoop.run()
        #expect(bodies(try output(channel)) == ["/slow/1", "/fast/2"])
        responder.answer("/slow/3")
        channel.embeddedEventLoop.run()
        #expect(bodies(try output(channel)) == ["/slow/3", "/fast/4"])
        #expect(channel.isActive)
    }

    /// Answers `POST /v1/check` bodies starting with "later" only when the test says.
    final class CheckStub: HTTPResponder, CheckResponder {
        let waiting = Mutex<[@Sendable () -> Void]>([])

        func respond(to request: HTTPRequest, on eventLoop: any EventLoop) -> HTTPResult {
            .ready(.json(Array(request.path.utf8)))
        }

        func check(body: ByteBuffer, committed: @escaping @Sendable (CheckReply) -> Void) -> CheckReply? {
            let text = String(buffer: body)
            let reply = CheckReply.response(.json(Array(text.utf8)))
            if text.hasPrefix("inline") {
                // Answered through the callback before `check` returns, as a
                // forward that fails at once is, on the caller's loop.
                committed(reply)
                return nil
            }
            guard text.hasPrefix("later") else { return reply }
            waiting.withLock { $0.append { committed(reply) } }
            return nil
        }

        func commitAll() {
            for answer in waiting.withLock({ waiting in defer { waiting = [] }; return waiting }) { answer() }
        }
    }

    @Test("check answers that arrive later on the loop are written at once, in request order")
    func checkAnswersInOrder() throws {
        let stub = CheckStub()
        let channel = try handlerChannel(stub)
        defer { _ = try? channel.finish() }
        try channel.writeInbound(ByteBuffer(string: checkRequests(["later1", "now2", "later3", "now4"]) + "GET /other HTTP/1.1\r\nHost: x\r\n\r\n"))
        #expect(try output(channel).isEmpty)
        // An embedded channel's test thread is its loop: an answer posted
        // there (as a forwarded check's, on its peer connection's loop) is
        // written at once, and the requests behind it are answered in turn
        // up to the next one still owed.
        stub.commitAll()
        #expect(bodies(try output(channel)) == ["later1", "now2"])
        stub.commitAll()
        #expect(bodies(try output(channel)) == ["later3", "now4", "/other"])
    }

    @Test("a check answered through its callback before the check call returns is written once, and the requests behind it are answered")
    func checkAnsweredBeforeReturning() throws {
        let stub = CheckStub()
        let channel = try handlerChannel(stub)
        defer { _ = try? channel.finish() }
        try channel.writeInbound(ByteBuffer(string: checkRequests(["inline1", "now2", "inline3"]) + "GET /other HTTP/1.1\r\nHost: x\r\n\r\n"))
        channel.embeddedEventLoop.run()
        #expect(bodies(try output(channel)) == ["inline1", "now2", "inline3", "/other"])
    }

    @Test("check answers posted from another thread, as a commit thread posts them, reach the client in request order over a real socket")
    func checkAnswersFromOffTheLoop() async throws {
        let stub = CheckStub()
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let server = try await HTTPServer(host: "127.0.0.1", port: 0, responder: stub, group: group,
                                          logger: Logger(label: "test"))
        let client = try LineClient(port: server.port)
        defer { client.close() }
        try client.send(checkRequests(["later1", "now2", "later3", "now4"]))
        // The first answer is owed; the rest wait behind it. Each wait gets
        // its own deadline, set when it starts: a suspended test may resume
        // seconds late on a loaded machine, and must not find it spent.
        try await poll("the first check owed", within: .seconds(30)) { !stub.waiting.withLock { $0.isEmpty } }
        stub.commitAll()  // This test's thread: not the server's event loop.
        var text = try client.receive(until: { bodies($0).count >= 2 }, deadline: .now + .seconds(10))
        #expect(bodies(text) == ["later1", "now2"])
        try await poll("the third check owed", within: .seconds(30)) { !stub.waiting.withLock { $0.isEmpty } }
        stub.commitAll()
        let before = text
        text += try client.receive(until: { bodies(before + $0).count >= 4 }, deadline: .now + .seconds(10))
        #expect(bodies(text) == ["later1", "now2", "later3", "now4"])
        try await server.channel.close()
        try await group.shutdownGracefully()
    }

    /// A blocking loopback client for the real-socket test.
    final class LineClient {
        let fd: Int32
        /// ``describe()`` right after connecting, for a failure's message.
        private(set) var atConnect = ""

        init(port: Int) throws {
            fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = in_port_t(UInt16(port).bigEndian)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            var timeout = timeval(tv_sec: 0, tv_usec: 100_000)
            setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
            let connected = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            guard connected == 0 else { close(); throw POSIXError(.ECONNREFUSED) }
            atConnect = describe()
        }

        func send(_ text: String) throws {
            let bytes = Array(text.utf8)
            guard bytes.withUnsafeBytes({ Glibc.send(fd, $0.baseAddress, $0.count, 0) }) == bytes.count else { throw POSIXError(.EIO) }
        }

        /// Reads until `done` holds for what was read, or `deadline` passes;
        /// throws, naming the error, when the socket fails or the server closes it.
        func receive(until done: (String) -> Bool, deadline: ContinuousClock.Instant) throws -> String {
            var text = ""
            var buffer = [UInt8](repeating: 0, count: 4096)
            while !done(text) && ContinuousClock.now < deadline {
                let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
                if count > 0 {
                    text += String(decoding: buffer[..<count], as: UTF8.self)
                } else if count == 0 {
                    throw TestFailure("the server closed the connection after \(text.utf8.count) bytes: \(text)")
                } else if errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR {
                    throw TestFailure("recv on fd \(fd) failed with errno \(errno) after \(text.utf8.count) bytes")
                }
            }
            if !done(text) { throw TestFailure("nothing more by the deadline after \(text.utf8.count) bytes; fd \(fd) now: \(describe()); at connect: \(atConnect)") }
            return text
        }

        /// What `fd` is now: its peer's port and whether it is non-blocking
        /// (this client's socket is blocking, with a receive timeout).
        func describe() -> String {
            var address = sockaddr_in()
            var length = socklen_t(MemoryLayout<sockaddr_in>.size)
            let named = withUnsafeMutablePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getpeername(fd, $0, &length) }
            }
            let peer = named == 0 ? "peer port \(UInt16(bigEndian: address.sin_port))" : "no peer (errno \(errno))"
            let flags = fcntl(fd, F_GETFL)
            return "\(peer), flags \(flags) (O_NONBLOCK \(flags >= 0 && flags & O_NONBLOCK != 0))"
        }

        func close() { _ = Glibc.close(fd) }
    }

    @Test("a parse error behind an owed answer gets its 400 after that answer, then the connection closes")
    func parserErrorWaits() throws {
        let responder = Responder()
        let channel = try handlerChannel(responder)
        try channel.writeInbound(ByteBuffer(string: "GET /slow/1 HTTP/1.1\r\nHost: x\r\n\r\nNOT HTTP\r\n\r\n"))
        #expect(try output(channel).isEmpty)
        #expect(channel.isActive)
        responder.answer("/slow/1")
        channel.embeddedEventLoop.run()
        let text = try output(channel)
        #expect(bodies(text) == ["/slow/1"])
        #expect(text.hasSuffix(String(describing: HTTPResponse.parserErrorBytes)))
        #expect(!channel.isActive)
    }

    @Test("an Upgrade or CONNECT request, after which NIO's decoder parses nothing, is answered and the connection closed")
    func upgradeCloses() throws {
        for request in ["GET /health HTTP/1.1\r\nHost: x\r\nConnection: upgrade\r\nUpgrade: websocket\r\n\r\n",
                        "CONNECT a:1 HTTP/1.1\r\nHost: a:1\r\n\r\n"] {
            let channel = try handlerChannel(Responder())
            try channel.writeInbound(ByteBuffer(string: request))
            // Bytes after it would only pile up in the decoder.
            try channel.writeInbound(ByteBuffer(string: String(repeating: "x", count: 4096)))
            let text = try output(channel)
            #expect(text.hasPrefix("HTTP/1.1 200 OK\r\n") && text.lowercased().contains("connection: close"), "\(text)")
            channel.embeddedEventLoop.run()
            #expect(!channel.isActive, "\(request)")
        }
    }


    @Test("while the client does not read its answers (the channel is not writable) the server stops reading; writable again, it reads")
    func backpressure() throws {
        let counter = ReadCounter()
        let channel = EmbeddedChannel()
        defer { _ = try? channel.finish() }
        try channel.pipeline.syncOperations.addHandlers(
            counter, ByteToMessageHandler(HTTPRequestDecoder(leftOverBytesStrategy: .dropBytes)),
            HTTPHandler(responder: Responder(), maxBody: 1 << 20))
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 8080)).wait()
        channel.read()
        #expect(counter.reads == 1)

        channel.isWritable = false
        channel.pipeline.fireChannelWritabilityChanged()
        channel.read()
        channel.read()
        #expect(counter.reads == 1, "reads held while the answers wait")

        channel.isWritable = true
        channel.pipeline.fireChannelWritabilityChanged()
        #expect(counter.reads == 2, "one held read released")
        channel.read()
        #expect(counter.reads == 3)
    }

    @Test("garbage on an idle connection gets NIO's bare 400 and a close")
    func garbage() throws {
        let channel = try handlerChannel(Responder())
        _ = try? channel.writeInbound(ByteBuffer(string: "\u{0}\u{1}garbage\r\n\r\n"))
        #expect(try output(channel) == "HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n")
        #expect(!channel.isActive)
    }
}
