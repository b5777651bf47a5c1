import Logging
import NIOCore
import NIOEmbedded
import Testing
@testable import PeerTransport

/// The server side of a peer connection on an embedded channel.
@Suite("Peer request dispatcher: replies and reads")
struct PeerRequestDispatcherTests {
    /// Counts the reads that reach the socket end of the pipeline.
    final class ReadCounter: ChannelOutboundHandler, @unchecked Sendable {
        typealias OutboundIn = Any
        var reads = 0
        func read(context: ChannelHandlerContext) {
            reads += 1
            context.read()
        }
    }

    @Test("while replies wait for the peer to read them (not writable) no more is read; writable again, reading resumes")
    func backpressure() throws {
        let counter = ReadCounter()
        let dispatcher = PeerRequestDispatcher(responder: { _, payload, reply in reply(payload) }, maxFrameSize: 1 << 20, maxInFlight: 16,
                                               onRejected: { _ in }, logger: Logger(label: "test"))
        let channel = EmbeddedChannel()
        defer { _ = try? channel.finish() }
        try channel.pipeline.syncOperations.addHandlers(counter, dispatcher)
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        try channel.writeInbound(PeerFrame(kind: .hello, correlationID: 0, payload: ByteBuffer(string: "n2")))
        _ = try channel.readInbound(as: PeerFrame.self)

        try channel.writeInbound(PeerFrame(kind: .request, correlationID: 1, payload: ByteBuffer(string: "ask")))
        channel.embeddedEventLoop.run()
        let reply = try #require(try channel.readOutbound(as: PeerFrame.self))
        #expect(reply.kind == .response && reply.correlationID == 1 && String(buffer: reply.payload) == "ask")

        channel.read()
        #expect(counter.reads == 1)
        channel.isWritable = false
        channel.pipeline.fireChannelWritabilityChanged()
        channel.read()
        #expect(counter.reads == 1, "held while replies are unread")
        channel.isWritable = true
        channel.pipeline.fireChannelWritabilityChanged()
        #expect(counter.reads == 2, "the held read goes out")
    }
}
