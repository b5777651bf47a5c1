import Logging
import NIOCore

/// Hands each authenticated request to the ``PeerResponder`` on the event
/// loop and writes its reply, tagged with the request's correlation id, when
/// the responder calls back (from any thread). It sits after
/// ``PeerSessionHandler``, so the first frame it sees is the checked hello.
/// It stops reading while replies wait for the peer to read them (the
/// channel is not writable), so a peer that asks and never reads cannot make
/// this node queue replies without bound.
final class PeerRequestDispatcher: ChannelDuplexHandler {
    typealias InboundIn = PeerFrame
    typealias InboundOut = PeerFrame
    typealias OutboundIn = PeerFrame
    typealias OutboundOut = PeerFrame

    private let responder: PeerResponder
    private let maxFrameSize: Int
    private let maxInFlight: Int
    private let onRejected: PeerRejectionHandler
    private let logger: Logger
    private var peer: String?
    private var inFlight = 0
    /// A `read` held back while the channel is not writable.
    private var readHeld = false

    init(responder: @escaping PeerResponder, maxFrameSize: Int, maxInFlight: Int, onRejected: @escaping PeerRejectionHandler,
         logger: Logger) {
        self.responder = responder
        self.maxFrameSize = maxFrameSize
        self.maxInFlight = maxInFlight
        self.onRejected = onRejected
        self.logger = logger
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        guard let peer else {
            if frame.kind == .hello { peer = frame.text }
            context.fireChannelRead(data)
            return
        }
        switch frame.kind {
        case .request:
            let correlationID = frame.correlationID
            guard inFlight < maxInFlight else {
                logger.warning("refusing a peer request: too many in flight on one connection",
                               metadata: ["peer": "\(peer)", "limit": "\(maxInFlight)"])
                let reason = "more than \(maxInFlight) requests in flight on this connection"
                onRejected(PeerRejection(reason: .overload, peer: peer, message: reason))
                context.writeAndFlush(wrapOutboundOut(PeerFrame(kind: .error, correlationID: correlationID, text: reason)), promise: nil)
                return
            }
            inFlight += 1
            let maxFrameSize = maxFrameSize
            let bound = NIOLoopBound(context, eventLoop: context.eventLoop)
            let dispatcher = NIOLoopBound(self, eventLoop: context.eventLoop)
            let once = NIOLoopBoundBox(false, eventLoop: context.eventLoop)
            let eventLoop = context.eventLoop
            responder(peer, frame.payload, PeerReply { reply in
                let answer = Self.answer(reply, to: correlationID, maxFrameSize: maxFrameSize)
                let write: @Sendable () -> Void = {
                    guard !once.value else { return }
                    once.value = true
                    dispatcher.value.inFlight -= 1
                    let context = bound.value
                    guard context.channel.isActive else { return }
                    context.writeAndFlush(NIOAny(answer), promise: nil)
                }
                // A reply made on this loop (an owner that committed its batch
                // here) is written at once rather than queued as a task.
                if eventLoop.inEventLoop { write() } else { eventLoop.execute(write) }
            })
        case .oneway:
            // One-way messages count against the cap until the responder is
            // done with them too: otherwise a peer could queue work without bound.
            guard inFlight < maxInFlight else {
                logger.warning("dropping a peer one-way message: too many in flight on one connection",
                               metadata: ["peer": "\(peer)", "limit": "\(maxInFlight)"])
                onRejected(PeerRejection(reason: .overload, peer: peer,
                                         message: "a one-way message beyond \(maxInFlight) requests in flight on this connection"))
                return
            }
            inFlight += 1
            let dispatcher = NIOLoopBound(self, eventLoop: context.eventLoop)
            let once = NIOLoopBoundBox(false, eventLoop: context.eventLoop)
            let eventLoop = context.eventLoop
            responder(peer, frame.payload, PeerReply { _ in
                // Nothing goes back; the message only stops counting.
                let finish: @Sendable () -> Void = {
                    guard !once.value else { return }
                    once.value = true
                    dispatcher.value.inFlight -= 1
                }
                if eventLoop.inEventLoop { finish() } else { eventLoop.execute(finish) }
            })
        case .hello, .response, .error:
            // The connection task logs and closes it.
            context.fireChannelRead(data)
        }
    }

    func read(context: ChannelHandlerContext) {
        if context.channel.isWritable { context.read() } else { readHeld = true }
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable && readHeld {
            readHeld = false
            context.read()
        }
        context.fireChannelWritabilityChanged()
    }

    private static func answer(_ reply: ByteBuffer?, to correlationID: UInt64, maxFrameSize: Int) -> PeerFrame {
        guard let reply else {
            return PeerFrame(kind: .error, correlationID: correlationID, text: "the peer handler produced no reply")
        }
        guard PeerFrame.headerSize + reply.readableBytes <= maxFrameSize else {
            return PeerFrame(kind: .error, correlationID: correlationID,
                             text: "reply of \(reply.readableBytes) bytes exceeds the \(maxFrameSize)-byte frame limit")
        }
        return PeerFrame(kind: .response, correlationID: correlationID, payload: reply)
    }
}
