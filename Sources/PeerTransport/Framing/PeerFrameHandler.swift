import NIOCore

/// Frames a peer connection's byte stream: ``PeerFrameDecoder`` on the way
/// in, ``PeerFrameEncoder`` on the way out.
///
/// One concrete handler in place of NIO's generic `ByteToMessageHandler`
/// and `MessageToByteHandler`. Those are not specialized for our frame
/// types across the module boundary, so every frame paid generic metadata
/// lookups (`Optional`, `Result`) and `NIOAny` casts in both (callgrind).
///
/// Behaves as that pair did:
/// - a frame that cannot be read fires its ``PeerFrameError`` (the session
///   handler logs it and closes the connection) and the rest of the input
///   is dropped;
/// - a connection that ends inside a frame fires
///   ``PeerFrameError/Reason/truncated(buffered:)``;
/// - a frame above the cap is refused on the way out: its write fails.
final class PeerFrameHandler: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = PeerFrame
    typealias OutboundIn = PeerFrame
    typealias OutboundOut = ByteBuffer

    private var decoder: PeerFrameDecoder
    private let encoder: PeerFrameEncoder
    /// The start of a frame whose rest has not arrived yet.
    private var partial: ByteBuffer?
    /// A frame could not be read: everything after it is dropped.
    private var failed = false

    /// The storage held for a frame not yet complete (tests read it).
    var heldCapacity: Int { self.partial?.capacity ?? 0 }

    init(maxFrameSize: Int = PeerFrame.defaultMaxFrameSize) {
        self.decoder = PeerFrameDecoder(maxFrameSize: maxFrameSize)
        self.encoder = PeerFrameEncoder(maxFrameSize: maxFrameSize)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !self.failed else { return }
        var input = self.unwrapInboundIn(data)
        if var partial = self.partial {
            self.partial = nil
            partial.writeBuffer(&input)
            input = partial
        }
        do {
            while let frame = try self.decoder.decode(buffer: &input) {
                context.fireChannelRead(self.wrapInboundOut(frame))
                if self.failed { return }
            }
        } catch {
            self.failed = true
            context.fireErrorCaught(error)
            return
        }
        if input.readableBytes > 0 {
            // Kept for the next read without the bytes already read, so a
            // stream that always ends mid-frame does not grow the buffer.
            input.discardReadBytes()
            self.partial = input
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        if !self.failed, let partial = self.partial, partial.readableBytes > 0 {
            self.failed = true
            self.partial = nil
            context.fireErrorCaught(PeerFrameError(reason: .truncated(buffered: partial.readableBytes)))
        }
        context.fireChannelInactive()
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let frame = self.unwrapOutboundIn(data)
        var out = context.channel.allocator.buffer(capacity: 4 + PeerFrame.headerSize + frame.payload.readableBytes)
        do {
            try self.encoder.encode(data: frame, out: &out)
        } catch {
            promise?.fail(error)
            return
        }
        context.write(self.wrapOutboundOut(out), promise: promise)
    }
}
