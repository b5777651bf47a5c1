import Logging
import NIOCore

/// One outgoing message handed to ``PeerClientHandler``.
struct PeerCall: Sendable {
    enum Kind: Sendable {
        /// Completes `reply` with the response payload.
        case request(deadline: NIODeadline)
        /// Completes `reply` (with an empty buffer) once the frame is written.
        case oneway
    }

    /// Where the answer goes.
    enum Reply: Sendable {
        case promise(EventLoopPromise<ByteBuffer>)
        /// Called once, on the connection's event loop: for callers already
        /// on that loop (the forwarding path), it saves a promise and its
        /// future per request.
        case callback(@Sendable (Result<ByteBuffer, any Error>) -> Void)

        func succeed(_ payload: ByteBuffer) {
            switch self {
            case .promise(let promise): promise.succeed(payload)
            case .callback(let callback): callback(.success(payload))
            }
        }

        func fail(_ error: any Error) {
            switch self {
            case .promise(let promise): promise.fail(error)
            case .callback(let callback): callback(.failure(error))
            }
        }
    }

    var kind: Kind
    var payload: ByteBuffer
    var reply: Reply

    init(kind: Kind, payload: ByteBuffer, reply: Reply) {
        self.kind = kind
        self.payload = payload
        self.reply = reply
    }

    init(kind: Kind, payload: ByteBuffer, promise: EventLoopPromise<ByteBuffer>) {
        self.init(kind: kind, payload: payload, reply: .promise(promise))
    }
}

/// Multiplexes requests over one peer connection: assigns correlation ids, matches
/// responses to them in any order, enforces each request's deadline, and fails
/// everything still in flight when the connection goes away.
///
/// Every request's reply is completed exactly once by one of: its response or
/// error frame, its deadline, its write failing, or the connection closing. That
/// is what keeps an awaiting caller from hanging (no leaked continuations) without
/// a task per call. A call whose reply is a promise is also failed through the
/// write's promise when the write never reaches this handler (``PeerService``);
/// a callback call is written only while the channel is active, on its loop,
/// so it reaches this handler.
final class PeerClientHandler: ChannelDuplexHandler {
    typealias InboundIn = PeerFrame
    typealias OutboundIn = PeerCall
    typealias OutboundOut = PeerFrame

    private struct Pending {
        var reply: PeerCall.Reply
        var deadline: NIODeadline
    }

    private let peer: String
    private let logger: Logger
    private var nextCorrelationID: UInt64 = 1
    private var pending: [UInt64: Pending] = [:]
    /// One timer for every request in flight, set for the earliest deadline
    /// among them. A timer per request cost a schedule and a cancel for each
    /// (about 1k instructions a forwarded check at 8 a batch, callgrind).
    private var sweep: (deadline: NIODeadline, task: Scheduled<Void>)?
    private var isClosed = false

