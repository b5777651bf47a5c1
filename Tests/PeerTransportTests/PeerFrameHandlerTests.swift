import NIOCore
import NIOEmbedded
import Testing
@testable import PeerTransport

/// ``PeerFrameHandler`` in a channel: what NIO's ByteToMessageHandler and
/// MessageToByteHandler did around the frame codec, which it replaces.
@Suite("The peer frame handler on a channel")
struct PeerFrameHandlerTests {
    /// Records what passes the frame handler inbound: frames and errors.
    final class Recorder: ChannelInboundHandler {
        typealias InboundIn = PeerFrame
        var frames: [PeerFrame] = []
        var errors: [any Error] = []
        var inactive = false

        func channelRead(context: ChannelHandlerContext, data: NIOAny) { frames.append(unwrapInboundIn(data)) }
        func errorCaught(context: ChannelHandlerContext, error: any Error) { errors.append(error) }
        func channelInactive(context: ChannelHandlerContext) { inactive = true }
    }

    private func channel(maxFrameSize: Int = PeerFrame.defaultMaxFrameSize) throws -> (EmbeddedChannel, Recorder) {
        let recorder = Recorder()
        let channel = EmbeddedChannel()
        try channel.pipeline.syncOperations.addHandlers(PeerFrameHandler(maxFrameSize: maxFrameSize), recorder)
        return (channel, recorder)
    }

    private func bytes(_ frames: [PeerFrame]) throws -> [UInt8] {
        var out = ByteBuffer()
        for frame in frames { try PeerFrameEncoder().encode(data: frame, out: &out) }
        return Array(out.readableBytesView)
    }

    static let frames = [
        PeerFrame(kind: .request, correlationID: 1, payload: ByteBuffer(string: "one")),
        PeerFrame(kind: .response, correlationID: 2, payload: ByteBuffer(repeating: 9, count: 300)),
        PeerFrame(kind: .oneway, correlationID: 3, payload: ByteBuffer()),
    ]

    @Test("frames arriving in one read, or split at every byte, or in uneven pieces, come out whole and in order")
    func framesAcrossReads() throws {
        let stream = try bytes(Self.frames)
        for pieceSize in [stream.count, 1, 2, 7, 13, 100] {
            let (channel, recorder) = try channel()
            var offset = 0
            while offset < stream.count {
                let end = min(offset + pieceSize, stream.count)
                try channel.writeInbound(ByteBuffer(bytes: stream[offset..<end]))
                offset = end
            }
            #expect(recorder.frames == Self.frames, "pieces of \(pieceSize) bytes")
            #expect(recorder.errors.isEmpty)
            _ = try channel.finish()
            #expect(recorder.errors.isEmpty, "no bytes were left over")
        }
    }

    @Test("a stream that always ends inside a frame holds at most 256 bytes of storage for its 64-byte frames, however long it runs")
    func partialBufferStaysSmall() throws {
        let handler = PeerFrameHandler()
        let channel = EmbeddedChannel()
        try channel.pipeline.syncOperations.addHandler(handler)  // Frames go nowhere: nothing else holds the storage.
        let frame = try bytes([PeerFrame(kind: .request, correlationID: 5, payload: ByteBuffer(repeating: 1, count: 50))])
        // 64 bytes a frame, read 40 at a time: every read but a few ends inside a frame.
        var stream: [UInt8] = []
        for _ in 0..<2000 { stream += frame }
        var offset = 0
        var largest = 0
        while offset < stream.count {
            let end = min(offset + 40, stream.count)
            try channel.writeInbound(ByteBuffer(bytes: stream[offset..<end]))
            offset = end
            largest = max(largest, handler.heldCapacity)
        }
        #expect(largest > 0 && largest <= 256, "held \(largest) bytes")
        _ = try channel.finish()
    }

    @Test("a bad frame fires its error once and nothing after it is read, even frames that are fine")
    func badFrameStopsReading() throws {
        let (channel, recorder) = try channel(maxFrameSize: 1024)
        var stream = try bytes([Self.frames[0]])
        stream += [0, 0, 0, 10, 1, 99]  // unknown kind
        stream += try bytes([Self.frames[2]])
        try channel.writeInbound(ByteBuffer(bytes: stream))
        try channel.writeInbound(ByteBuffer(bytes: try bytes([Self.frames[1]])))
        #expect(recorder.frames == [Self.frames[0]])
        #expect(recorder.errors.count == 1)
        #expect(recorder.errors.first as? PeerFrameError == PeerFrameError(reason: .unknownKind(99)))
    }

    @Test("an oversize length is refused as soon as its prefix arrives")
    func oversizeOnPrefix() throws {
        let (channel, recorder) = try channel(maxFrameSize: 1024)
        try channel.writeInbound(ByteBuffer(bytes: [0, 0, 4, 1]))
        #expect(recorder.errors.first as? PeerFrameError == PeerFrameError(reason: .tooLarge(length: 1025, limit: 1024)))
    }

    @Test("a connection that ends inside a frame fires truncated, naming the bytes held, then goes inactive")
    func truncatedAtClose() throws {
        let (channel, recorder) = try channel()
        let stream = try bytes([Self.frames[0], Self.frames[1]])
        try channel.writeInbound(ByteBuffer(bytes: stream.dropLast(5)))
        #expect(recorder.frames == [Self.frames[0]])
        _ = try channel.finish()
        #expect(recorder.errors.first as? PeerFrameError == PeerFrameError(reason: .truncated(buffered: 4 + 10 + 300 - 5)))
        #expect(recorder.inactive)
    }

    @Test("frames written go out as their encoding; one above the cap fails its write and sends nothing")
    func writes() throws {
        let (channel, _) = try channel(maxFrameSize: 64)
        try channel.writeOutbound(Self.frames[0])
        let written = try channel.readOutbound(as: ByteBuffer.self)
        #expect(written.map { Array($0.readableBytesView) } == (try bytes([Self.frames[0]])))
        #expect(throws: PeerFrameError.self) { try channel.writeOutbound(Self.frames[1]) }
        #expect(try channel.readOutbound(as: ByteBuffer.self) == nil)
    }
}
