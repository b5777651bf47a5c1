import NIOCore

/// Reads ``PeerFrame``s from a byte stream.
///
/// Rejects an oversize length as soon as the 4-byte prefix arrives, so a hostile
/// peer cannot make us buffer `UInt32.max` bytes. Any error closes the connection
/// (the pipeline's ``PeerSessionHandler`` logs why); other connections are
/// untouched.
struct PeerFrameDecoder: NIOSingleStepByteToMessageDecoder {
    typealias InboundOut = PeerFrame

    let maxFrameSize: Int

    init(maxFrameSize: Int = PeerFrame.defaultMaxFrameSize) {
        self.maxFrameSize = maxFrameSize
    }

    mutating func decode(buffer: inout ByteBuffer) throws -> PeerFrame? {
        guard let length = buffer.getInteger(at: buffer.readerIndex, as: UInt32.self) else { return nil }
        let frameLength = Int(length)
        guard frameLength <= self.maxFrameSize else {
            throw PeerFrameError(reason: .tooLarge(length: frameLength, limit: self.maxFrameSize))
        }
        guard frameLength >= PeerFrame.headerSize else {
            throw PeerFrameError(reason: .tooShort(length: frameLength))
        }
        // Check version and kind as soon as they arrive: garbage fails fast rather
        // than waiting for a length's worth of bytes that may never come.
        if let version = buffer.getInteger(at: buffer.readerIndex + 4, as: UInt8.self), version != PeerFrame.version {
            throw PeerFrameError(reason: .unknownVersion(version))
        }
        if let rawKind = buffer.getInteger(at: buffer.readerIndex + 5, as: UInt8.self), PeerFrame.Kind(rawValue: rawKind) == nil {
            throw PeerFrameError(reason: .unknownKind(rawKind))
        }
        guard buffer.readableBytes >= 4 + frameLength else { return nil }

        // Everything below was checked above: the reads cannot fail.
        buffer.moveReaderIndex(forwardBy: 5)
        let kind = PeerFrame.Kind(rawValue: buffer.readInteger(as: UInt8.self)!)!
        let correlationID = buffer.readInteger(as: UInt64.self)!
        let payload = buffer.readSlice(length: frameLength - PeerFrame.headerSize)!
        return PeerFrame(kind: kind, correlationID: correlationID, payload: payload)
    }

    mutating func decodeLast(buffer: inout ByteBuffer, seenEOF: Bool) throws -> PeerFrame? {
        if let frame = try self.decode(buffer: &buffer) { return frame }
        if seenEOF && buffer.readableBytes > 0 {
            throw PeerFrameError(reason: .truncated(buffered: buffer.readableBytes))
        }
        return nil
    }
}

/// Writes ``PeerFrame``s; refuses frames above the cap so that we never send what
/// the peer would reject (callers check first and report ``PeerError/Code/frameTooLarge``).
struct PeerFrameEncoder: MessageToByteEncoder {
    typealias OutboundIn = PeerFrame

    let maxFrameSize: Int

    init(maxFrameSize: Int = PeerFrame.defaultMaxFrameSize) {
        self.maxFrameSize = maxFrameSize
    }

    func encode(data frame: PeerFrame, out: inout ByteBuffer) throws {
        let length = PeerFrame.headerSize + frame.payload.readableBytes
        guard length <= self.maxFrameSize else {
            throw PeerFrameError(reason: .tooLarge(length: length, limit: self.maxFrameSize))
        }
        out.reserveCapacity(4 + length)
        out.writeInteger(UInt32(length))
        out.writeInteger(PeerFrame.version)
        out.writeInteger(frame.kind.rawValue)
        out.writeInteger(frame.correlationID)
        var payload = frame.payload
        out.writeBuffer(&payload)
    }
}