    init(peer: String, logger: Logger) {
        self.peer = peer
        self.logger = logger
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise writePromise: EventLoopPromise<Void>?) {
        let call = self.unwrapOutboundIn(data)
        guard !self.isClosed else {
            let error = PeerError(code: .connectionClosed, message: "connection to \"\(self.peer)\" is closed")
            call.reply.fail(error)
            writePromise?.fail(error)
            return
        }
        let correlationID = self.nextCorrelationID
        self.nextCorrelationID &+= 1
        if self.nextCorrelationID == 0 { self.nextCorrelationID = 1 }  // 0 means "the connection"

        switch call.kind {
        case .request(let deadline):
            self.pending[correlationID] = Pending(reply: call.reply, deadline: deadline)
            self.armSweep(at: deadline, on: context.eventLoop)
            let frame = PeerFrame(kind: .request, correlationID: correlationID, payload: call.payload)
            // A write that fails on an active channel closes it (a socket or TLS
            // error), and the close fails the entry (`failAll`). A promise call is
            // also failed through `writePromise` (PeerService.submit passes one for
            // each), for a write that never gets here; a callback call has none, and
            // is written only to an active channel on its loop. The deadline is the
            // backstop for both. Callers check the frame's size first: the one
            // write failure that closes nothing.
            context.write(self.wrapOutboundOut(frame), promise: writePromise)
        case .oneway:
            let written = context.eventLoop.makePromise(of: Void.self)
            written.futureResult.assumeIsolated().whenComplete { result in
                switch result {
                case .success:
                    call.reply.succeed(ByteBuffer())
                case .failure(let error):
                    call.reply.fail(PeerError(code: .connectionClosed, message: "cannot send to \"\(self.peer)\": \(error)"))
                }
            }
            written.futureResult.cascade(to: writePromise)
            let frame = PeerFrame(kind: .oneway, correlationID: correlationID, payload: call.payload)
            context.write(self.wrapOutboundOut(frame), promise: written)
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = self.unwrapInboundIn(data)
        switch frame.kind {
        case .response:
            if let entry = self.pending.removeValue(forKey: frame.correlationID) {
                entry.reply.succeed(frame.payload)
            } else {
                // Normal after a timeout: the answer came, but too late.
                self.logger.debug("dropping response for unknown or timed-out request", metadata: [
                    "correlation.id": "\(frame.correlationID)",
                ])
            }
        case .error where frame.correlationID != 0:
            self.fail(frame.correlationID, PeerError(code: .remote, message: "\"\(self.peer)\" answered: \(frame.text)"))
        case .error:
            self.logger.warning("peer closed the connection: \(frame.text)")
            context.close(promise: nil)
        case .hello, .request, .oneway:
            self.logger.warning("closing peer connection: unexpected \(frame.kind) frame from a server")
            context.close(promise: nil)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        self.failAll(PeerError(code: .connectionClosed, message: "connection to \"\(self.peer)\" closed with the request in flight"))
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.failAll(PeerError(code: .connectionClosed, message: "connection to \"\(self.peer)\" closed with the request in flight"))
    }

    /// Requests waiting for their answer (tests read it on the channel's loop).
    var inFlight: Int { self.pending.count }
    /// When the deadline timer fires next; nil when none is set.
    var nextSweep: NIODeadline? { self.sweep?.deadline }

    private func fail(_ correlationID: UInt64, _ error: PeerError) {
        guard let entry = self.pending.removeValue(forKey: correlationID) else { return }
        entry.reply.fail(error)
    }

    private func failAll(_ error: PeerError) {
        self.isClosed = true
        self.sweep?.task.cancel()
        self.sweep = nil
        let pending = self.pending
        self.pending = [:]
        for entry in pending.values {
            entry.reply.fail(error)
        }
    }

    /// Makes the sweep run by `deadline`; a request whose deadline is not
    /// the earliest in flight leaves the timer as it is.
    private func armSweep(at deadline: NIODeadline, on eventLoop: any EventLoop) {
        if let sweep, sweep.deadline <= deadline { return }
        self.sweep?.task.cancel()
        let task = eventLoop.assumeIsolated().scheduleTask(deadline: deadline) { () -> Void in
            self.sweepExpired(on: eventLoop)
        }
        self.sweep = (deadline, task)
    }

    /// Fails every request past its deadline, then sets the timer for the
    /// earliest deadline still in flight, if any.
    private func sweepExpired(on eventLoop: any EventLoop) {
        self.sweep = nil
        let now = eventLoop.now
        var expired: [UInt64] = []
        var earliest: NIODeadline?
        for (correlationID, entry) in self.pending {
            if entry.deadline <= now {
                expired.append(correlationID)
            } else if earliest.map({ entry.deadline < $0 }) ?? true {
                earliest = entry.deadline
            }
        }
        for correlationID in expired {
            self.fail(correlationID, PeerError(code: .timeout, message: "request to \"\(self.peer)\" timed out"))
        }
        if let earliest { self.armSweep(at: earliest, on: eventLoop) }
    }
}
