import NIOCore

extension PeerService {
    /// Sends `payload` to `peer` and waits for its answer.
    ///
    /// Uses the one pooled connection to that peer, dialing it (TLS, identity check)
    /// if there is none. `timeout` covers everything: dialing, sending and waiting.
    ///
    /// - Throws: ``PeerError`` with code `.timeout`, `.connectFailed`,
    ///   `.handshakeFailed`, `.identityMismatch` (the peer is not `peer.id`),
    ///   `.connectionClosed` (dropped with the request in flight: it may or may not
    ///   have run), `.remote`, `.frameTooLarge`, `.shutdown` or `.cancelled`.
    public func request(to peer: PeerAddress, payload: ByteBuffer, timeout: Duration) async throws(PeerError) -> ByteBuffer {
        let promise = self.eventLoopGroup.any().makePromise(of: ByteBuffer.self)
        self.request(to: peer, payload: payload, timeout: timeout).cascade(to: promise)
        return try await Self.value(of: promise)
    }

    /// ``request(to:payload:timeout:)`` for callers already on an event loop
    /// (the forwarding path): no task hops, the answer completes the future on
    /// the connection's event loop. Fails with the same ``PeerError``s.
    public func request(to peer: PeerAddress, payload: ByteBuffer, timeout: Duration) -> EventLoopFuture<ByteBuffer> {
        let deadline = NIODeadline.now() + TimeAmount(timeout)
        do throws(PeerError) {
            try self.checkSize(payload, to: peer)
        } catch {
            return self.eventLoopGroup.any().makeFailedFuture(error)
        }
        return self.connection(to: peer, deadline: deadline).flatMap { channel in
            let promise = channel.eventLoop.makePromise(of: ByteBuffer.self)
            self.submit(PeerCall(kind: .request(deadline: deadline), payload: payload, promise: promise), on: channel, to: peer)
            return promise.futureResult
        }
    }

    /// ``request(to:payload:timeout:)`` with a callback, for the forwarding and
    /// replication paths: `completion` runs with the answer or a ``PeerError``
    /// on the connection's event loop (on another loop if no connection could
    /// be made; on the calling thread, at once, for a payload over the frame
    /// cap). Over an open connection the whole request is one task on that
    /// loop (none when called on it), where the future-based call makes
    /// several: the connection lookup, its deadline, the chained future and the
    /// caller's callback each hop from the caller's thread to the connection's.
    /// Over an open connection it makes no promise or future either.
    public func request(to peer: PeerAddress, payload: ByteBuffer, timeout: Duration,
                        completion: @escaping @Sendable (Result<ByteBuffer, any Error>) -> Void) {
        guard let channel = self.pool.activeChannel(to: peer) else {
            self.request(to: peer, payload: payload, timeout: timeout).whenComplete(completion)
            return
        }
        let deadline = NIODeadline.now() + TimeAmount(timeout)
        do throws(PeerError) {
            try self.checkSize(payload, to: peer)
        } catch {
            return completion(.failure(error))
        }
        let send: @Sendable () -> Void = {
            // Active, on its loop: the write reaches PeerClientHandler, which
            // completes the callback once (no promise, no future per request).
            guard channel.isActive else {
                return completion(.failure(PeerError(code: .connectionClosed, message: "connection to \"\(peer.id)\" is closed")))
            }
            channel.writeAndFlush(PeerCall(kind: .request(deadline: deadline), payload: payload, reply: .callback(completion)),
                                  promise: nil)
        }
        if channel.eventLoop.inEventLoop {
            send()
        } else {
            channel.eventLoop.execute(send)
        }
    }

    /// Sends `payload` to `peer` without expecting an answer; returns once the frame
    /// is handed to the connection (not when the peer has processed it).
    public func send(to peer: PeerAddress, payload: ByteBuffer, timeout: Duration = .seconds(5)) async throws(PeerError) {
        try self.checkSize(payload, to: peer)
        let connected = self.eventLoopGroup.any().makePromise(of: (any Channel).self)
        self.connection(to: peer, deadline: NIODeadline.now() + TimeAmount(timeout)).cascade(to: connected)
        let channel = try await Self.value(of: connected)
        let promise = channel.eventLoop.makePromise(of: ByteBuffer.self)
        self.submit(PeerCall(kind: .oneway, payload: payload, promise: promise), on: channel, to: peer)
        _ = try await Self.value(of: promise)
    }

    /// ``send(to:payload:timeout:)`` without a task: the future completes once
    /// the frame is handed to the connection, or fails with a ``PeerError``.
    public func send(to peer: PeerAddress, payload: ByteBuffer, timeout: Duration) -> EventLoopFuture<Void> {
        do throws(PeerError) {
            try self.checkSize(payload, to: peer)
        } catch {
            return self.eventLoopGroup.any().makeFailedFuture(error)
        }
        return self.connection(to: peer, deadline: NIODeadline.now() + TimeAmount(timeout)).flatMap { channel in
            let promise = channel.eventLoop.makePromise(of: ByteBuffer.self)
            self.submit(PeerCall(kind: .oneway, payload: payload, promise: promise), on: channel, to: peer)
            return promise.futureResult.map { _ in }
        }
    }

    private func checkSize(_ payload: ByteBuffer, to peer: PeerAddress) throws(PeerError) {
        let size = PeerFrame.headerSize + payload.readableBytes
        guard size <= self.configuration.maxFrameSize else {
            throw PeerError(
                code: .frameTooLarge,
                message: "a \(payload.readableBytes)-byte payload for \"\(peer.id)\" exceeds the \(self.configuration.maxFrameSize)-byte frame limit"
            )
        }
    }

    private func submit(_ call: PeerCall, on channel: any Channel, to peer: PeerAddress) {
        // If the write never reaches PeerClientHandler (channel already closed), fail here;
        // completing an already-completed promise is a no-op. (Promise calls only: a
        // callback call is written by `request(to:payload:timeout:completion:)`.)
        channel.writeAndFlush(call).whenFailure { error in
            call.reply.fail(PeerError(code: .connectionClosed, message: "connection to \"\(peer.id)\" is closed: \(error)"))
        }
    }

    /// The pooled connection, or a ``PeerError`` once `deadline` passes (the dial
    /// itself goes on and is reused by later callers if it succeeds).
    private func connection(to peer: PeerAddress, deadline: NIODeadline) -> EventLoopFuture<any Channel> {
        let shared = self.pool.connection(to: peer)
        let bounded = shared.eventLoop.makePromise(of: (any Channel).self)
        shared.cascade(to: bounded)
        let timer = shared.eventLoop.scheduleTask(deadline: deadline) {
            bounded.fail(PeerError(code: .timeout, message: "connecting to \"\(peer.id)\" at \(peer.host):\(peer.port) timed out"))
        }
        bounded.futureResult.whenComplete { _ in timer.cancel() }
        return bounded.futureResult
    }

    /// Awaits a promise, failing it if the calling task is cancelled, and maps any
    /// error to a ``PeerError``.
    private static func value<Value: Sendable>(of promise: EventLoopPromise<Value>) async throws(PeerError) -> Value {
        do {
            return try await withTaskCancellationHandler {
                try await promise.futureResult.get()
            } onCancel: {
                promise.fail(PeerError(code: .cancelled, message: "the calling task was cancelled"))
            }
        } catch let error as PeerError {
            throw error
        } catch {
            throw PeerError(code: .connectionClosed, message: "\(error)")
        }
    }
}
