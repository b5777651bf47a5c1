import Logging
import NIOCore
import NIOEmbedded
import PeerTestSupport
import Synchronization
import Testing
@testable import PeerTransport

/// The server side of a peer connection on an embedded channel.
@Suite("Peer request dispatcher: replies and reads")
struct PeerRequestDispatcherTests {

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

    @Test("a reply made on the connection's loop is written before the read returns, and frees its in-flight slot at once")
    func replyOnTheLoop() throws {
        let dispatcher = PeerRequestDispatcher(responder: { _, payload, reply in reply(payload) }, maxFrameSize: 1 << 20, maxInFlight: 1,
                                               onRejected: { _ in }, logger: Logger(label: "test"))
        let channel = EmbeddedChannel(handler: dispatcher)
        defer { _ = try? channel.finish() }
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        try channel.writeInbound(PeerFrame(kind: .hello, correlationID: 0, payload: ByteBuffer(string: "n2")))
        _ = try channel.readInbound(as: PeerFrame.self)

        // The loop is not run between the requests: a reply queued as a
        // task would not be written yet, and would still hold the only slot.
        for id in 1...2 {
            try channel.writeInbound(PeerFrame(kind: .request, correlationID: UInt64(id), payload: ByteBuffer(string: "ask\(id)")))
            let reply = try #require(try channel.readOutbound(as: PeerFrame.self))
            #expect(reply.kind == .response && reply.correlationID == UInt64(id) && String(buffer: reply.payload) == "ask\(id)")
        }
    }

    @Test("one-way messages count against the in-flight cap until the responder is done: beyond it they are dropped as overload")
    func onewayCap() throws {
        let replies = Mutex<[PeerReply]>([])
        let handled = Mutex(0)
        let rejected = Mutex<[PeerRejection.Reason]>([])
        let dispatcher = PeerRequestDispatcher(responder: { _, _, reply in
            handled.withLock { $0 += 1 }
            replies.withLock { $0.append(reply) }
        }, maxFrameSize: 1 << 20, maxInFlight: 2, onRejected: { rejection in rejected.withLock { $0.append(rejection.reason) } },
           logger: Logger(label: "test"))
        let channel = EmbeddedChannel(handler: dispatcher)
        defer { _ = try? channel.finish() }
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        try channel.writeInbound(PeerFrame(kind: .hello, correlationID: 0, payload: ByteBuffer(string: "n2")))
        _ = try channel.readInbound(as: PeerFrame.self)

        for id in 1...3 { try channel.writeInbound(PeerFrame(kind: .oneway, correlationID: UInt64(id), payload: ByteBuffer(string: "m"))) }
        #expect(handled.withLock { $0 } == 2, "the third waits for no one: it is dropped")
        #expect(rejected.withLock { $0 } == [.overload])
        // The responder finishes one (from its own thread, as a commit would): room for one more.
        let first = replies.withLock { $0[0] }
        first(nil)
        first(nil)  // A second call changes nothing.
        channel.embeddedEventLoop.run()
        for id in 4...5 { try channel.writeInbound(PeerFrame(kind: .oneway, correlationID: UInt64(id), payload: ByteBuffer(string: "m"))) }
        #expect(handled.withLock { $0 } == 3)
        #expect(rejected.withLock { $0 } == [.overload, .overload])
        #expect(try channel.readOutbound(as: PeerFrame.self) == nil, "one-way messages are never answered")
    }
}
