import NIOCore
import PeerTestSupport
import Testing
@testable import PeerTransport

/// Bad bytes close only the connection that sent them; the server keeps serving.
@Suite("Peer connection robustness", .timeLimit(.minutes(1)))
struct PeerConnectionRobustnessTests {
    /// Sends `bytes` on an authenticated-by-certificate TLS connection (after a
    /// valid hello when `helloFirst`), expects the server to close it, then checks
    /// that a well-behaved node is still served.
    private func expectOnlyThisConnectionCloses(
        bytes: [UInt8],
        helloFirst: Bool,
        closeAfterWriting: Bool = false,
        loggedReason: String,
        configuration: PeerService.Configuration = PeerService.Configuration()
    ) async throws {
        try await withInProcessPeerCluster { cluster in
            let server = try cluster.service("n1", configuration: configuration)
            let good = try cluster.service("n3")
            try await whileServing(server) { port in
                let peer = PeerAddress.local("n1", port)
                // A healthy connection that must survive the bad one.
                #expect(String(buffer: try await good.request(to: peer, payload: ByteBuffer(string: "before"), timeout: .seconds(10))) == "n3:before")

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
                #expect(received.isEmpty, "the server answered bytes it should have refused")
                let logged = await cluster.logs.waitFor(loggedReason)
                #expect(logged != nil, "no log mentioning \(loggedReason)")
                #expect(logged?.metadata["node"] == "n1")

                // Same connection as before, still fine; and a brand-new one works too.
                #expect(String(buffer: try await good.request(to: peer, payload: ByteBuffer(string: "after"), timeout: .seconds(10))) == "n3:after")
                let fresh = try cluster.service("n2")
                #expect(String(buffer: try await fresh.request(to: peer, payload: ByteBuffer(string: "new"), timeout: .seconds(10))) == "n2:new")
                await fresh.shutdown()
            }
            await good.shutdown()
        }
    }

    @Test("a frame announcing more than the size cap closes that connection only")
    func oversizeFrame() async throws {
        var configuration = PeerService.Configuration()
        configuration.maxFrameSize = 64 * 1024
        // Length 1 MiB, then a plausible header.
        try await self.expectOnlyThisConnectionCloses(
            bytes: [0, 0x10, 0, 0, 1, 2, 0, 0, 0, 0, 0, 0, 0, 1],
            helloFirst: true,
            loggedReason: "exceeds the 65536-byte limit",
            configuration: configuration
        )
    }

    @Test("garbage bytes instead of a frame close that connection only")
    func garbage() async throws {
        try await self.expectOnlyThisConnectionCloses(
            bytes: Array("GET / HTTP/1.1\r\nHost: x\r\n\r\n".utf8),
            helloFirst: false,
            loggedReason: "bad frame from"
        )
    }

    @Test("an unknown frame kind after the hello closes that connection only")
    func unknownKind() async throws {
        try await self.expectOnlyThisConnectionCloses(
            bytes: [0, 0, 0, 10, 1, 77, 0, 0, 0, 0, 0, 0, 0, 1],
            helloFirst: true,
            loggedReason: "unknown frame kind 77"
        )
    }

    @Test("a frame cut off by end of stream closes that connection only")
    func truncatedFrame() async throws {
        // Announces 100 bytes, sends 20, then EOF.
        try await self.expectOnlyThisConnectionCloses(
            bytes: [0, 0, 0, 100, 1, 2, 0, 0, 0, 0, 0, 0, 0, 1] + Array(repeating: 0x61, count: 6),
            helloFirst: true,
            closeAfterWriting: true,
            loggedReason: "connection ended inside a frame"
        )
    }

    @Test("a connection that never says hello is closed after the hello timeout")
    func silentConnection() async throws {
        var configuration = PeerService.Configuration()
        // Long enough for the well-behaved connections to authenticate on a loaded machine.
        configuration.helloTimeout = .milliseconds(1500)
        try await self.expectOnlyThisConnectionCloses(
            bytes: [],
            helloFirst: false,
            loggedReason: "did not complete the TLS and hello exchange",
            configuration: configuration
        )
    }
}
