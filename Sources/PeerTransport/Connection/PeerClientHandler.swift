import Logging
import NIOCore

/// One outgoing message handed to ``PeerClientHandler``.
struct PeerCall: Sendable {
    enum Kind: Sendable {
        /// Completes `promise` with the response payload.
        case request(deadline: NIODeadline)
        /// Completes `promise` (with an empty buffer) once the frame is written.
        case oneway
    }

    var kind: Kind
    var payload: ByteBuffer
    var promise: EventLoopPromise<ByteBuffer>
}

/// Multiplexes requests over one peer connection: assigns correlation ids, matches
/// responses to them in any order, enforces each request's deadline, and fails
/// everything still in flight when the connection goes away.
///
/// Every promise handed in is completed exactly once by one of: its response or
/// error frame, its deadline, its write failing (``PeerService`` fails the call
/// through the write's promise), or the connection closing. That is what keeps an
/// awaiting caller from hanging (no leaked continuations) without a task per call.
final class PeerClientHandler: ChannelDuplexHandler {
    typealias InboundIn = PeerFrame
    typealias OutboundIn = PeerCall
    typealias OutboundOut = PeerFrame

    private struct Pending {
        var promise: EventLoopPromise<ByteBuffer>
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
            call.promise.fail(error)
            writePromise?.fail(error)
            return
        }
        let correlationID = self.nextCorrelationID
        self.nextCorrelationID &+= 1
        if self.nextCorrelationID == 0 { self.nextCorrelationID = 1 }  // 0 means "the connection"

        switch call.kind {
        case .request(let deadline):
            self.pending[correlationID] = Pending(promise: call.promise, deadline: deadline)
            self.armSweep(at: deadline, on: context.eventLoop)
            // A write that fails fails the call through `writePromise` (PeerService.submit
            // passes one for every call); the entry goes with the connection's close or
            // its deadline, which finds the promise already completed.
            let frame = PeerFrame(kind: .request, correlationID: correlationID, payload: call.payload)
            context.write(self.wrapOutboundOut(frame), promise: writePromise)
        case .oneway:
            let written = context.eventLoop.makePromise(of: Void.self)
            written.futureResult.assumeIsolated().whenComplete { result in
                switch result {
                case .success:
                    call.promise.succeed(ByteBuffer())
                case .failure(let error):
                    call.promise.fail(PeerError(code: .connectionClosed, message: "cannot send to \"\(self.peer)\": \(error)"))
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
                entry.promise.succeed(frame.payload)
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
        entry.promise.fail(error)
    }

    private func failAll(_ error: PeerError) {
        self.isClosed = true
        self.sweep?.task.cancel()
        self.sweep = nil
        let pending = self.pending
        self.pending = [:]
        for entry in pending.values {
            entry.promise.fail(error)
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
