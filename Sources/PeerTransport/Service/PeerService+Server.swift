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
            let listener = try await self.makeServerBootstrap()
                .childChannelInitializer { child in
                    child.eventLoop.makeCompletedFuture { try self.configureServerPipeline(child) }
                }
                .bind(host: self.host, port: self.port).get()
            channel = ServerChannel(channel: listener)
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
        // Serve until the listening socket closes: on cancellation (the
        // service group's shutdown) or ``shutdown()``.
        await withTaskCancellationHandler {
            try? await serverChannel.channel.closeFuture.get()
        } onCancel: {
            serverChannel.channel.close(promise: nil)
        }
        await self.closeInbound()
        await self.pool.shutdown()
        self.logger.info("stopped serving peers")
    }

    /// Closes every open inbound connection.
    func closeInbound() async {
        let open = self.inbound.withLock { Array($0.values) }
        for channel in open { try? await channel.close() }
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
        try sync.addHandler(PeerFrameHandler(maxFrameSize: self.configuration.maxFrameSize))
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
        var logger = self.logger
        if let remote = channel.remoteAddress { logger[metadataKey: "peer.address"] = "\(remote)" }
        try sync.addHandler(ClientFrameGuard(onRejected: self.onRejected, logger: logger))
        let id = ObjectIdentifier(channel)
        self.inbound.withLock { $0[id] = channel }
        channel.closeFuture.whenComplete { _ in self.inbound.withLock { _ = $0.removeValue(forKey: id) } }
    }

}

/// The end of an inbound connection's pipeline. ``PeerSessionHandler`` lets
/// nothing through before the peer is authenticated, and
/// ``PeerRequestDispatcher`` answers requests on the event loop, so what
/// reaches this handler is the hello (which names the certificate-checked
/// sender) and frames a client must not send: those close the connection.
final class ClientFrameGuard: ChannelInboundHandler {
    typealias InboundIn = PeerFrame

    private let onRejected: PeerRejectionHandler
    private let logger: Logger
    /// The first hello: the one PeerSessionHandler checked against the certificate.
    private var peer: String?

    init(onRejected: @escaping PeerRejectionHandler, logger: Logger) {
        self.onRejected = onRejected
        self.logger = logger
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        guard frame.kind != .hello else {
            if peer == nil { peer = frame.text }
            return
        }
        let reason = "unexpected \(frame.kind) frame from a client"
        logger.warning("closing peer connection: \(reason)", metadata: ["peer": "\(peer ?? "?")"])
        onRejected(PeerRejection(reason: .badFrame, peer: peer ?? "?", message: reason))
        context.close(promise: nil)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        logger.debug("peer connection ended", metadata: ["error": "\(error)"])
        context.close(promise: nil)
    }
}
