import NIOCore

/// Reads the plain `POST /v1/check` requests nearly every client sends
/// straight from the socket's bytes, ahead of NIO's HTTP decoder, and hands
/// their bodies to the ``HTTPHandler``.
///
/// A request is taken only when the read holds all of it and it is as plain
/// as can be: exactly `POST /v1/check HTTP/1.1`, CRLF line ends, at most
/// 4 KiB of head, only the header fields in ``allowedFields`` (none that
/// changes framing or the connection: no `Transfer-Encoding`, `Connection`,
/// `Expect`, `Upgrade`), printable ASCII values, and one `Content-Length`
/// within the body cap. For such a request NIO's decoder would produce
/// exactly a keep-alive head with that body, which is all the handler uses.
///
/// At the first read that is anything else (another route, a split request,
/// an unusual field, garbage), the reader steps aside for good: those bytes
/// and all later ones go to the decoder, which sees a connection that starts
/// at a request boundary, as if the reader had never been there.
final class CheckRequestReader: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    /// Lower-case names of the fields a plain request may carry; the first
    /// is the one that frames the body.
    static let allowedFields: [StaticString] = ["content-length", "host", "content-type", "user-agent", "accept", "accept-encoding"]
    static let maxHead = 4096

    private let handler: HTTPHandler
    private let maxBody: Int
    private var handlerContext: ChannelHandlerContext?
    private var steppedAside = false

    init(handler: HTTPHandler, maxBody: Int) {
        self.handler = handler
        self.maxBody = maxBody
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !steppedAside else {
            context.fireChannelRead(data)
            return
        }
        var buffer = unwrapInboundIn(data)
        while buffer.readableBytes > 0 {
            guard let (body, length) = Self.plainCheck(in: buffer, maxBody: maxBody),
                  let handlerContext = handlerContext ?? findHandlerContext(context)
            else {
                steppedAside = true
                context.fireChannelRead(wrapInboundOut(buffer))
                return
            }
            buffer.moveReaderIndex(forwardBy: length)
            handler.receiveCheck(body: body, context: handlerContext)
        }
    }

    private func findHandlerContext(_ context: ChannelHandlerContext) -> ChannelHandlerContext? {
        handlerContext = try? context.pipeline.syncOperations.context(handler: handler)
        return handlerContext
    }

    /// The body and whole length of the plain check request at the start of
    /// `buffer`, or nil when there is none there.
    static func plainCheck(in buffer: ByteBuffer, maxBody: Int) -> (body: ByteBuffer, length: Int)? {
        let found: (bodyStart: Int, bodyLength: Int)? = buffer.withUnsafeReadableBytes { bytes in
            var scanner = PlainRequestScanner(bytes: bytes, maxHead: maxHead, maxBody: maxBody)
            return scanner.scan()
        }
        guard let found, let body = buffer.getSlice(at: buffer.readerIndex + found.bodyStart, length: found.bodyLength)
        else { return nil }
        return (body, found.bodyStart + found.bodyLength)
    }
}

/// The byte-level check behind ``CheckRequestReader``; nil means "not plain".
private struct PlainRequestScanner {
    let bytes: UnsafeRawBufferPointer
    let maxHead: Int
    let maxBody: Int
    var index = 0

    init(bytes: UnsafeRawBufferPointer, maxHead: Int, maxBody: Int) {
        self.bytes = bytes
        self.maxHead = maxHead
        self.maxBody = maxBody
    }

    static let requestLine: StaticString = "POST /v1/check HTTP/1.1\r\n"

    mutating func scan() -> (bodyStart: Int, bodyLength: Int)? {
        let line = UnsafeRawBufferPointer(start: Self.requestLine.utf8Start, count: Self.requestLine.utf8CodeUnitCount)
        guard bytes.count >= line.count, bytes.prefix(line.count).elementsEqual(line) else { return nil }
        index = line.count
        var contentLength: Int?
        while true {
            guard index + 1 < min(bytes.count, maxHead) else { return nil }
            if bytes[index] == 0x0D {
                guard bytes[index + 1] == 0x0A else { return nil }
                index += 2
                break
            }
            guard let (name, valueStart, valueEnd) = fieldLine(), let field = Self.allowedField(name) else { return nil }
            if field == 0 {
                guard contentLength == nil, let length = decimal(valueStart..<valueEnd), length <= maxBody else { return nil }
                contentLength = length
            }
        }
        guard let contentLength, bytes.count - index >= contentLength else { return nil }
        return (index, contentLength)
    }

    /// `name ":" OWS value OWS CRLF` with a token name and a value of visible
    /// ASCII and inner spaces; returns the name and the trimmed value's range.
    mutating func fieldLine() -> (name: UnsafeRawBufferPointer, valueStart: Int, valueEnd: Int)? {
        let nameStart = index
        while index < bytes.count, Self.isTokenByte(bytes[index]) { index += 1 }
        guard index > nameStart, index < bytes.count, bytes[index] == UInt8(ascii: ":") else { return nil }
        let name = UnsafeRawBufferPointer(rebasing: bytes[nameStart..<index])
        index += 1
        while index < bytes.count, bytes[index] == 0x20 || bytes[index] == 0x09 { index += 1 }
        let valueStart = index
        var valueEnd = index
        while index < bytes.count {
            let byte = bytes[index]
            if byte == 0x0D { break }
            guard (0x21...0x7E).contains(byte) || byte == 0x20 || byte == 0x09 else { return nil }
            index += 1
            if byte != 0x20 && byte != 0x09 { valueEnd = index }
        }
        guard index + 1 < bytes.count, bytes[index + 1] == 0x0A else { return nil }
        index += 2
        return (name, valueStart, valueEnd)
    }

    /// 1 to 7 digits, no leading zero unless the value is 0.
    func decimal(_ range: Range<Int>) -> Int? {
        guard (1...7).contains(range.count), range.count == 1 || bytes[range.lowerBound] != UInt8(ascii: "0") else { return nil }
        var value = 0
        for position in range {
            let byte = bytes[position]
            guard (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) else { return nil }
            value = value * 10 + Int(byte - UInt8(ascii: "0"))
        }
        return value
    }

    /// The index of `name` in ``CheckRequestReader/allowedFields``, ignoring
    /// ASCII case.
    static func allowedField(_ name: UnsafeRawBufferPointer) -> Int? {
        fields: for (index, field) in CheckRequestReader.allowedFields.enumerated() where field.utf8CodeUnitCount == name.count {
            let expected = UnsafeRawBufferPointer(start: field.utf8Start, count: field.utf8CodeUnitCount)
            for (byte, lower) in zip(name, expected) where (0x41...0x5A).contains(byte) ? byte | 0x20 != lower : byte != lower {
                continue fields
            }
            return index
        }
        return nil
    }

    /// RFC 9110 §5.6.2 tchar.
    static func isTokenByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            return true
        case UInt8(ascii: "!"), UInt8(ascii: "#"), UInt8(ascii: "$"), UInt8(ascii: "%"), UInt8(ascii: "&"), UInt8(ascii: "'"),
             UInt8(ascii: "*"), UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "^"), UInt8(ascii: "_"),
             UInt8(ascii: "`"), UInt8(ascii: "|"), UInt8(ascii: "~"):
            return true
        default:
            return false
        }
    }
}
