import Logging
import NIOCore
import NIOPosix
import Synchronization

/// Answers one request from a peer without leaving the connection's event
/// loop: called on that loop for each request or oneway frame, it calls
/// `reply` once, from any thread, when the answer is ready (a nil reply to
/// a request is reported to the caller as ``PeerError/Code/remote``; replies
/// to oneway frames are ignored). The node's check path uses this form so a
/// forwarded check costs no task hop on the owner.
public typealias PeerResponder = @Sendable (_ from: String, _ payload: ByteBuffer, _ reply: PeerReply) -> Void

/// Sends the answer to one request back on its connection; calling it more
/// than once sends nothing more.
public struct PeerReply: Sendable {
    let send: @Sendable (ByteBuffer?) -> Void

    public init(_ send: @escaping @Sendable (ByteBuffer?) -> Void) {
        self.send = send
    }

    public func callAsFunction(_ payload: ByteBuffer?) { send(payload) }
}

/// A node's peer endpoint: serves framed requests from other nodes over mutual
/// TLS and sends its own requests to them over one pooled connection per peer.
///
/// `run()` serves until its task is cancelled (wrap it in a swift-service-lifecycle
/// `Service`); ``request(to:payload:timeout:)`` and ``send(to:payload:timeout:)``
/// work whether or not `run()` is active. Each inbound connection is one structured
/// child task (`withThrowingDiscardingTaskGroup`); its requests go to the
/// ``PeerResponder`` on the connection's event loop and are answered with their
/// correlation ids whenever each is ready, so one slow request does not hold up
/// the others (no head-of-line blocking within a connection).
public final class PeerService: Sendable {
    /// Limits and timeouts; every property has a working default.
    public struct Configuration: Sendable, Hashable {
        /// Largest frame (header + payload) accepted or sent: 4 MiB by default.
        public var maxFrameSize: Int = PeerFrame.defaultMaxFrameSize
        /// TCP connect timeout when dialing a peer.
        public var connectTimeout: Duration = .seconds(5)
        /// Time allowed for the TLS handshake plus hello exchange, both directions;
        /// a connection that has not authenticated by then is closed.
        public var helloTimeout: Duration = .seconds(5)
        /// Requests one inbound connection may have unanswered at once; more
        /// are answered with an error frame at once instead of queueing, so a
        /// peer cannot make this node hold unbounded work.
        public var maxRequestsInFlight = 1_024
        /// The local address outgoing peer connections are made from; nil
        /// uses the listening host when it is one IP address (so the other
        /// nodes, and any firewall between them, see this node's address), and
        /// lets the kernel choose for a wildcard host.
        public var sourceAddress: String?

        public init() {}
    }

    public let localID: String
    public let environment: String
    public let host: String
    public let port: Int
    public let configuration: Configuration

    let tls: PeerTLS
    let responder: PeerResponder
    let onRejected: PeerRejectionHandler
    let logger: Logger
    let eventLoopGroup: any EventLoopGroup
    let pool: PeerConnectionPool
    let server = Mutex(ServerState.idle)

    enum ServerState: Sendable {
        case idle
        case bound(ServerChannel)
        case running(ServerChannel)
        case stopped
    }

    /// The listening socket. Inbound connections are served entirely by
    /// their pipeline's handlers (no `NIOAsyncChannel` per connection: one
    /// accepted while the service stops would be dropped unfinished, which
    /// NIO treats as a fatal error).
    struct ServerChannel: Sendable {
        let channel: any Channel
    }

    /// Open inbound connections, closed when the service stops.
    let inbound = Mutex<[ObjectIdentifier: any Channel]>([:])

    /// - Parameters:
    ///   - localID: this node's id; `tls` must hold this node's certificate.
    ///   - host, port: where to listen (port 0 picks a free port, see ``boundPort``).
    ///   - responder: answers requests from peers on their connection's event loop.
    ///   - onRejected: told of each peer input refused (``PeerRejection``), on
    ///     any thread, so the node can count it; must not block.
    public init(
        localID: String,
        environment: String,
        host: String,
        port: Int,
        tls: PeerTLS,
        responder: @escaping PeerResponder,
        onRejected: @escaping PeerRejectionHandler = { _ in },
        logger: Logger,
        eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        configuration: Configuration = Configuration()
    ) {
        self.localID = localID
        self.environment = environment
        self.host = host
        self.port = port
        self.tls = tls
        self.responder = responder
        self.onRejected = onRejected
        var logger = logger
        logger[metadataKey: "node"] = "\(localID)"
        self.logger = logger
        self.eventLoopGroup = eventLoopGroup
        var configuration = configuration
        if configuration.sourceAddress == nil, !["0.0.0.0", "::", ""].contains(host),
           (try? SocketAddress(ipAddress: host, port: 0)) != nil {
            configuration.sourceAddress = host
        }
        self.configuration = configuration
        self.pool = PeerConnectionPool(group: eventLoopGroup, tls: tls, configuration: configuration, onRejected: onRejected,
                                       logger: logger)
    }

    /// The address the peer port is bound to, once ``bind()`` or ``run()`` has bound it.
    public var localAddress: SocketAddress? {
        self.server.withLock { state in
            switch state {
            case .bound(let channel), .running(let channel): return channel.channel.localAddress
            case .idle, .stopped: return nil
            }
        }
    }

    /// The bound port (useful after binding port 0 in tests).
    public var boundPort: Int? { self.localAddress?.port }

    /// Stops serving (if serving) and closes every outgoing connection. Requests
    /// made afterwards fail with ``PeerError/Code/shutdown``.
    public func shutdown() async {
        let channel = self.server.withLock { state -> ServerChannel? in
            switch state {
            case .bound(let channel), .running(let channel):
                state = .stopped
                return channel
            case .idle, .stopped:
                state = .stopped
                return nil
            }
        }
        // Closing the listening socket ends `run()`, which then closes the
        // inbound connections.
        try? await channel?.channel.close()
        await self.closeInbound()
        await self.pool.shutdown()
    }
}
