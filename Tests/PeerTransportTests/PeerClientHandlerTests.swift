import Logging
import NIOCore
import NIOEmbedded
import Testing
@testable import PeerTransport

/// The client side of a peer connection on an embedded channel, whose loop's
/// clock only moves when the test advances it.
@Suite("Peer client: deadlines of requests in flight")
struct PeerClientHandlerTests {
    enum Outcome: Equatable {
        case answered(String)
        case failed(PeerError.Code)
    }

    /// Writes a request with `deadline` and records how it ends. An embedded
    /// loop runs everything on the test's own thread.
    final class Call: @unchecked Sendable {
        let promise: EventLoopPromise<ByteBuffer>
        var outcome: Outcome?

        init(_ channel: EmbeddedChannel, deadline: NIODeadline) throws {
            promise = channel.eventLoop.makePromise()
            let call = PeerCall(kind: .request(deadline: deadline), payload: ByteBuffer(string: "ask"), promise: promise)
            try channel.writeOutbound(call)
            promise.futureResult.whenComplete { [self] result in
                switch result {
                case .success(let buffer): outcome = .answered(String(buffer: buffer))
                case .failure(let error): outcome = .failed((error as? PeerError)?.code ?? .remote)
                }
            }
        }
    }

    func makeChannel() throws -> EmbeddedChannel {
        let channel = EmbeddedChannel(handler: PeerClientHandler(peer: "n2", logger: Logger(label: "test")))
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        return channel
    }

    func handler(_ channel: EmbeddedChannel) throws -> PeerClientHandler {
        try channel.pipeline.syncOperations.handler(type: PeerClientHandler.self)
    }

    @Test("Each request fails at its own deadline, earliest first, whatever order they were sent in; an answered one does not")
    func deadlinesInAnyOrder() throws {
        let channel = try makeChannel()
        let loop = channel.embeddedEventLoop
        let start = loop.now
        let late = try Call(channel, deadline: start + .milliseconds(300))      // correlation id 1
        let early = try Call(channel, deadline: start + .milliseconds(100))     // 2: earlier than the first
        let answered = try Call(channel, deadline: start + .milliseconds(200))  // 3
        let middle = try Call(channel, deadline: start + .milliseconds(250))    // 4

        let client = try handler(channel)
        #expect(client.inFlight == 4 && client.nextSweep == start + .milliseconds(100))
        loop.advanceTime(by: .milliseconds(50))
        try channel.writeInbound(PeerFrame(kind: .response, correlationID: 3, payload: ByteBuffer(string: "yes")))
        #expect(answered.outcome == .answered("yes"))
        #expect(client.inFlight == 3, "an answered request no longer waits for its deadline")

        loop.advanceTime(by: .milliseconds(49))
        #expect(early.outcome == nil, "99 ms: nothing is due yet")
        loop.advanceTime(by: .milliseconds(1))
        #expect(early.outcome == .failed(.timeout), "100 ms: the earliest deadline")
        #expect(late.outcome == nil && middle.outcome == nil)

        loop.advanceTime(by: .milliseconds(149))
        #expect(middle.outcome == nil, "249 ms")
        loop.advanceTime(by: .milliseconds(1))
        #expect(middle.outcome == .failed(.timeout), "250 ms")
        #expect(late.outcome == nil)
        #expect(answered.outcome == .answered("yes"), "its deadline passed after it was answered")

        loop.advanceTime(by: .milliseconds(50))
        #expect(late.outcome == .failed(.timeout), "300 ms")
        #expect(client.inFlight == 0 && client.nextSweep == nil, "nothing left in flight, no timer set")
        _ = try channel.finish()
    }

    @Test("A request sent after the timer was set for a later deadline still fails at its own")
    func earlierRequestAfterLater() throws {
        let channel = try makeChannel()
        let loop = channel.embeddedEventLoop
        let start = loop.now
        let slow = try Call(channel, deadline: start + .seconds(5))
        loop.advanceTime(by: .milliseconds(10))
        let quick = try Call(channel, deadline: loop.now + .milliseconds(20))
        loop.advanceTime(by: .milliseconds(20))
        #expect(quick.outcome == .failed(.timeout))
        #expect(slow.outcome == nil)
        try channel.writeInbound(PeerFrame(kind: .response, correlationID: 1, payload: ByteBuffer(string: "late but in time")))
        #expect(slow.outcome == .answered("late but in time"))
        _ = try channel.finish()
    }

