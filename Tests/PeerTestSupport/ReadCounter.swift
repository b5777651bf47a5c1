import NIOCore

/// Counts the reads that reach the socket end of a pipeline: put it first
/// to see whether the handlers after it hold reads back.
public final class ReadCounter: ChannelOutboundHandler, @unchecked Sendable {
    public typealias OutboundIn = Any
    public private(set) var reads = 0

    public init() {}

    public func read(context: ChannelHandlerContext) {
        reads += 1
        context.read()
    }
}
