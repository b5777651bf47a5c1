import Logging
import NIOCore
import NIOPosix
import NIOSSL

extension PeerService {
    /// Binds the peer port without serving yet, so a caller (or test) can learn the
    /// port before starting ``run()``. Idempotent.
    @discardableResult
    public func bind() async throws(PeerError) -> SocketAddress {
        if let address = self.localAddress { return address }
        let channel: ServerChannel
        do {
            channel = try await self.makeServerBootstrap().bind(host: self.host, port: self.port) { child in
                child.eventLoop.makeCompletedFuture {
                    try self.configureServerPipeline(child)
                    return try NIOAsyncChannel<PeerFrame, PeerFrame>(wrappingChannelSynchronously: child)
                }
            }
        } catch {
            throw PeerError(code: .bindFailed, message: "cannot listen for peers on \(self.host):\(self.port): \(error)")
        }
        let outcome = self.server.withLock { state -> Result<SocketAddress, PeerError>? in
            switch state {
            case .idle:
                state = .bound(channel)
                return nil
            case .bound(let existing), .running(let existing):
                // Lost a race with a concurrent bind(): keep the first.
                return existing.channel.localAddress.map { .success($0) }
            case .stopped:
                return .failure(PeerError(code: .shutdown, message: "peer service \"\(self.localID)\" is shut down"))
            }
        }
        guard let outcome else {
            self.logger.info("listening for peers", metadata: ["address": "\(channel.channel.localAddress.map { "\($0)" } ?? "?")"])
            return channel.channel.localAddress!
        }
        try? await channel.channel.close()
        return try outcome.get()
    }

    /// Serves peers until the calling task is cancelled or ``shutdown()`` is called,
    /// then closes every inbound and outbound connection.
    ///
    /// Binds first if ``bind()`` has not been called. Throws if binding fails or if
    /// `run()` is already running.
    public func run() async throws {
        try await self.bind()
        let serverChannel = try self.server.withLock { state throws(PeerError) -> ServerChannel in
            switch state {
            case .bound(let channel):
                state = .running(channel)
                return channel
            case .running:
                throw PeerError(code: .bindFailed, message: "peer service \"\(self.localID)\" is already running")
            case .idle, .stopped:
                throw PeerError(code: .shutdown, message: "peer service \"\(self.localID)\" is shut down")
            }
        }
        defer { self.server.withLock { $0 = .stopped } }
        do {
            try await serverChannel.executeThenClose { connections in
                try await withThrowingDiscardingTaskGroup { group in
                    for try await connection in connections {
                        group.addTask { await self.serve(connection) }
                    }
                    // Listening socket closed (shutdown or cancellation): drop open connections too.
                    group.cancelAll()
                }
            }
        } catch is CancellationError {
            // Normal end of a service.
        } catch {
            await self.pool.shutdown()
            throw error
        }
        await self.pool.shutdown()
        self.logger.info("stopped serving peers")
    }

    private func makeServerBootstrap() -> ServerBootstrap {
        ServerBootstrap(group: self.eventLoopGroup)
            .serverChannelOption(.backlog, value: 256)
            // A restarted node must get its port back while old sockets sit in TIME_WAIT.
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
    }

    private func configureServerPipeline(_ channel: any Channel) throws {
        let sync = channel.pipeline.syncOperations
        try sync.addHandler(NIOSSLServerHandler(context: self.tls.serverContext))
        try sync.addHandler(ByteToMessageHandler(PeerFrameDecoder(maxFrameSize: self.configuration.maxFrameSize)))
        try sync.addHandler(MessageToByteHandler(PeerFrameEncoder(maxFrameSize: self.configuration.maxFrameSize)))
        try sync.addHandler(PeerSessionHandler(
            local: self.tls.identity,
            role: .server,
            helloTimeout: TimeAmount(self.configuration.helloTimeout),
            onRejected: self.onRejected,
            logger: self.logger,
            established: channel.eventLoop.makePromise(of: String.self)
        ))
        try sync.addHandler(PeerRequestDispatcher(
            responder: self.responder, maxFrameSize: self.configuration.maxFrameSize,
            maxInFlight: self.configuration.maxRequestsInFlight, onRejected: self.onRejected, logger: self.logger
        ))
    }

    /// One inbound connection, held open until it closes. ``PeerSessionHandler``
    /// lets nothing through before the peer is authenticated, and
    /// ``PeerRequestDispatcher`` answers its requests on the event loop, so this
    /// task only sees the hello (which names the certificate-checked sender)
    /// and frames a client must not send.
    private func serve(_ connection: NIOAsyncChannel<PeerFrame, PeerFrame>) async {
        var logger = self.logger
        if let remote = connection.channel.remoteAddress { logger[metadataKey: "peer.address"] = "\(remote)" }
        do {
            try await connection.executeThenClose { inbound, _ in
                // The first hello is the one PeerSessionHandler checked against the certificate.
                var peer: String?
                for try await frame in inbound {
                    guard frame.kind != .hello else {
                        if peer == nil { peer = frame.text }
                        continue
                    }
                    let reason = "unexpected \(frame.kind) frame from a client"
                    logger.warning("closing peer connection: \(reason)", metadata: ["peer": "\(peer ?? "?")"])
                    self.onRejected(PeerRejection(reason: .badFrame, peer: peer ?? "?", message: reason))
                    return
                }
            }
        } catch {
            logger.debug("peer connection ended", metadata: ["error": "\(error)"])
        }
    }
}