    @Test("Closing the connection fails every request in flight once, and no deadline fires after")
    func closeFailsAll() throws {
        let channel = try makeChannel()
        let loop = channel.embeddedEventLoop
        let calls = try (1...3).map { try Call(channel, deadline: loop.now + .milliseconds(100 * $0)) }
        let client = try handler(channel)
        #expect(client.inFlight == 3 && client.nextSweep != nil)
        try channel.close().wait()
        #expect(calls.allSatisfy { $0.outcome == .failed(.connectionClosed) })
        // Nothing is left for a deadline to fail again, and the timer is gone.
        #expect(client.inFlight == 0 && client.nextSweep == nil)
        loop.advanceTime(by: .seconds(1))
        #expect(calls.allSatisfy { $0.outcome == .failed(.connectionClosed) })
    }

    /// A request whose reply is a callback (the forwarding path's): records
    /// every time it is called, to prove it is called once.
    final class CallbackCall: @unchecked Sendable {
        var outcomes: [Outcome] = []

        /// `refused`: the write is expected to fail (a closed connection).
        init(_ channel: EmbeddedChannel, deadline: NIODeadline, refused: Bool = false) throws {
            let call = PeerCall(kind: .request(deadline: deadline), payload: ByteBuffer(string: "ask"), reply: .callback { [self] result in
                switch result {
                case .success(let buffer): outcomes.append(.answered(String(buffer: buffer)))
                case .failure(let error): outcomes.append(.failed((error as? PeerError)?.code ?? .remote))
                }
            })
            if refused {
                #expect(throws: PeerError.self) { try channel.writeOutbound(call) }
            } else {
                try channel.writeOutbound(call)
            }
        }
    }

    @Test("A callback request is called once: by its answer, its deadline, an error frame or the close, whichever comes first")
    func callbackCalledOnce() throws {
        let channel = try makeChannel()
        let loop = channel.embeddedEventLoop
        let answered = try CallbackCall(channel, deadline: loop.now + .milliseconds(100))   // correlation id 1
        let timedOut = try CallbackCall(channel, deadline: loop.now + .milliseconds(50))    // 2
        let refused = try CallbackCall(channel, deadline: loop.now + .milliseconds(100))    // 3
        let closed = try CallbackCall(channel, deadline: loop.now + .milliseconds(100))     // 4
        #expect(try channel.readOutbound(as: PeerFrame.self)?.kind == .request)

        try channel.writeInbound(PeerFrame(kind: .response, correlationID: 1, payload: ByteBuffer(string: "yes")))
        loop.advanceTime(by: .milliseconds(50))
        try channel.writeInbound(PeerFrame(kind: .error, correlationID: 3, text: "no"))
        // A late answer to the timed-out request and a second answer to the first change nothing.
        try channel.writeInbound(PeerFrame(kind: .response, correlationID: 2, payload: ByteBuffer(string: "late")))
        try channel.writeInbound(PeerFrame(kind: .response, correlationID: 1, payload: ByteBuffer(string: "again")))
        try channel.close().wait()
        loop.advanceTime(by: .seconds(1))

        #expect(answered.outcomes == [.answered("yes")])
        #expect(timedOut.outcomes == [.failed(.timeout)])
        #expect(refused.outcomes == [.failed(.remote)])
        #expect(closed.outcomes == [.failed(.connectionClosed)])
    }

    @Test("A callback request written to a closed connection fails at once, once")
    func callbackOnClosedConnection() throws {
        let channel = try makeChannel()
        let client = try handler(channel)
        client.channelInactive(context: try channel.pipeline.syncOperations.context(handler: client))
        let call = try CallbackCall(channel, deadline: channel.embeddedEventLoop.now + .milliseconds(100), refused: true)
        channel.embeddedEventLoop.advanceTime(by: .seconds(1))
        #expect(call.outcomes == [.failed(.connectionClosed)])
    }
}
