import NIOCore
import PeerTestSupport
import Testing
@testable import PeerTransport

/// Bad bytes close only the connection that sent them, are reported once to
/// the server's `onRejected` handler with their reason, and the server keeps
/// serving.
@Suite("Peer connection robustness", .timeLimit(.minutes(1)))
struct PeerConnectionRobustnessTests {
    /// Sends `bytes` on an authenticated-by-certificate TLS connection (after a
    /// valid hello when `helloFirst`), expects the server to close it (after an
    /// error frame saying why when `refusedWithError`), to report it rejected as
    /// `rejectedAs` and nothing else, then checks that a well-behaved node is
    /// still served.
    private func expectOnlyThisConnectionCloses(
        bytes: [UInt8],
        helloFirst: Bool,
        closeAfterWriting: Bool = false,
        loggedReason: String,
        rejectedAs reason: PeerRejection.Reason,
        refusedWithError: Bool = false,
        configuration: PeerService.Configuration = PeerService.Configuration()
    ) async throws {
        try await withInProcessPeerCluster { cluster in
            let server = try cluster.service("n1", configuration: configuration)
            let good = try cluster.service("n3")
            try await whileServing(server) { port in
                let peer = PeerAddress.local("n1", port)
                // A healthy connection that must survive the bad one.
                #expect(String(buffer: try await good.request(to: peer, payload: ByteBuffer(string: "before"), timeout: .seconds(10))) == "n3:before")
                let goodChannel = try #require(good.pool.activeChannel(to: peer))

                let tls = try cluster.rawClientTLS(certificateOf: "n2")
                let bad = try await RawPeerClient.connectBytes(port: port, tls: tls)
                let received = try await bad.executeThenClose { inbound, outbound in
                    var iterator = inbound.makeAsyncIterator()
                    if helloFirst {
                        var hello = ByteBuffer()
                        try PeerFrameEncoder().encode(data: PeerFrame(kind: .hello, correlationID: 0, text: "n2"), out: &hello)
                        try await outbound.write(hello)
                        // The server's hello: we are in.
                        var ack = try #require(try await iterator.next())
                        var decoder = PeerFrameDecoder()
                        #expect(try decoder.decode(buffer: &ack)?.kind == .hello)
                    }
                    try await outbound.write(ByteBuffer(bytes: bytes))
                    if closeAfterWriting {
                        // EOF right after the partial frame.
                        try await bad.channel.close(mode: .output)
                    }
                    var rest: [ByteBuffer] = []
                    do {
                        while let chunk = try await iterator.next() { rest.append(chunk) }
                    } catch {}
                    return rest
                }
                if refusedWithError {
                    var answer = received.reduce(into: ByteBuffer()) { all, chunk in var chunk = chunk; all.writeBuffer(&chunk) }
                    var decoder = PeerFrameDecoder()
                    let refusal = try decoder.decode(buffer: &answer)
                    #expect(refusal?.kind == .error && refusal.map { String(buffer: $0.payload) }?.contains(loggedReason) == true,
                            "expected one error frame naming \(loggedReason), got \(String(describing: refusal))")
                } else {
                    #expect(received.isEmpty, "the server answered bytes it should have refused")
                }
                let logged = await cluster.logs.waitFor(loggedReason)
                #expect(logged != nil, "no log mentioning \(loggedReason)")
                #expect(logged?.metadata["node"] == "n1")
                #expect(await cluster.rejections.waitForReasons(of: "n1") == [reason])
                #expect(cluster.rejections.rejections(of: "n1").first?.message.contains(loggedReason) == true)

                // Same connection as before, still open and still served; and a brand-new one works too.
                #expect(goodChannel.isActive, "the server closed the well-behaved connection too")
                #expect(String(buffer: try await good.request(to: peer, payload: ByteBuffer(string: "after"), timeout: .seconds(10))) == "n3:after")
                #expect(good.pool.activeChannel(to: peer) === goodChannel, "the pool dialled again: the first connection was lost")
                let fresh = try cluster.service("n2")
                #expect(String(buffer: try await fresh.request(to: peer, payload: ByteBuffer(string: "new"), timeout: .seconds(10))) == "n2:new")
                await fresh.shutdown()
            }
            await good.shutdown()
            // One rejection, and the well-behaved nodes on either side refused nothing.
            #expect(cluster.rejections.reasons(of: "n1") == [reason])
            #expect(cluster.rejections.reasons(of: "n2").isEmpty && cluster.rejections.reasons(of: "n3").isEmpty)
        }
    }

    @Test("a frame announcing more than the size cap closes that connection only, rejected as oversize")
    func oversizeFrame() async throws {
        var configuration = PeerService.Configuration()
        configuration.maxFrameSize = 64 * 1024
        // Length 1 MiB, then a plausible header.
        try await self.expectOnlyThisConnectionCloses(
            bytes: [0, 0x10, 0, 0, 1, 2, 0, 0, 0, 0, 0, 0, 0, 1],
            helloFirst: true,
            loggedReason: "exceeds the 65536-byte limit",
            rejectedAs: .oversize,
            configuration: configuration
        )
    }

    @Test("an HTTP request instead of a frame closes that connection only, rejected as oversize (\"GET \" read as a length is 1.2 GB)")
    func garbage() async throws {
        try await self.expectOnlyThisConnectionCloses(
            bytes: Array("GET / HTTP/1.1\r\nHost: x\r\n\r\n".utf8),
            helloFirst: false,
            loggedReason: "bad frame from",
            rejectedAs: .oversize
        )
    }

    @Test("a request frame before the hello is refused with an error frame and closes that connection only, as a bad frame")
    func requestBeforeHello() async throws {
        var request = ByteBuffer()
        try PeerFrameEncoder().encode(data: PeerFrame(kind: .request, correlationID: 1, text: "hi"), out: &request)
        try await self.expectOnlyThisConnectionCloses(
            bytes: Array(request.readableBytesView),
            helloFirst: false,
            loggedReason: "expected a hello frame first, got request",
            rejectedAs: .badFrame,
            refusedWithError: true
        )
    }

    @Test("a response frame from a client closes that connection only, as a bad frame")
    func responseFromClient() async throws {
        var response = ByteBuffer()
        try PeerFrameEncoder().encode(data: PeerFrame(kind: .response, correlationID: 5, text: "unasked"), out: &response)
        try await self.expectOnlyThisConnectionCloses(
            bytes: Array(response.readableBytesView),
            helloFirst: true,
            loggedReason: "unexpected response frame from a client",
            rejectedAs: .badFrame
        )
    }

    @Test("an unknown frame kind after the hello closes that connection only, as a bad frame")
    func unknownKind() async throws {
        try await self.expectOnlyThisConnectionCloses(
            bytes: [0, 0, 0, 10, 1, 77, 0, 0, 0, 0, 0, 0, 0, 1],
            helloFirst: true,
            loggedReason: "unknown frame kind 77",
            rejectedAs: .badFrame
        )
    }

    @Test("an unknown frame version after the hello closes that connection only, as a bad frame")
    func unknownVersion() async throws {
        try await self.expectOnlyThisConnectionCloses(
            bytes: [0, 0, 0, 10, 9, 2, 0, 0, 0, 0, 0, 0, 0, 1],
            helloFirst: true,
            loggedReason: "unknown frame version 9",
            rejectedAs: .badFrame
        )
    }

    @Test("a frame cut off by end of stream closes that connection only, as a bad frame")
    func truncatedFrame() async throws {
        // Announces 100 bytes, sends 20, then EOF.
        try await self.expectOnlyThisConnectionCloses(
            bytes: [0, 0, 0, 100, 1, 2, 0, 0, 0, 0, 0, 0, 0, 1] + Array(repeating: 0x61, count: 6),
            helloFirst: true,
            closeAfterWriting: true,
            loggedReason: "connection ended inside a frame",
            rejectedAs: .badFrame
        )
    }

    @Test("a connection that never says hello is closed after the hello timeout, rejected as a failed handshake")
    func silentConnection() async throws {
        var configuration = PeerService.Configuration()
        // Long enough for the well-behaved connections to authenticate on a loaded machine.
        configuration.helloTimeout = .milliseconds(1500)
        try await self.expectOnlyThisConnectionCloses(
            bytes: [],
            helloFirst: false,
            loggedReason: "did not complete the TLS and hello exchange",
            rejectedAs: .handshake,
            configuration: configuration
        )
    }
}
