import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import ServiceLifecycle

/// The node's HTTP/1.1 listener: a bare SwiftNIO pipeline, because a
/// minimal framework route measured 0.48-0.69x nginx here while a bare NIO
/// handler reached 0.80-0.87x (DESIGN §5).
public final class HTTPServer: Service {
    public let host: String
    public let port: Int
    private let responder: any HTTPResponder
    private let group: any EventLoopGroup
    private let logger: Logger
    let channel: any Channel

    /// Binds at once, so a port conflict fails the node's start with a clear
    /// error instead of surfacing later inside the service group.
    /// A keep-alive connection that sends nothing for this long is closed.
    public static let defaultIdleTimeout: TimeAmount = .seconds(60)

    public init(host: String, port: Int, responder: any HTTPResponder, group: any EventLoopGroup, logger: Logger,
                idleTimeout: TimeAmount = HTTPServer.defaultIdleTimeout) async throws {
        self.host = host
        self.responder = responder
        self.group = group
        self.logger = logger
        let maxBody = CheckRequest.maxBodyBytes
        // One answer queue per event loop, so a group commit's answers reach
        // each loop in one hop.
        var queues: [ObjectIdentifier: AnswerQueue] = [:]
        for loop in group.makeIterator() { queues[ObjectIdentifier(loop)] = AnswerQueue(eventLoop: loop) }
        let answerQueues = queues
        channel = try await ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 1024)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelOption(.maxMessagesPerRead, value: 16)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    // HTTPHandler does the pipelining, error and encoding work of
                    // `configureHTTPServerPipeline`'s handlers, so only the decoder stays.
                    let handler = HTTPHandler(responder: responder, maxBody: maxBody,
                                              answers: answerQueues[ObjectIdentifier(channel.eventLoop)])
                    try channel.pipeline.syncOperations.addHandlers(IdleStateHandler(readTimeout: idleTimeout), IdleConnectionCloser())
                    if responder is any CheckResponder {
                        try channel.pipeline.syncOperations.addHandler(CheckRequestReader(handler: handler, maxBody: maxBody))
                    }
                    try channel.pipeline.syncOperations.addHandlers(
                        // The decoder hands on bodies as they are parsed, so its buffer holds
                        // at most a head or a partial chunk; anything larger is a client to drop.
                        ByteToMessageHandler(HTTPRequestDecoder(leftOverBytesStrategy: .dropBytes),
                                             maximumBufferSize: max(2 * maxBody, 256 * 1024)),
                        handler
                    )
                }
            }
            .bind(host: host, port: port)
            .get()
        self.port = channel.localAddress?.port ?? port
    }

    public func run() async throws {
        logger.info("HTTP listening", metadata: ["address": "http://\(host):\(port)"])
        try await withGracefulShutdownHandler {
            try await channel.closeFuture.get()
        } onGracefulShutdown: { [channel] in
            channel.close(promise: nil)
        }
    }
}
