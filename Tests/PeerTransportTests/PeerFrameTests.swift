import NIOCore
import Testing
@testable import PeerTransport

@Suite("Peer frames")
struct PeerFrameTests {
    private func encode(_ frame: PeerFrame, maxFrameSize: Int = PeerFrame.defaultMaxFrameSize) throws -> ByteBuffer {
        var out = ByteBuffer()
        try PeerFrameEncoder(maxFrameSize: maxFrameSize).encode(data: frame, out: &out)
        return out
    }

    @Test("a frame is length, version, kind, correlation id and payload, and decodes back to itself")
    func roundTrip() throws {
        let frame = PeerFrame(kind: .request, correlationID: 0x0102_0304_0506_0708, payload: ByteBuffer(string: "hi"))
        var bytes = try self.encode(frame)
        #expect(Array(bytes.readableBytesView) == [0, 0, 0, 12, 1, 2, 1, 2, 3, 4, 5, 6, 7, 8, UInt8(ascii: "h"), UInt8(ascii: "i")])
        var decoder = PeerFrameDecoder()
        #expect(try decoder.decode(buffer: &bytes) == frame)
        #expect(bytes.readableBytes == 0)
    }

    @Test("a frame split across reads decodes only once complete")
    func partialFrames() throws {
        let frame = PeerFrame(kind: .oneway, correlationID: 9, payload: ByteBuffer(repeating: 7, count: 100))
        let bytes = try self.encode(frame)
        var decoder = PeerFrameDecoder()
        var buffer = ByteBuffer()
        for index in 0..<(bytes.readableBytes - 1) {
            buffer.writeInteger(bytes.getInteger(at: index, as: UInt8.self)!)
            #expect(try decoder.decode(buffer: &buffer) == nil)
        }
        buffer.writeInteger(bytes.getInteger(at: bytes.readableBytes - 1, as: UInt8.self)!)
        #expect(try decoder.decode(buffer: &buffer) == frame)
    }

    @Test("an oversize length is rejected from its 4-byte prefix alone")
    func oversizeLength() {
        var buffer = ByteBuffer()
        buffer.writeInteger(UInt32(1025))
        var decoder = PeerFrameDecoder(maxFrameSize: 1024)
        #expect(throws: PeerFrameError(reason: .tooLarge(length: 1025, limit: 1024))) {
            try decoder.decode(buffer: &buffer)
        }
    }

    @Test("an unknown version, an unknown kind or a length shorter than the header is rejected")
    func malformedHeaders() {
        var decoder = PeerFrameDecoder()
        var badVersion = ByteBuffer(bytes: [0, 0, 0, 10, 2, 2])
        #expect(throws: PeerFrameError(reason: .unknownVersion(2))) { try decoder.decode(buffer: &badVersion) }
        var badKind = ByteBuffer(bytes: [0, 0, 0, 10, 1, 99])
        #expect(throws: PeerFrameError(reason: .unknownKind(99))) { try decoder.decode(buffer: &badKind) }
        var tooShort = ByteBuffer(bytes: [0, 0, 0, 3, 1, 2, 0])
        #expect(throws: PeerFrameError(reason: .tooShort(length: 3))) { try decoder.decode(buffer: &tooShort) }
    }

    @Test("bytes left over at end of stream are a truncated frame")
    func truncatedAtEOF() throws {
        var bytes = try self.encode(PeerFrame(kind: .request, correlationID: 1, payload: ByteBuffer(string: "abcdef")))
        bytes.moveWriterIndex(to: bytes.writerIndex - 3)
        var decoder = PeerFrameDecoder()
        #expect(try decoder.decode(buffer: &bytes) == nil)
        #expect(throws: PeerFrameError(reason: .truncated(buffered: 17))) {
            try decoder.decodeLast(buffer: &bytes, seenEOF: true)
        }
    }

    @Test("the encoder refuses a frame above the cap")
    func encoderCap() {
        let frame = PeerFrame(kind: .response, correlationID: 1, payload: ByteBuffer(repeating: 0, count: 100))
        #expect(throws: PeerFrameError.self) { try self.encode(frame, maxFrameSize: 64) }
    }
}
