import NIOCore
import NIOHTTP1

/// HTTP/1.1 response bytes, written by the node itself instead of NIO's
/// `HTTPResponseEncoder` so an answer leaves in one buffer and one write.
///
/// The output is byte for byte what `configureHTTPServerPipeline` produced
/// for these responses: status line, `content-type`, `content-length`, the
/// route's headers, `connection: close` when the connection ends, a blank
/// line, the body. Responses to `HEAD` keep their `content-length` but carry
/// no body, and responses to `CONNECT` have neither (RFC 9110 §9.3.2,
/// §9.3.6), as the NIO encoder framed them.
extension HTTPResponse {
    func encode(into buffer: inout ByteBuffer, keepAlive: Bool, requestMethod: HTTPMethod) {
        buffer.writeStatusLine(status)
        buffer.writeStaticString("content-type: ")
        buffer.writeString(contentType)
        buffer.writeStaticString("\r\n")
        let framed = requestMethod != .CONNECT
        if framed {
            buffer.writeStaticString("content-length: ")
            buffer.writeDecimal(Int64(body.count))
            buffer.writeStaticString("\r\n")
        }
        for (name, value) in headers {
            buffer.writeString(name)
            buffer.writeStaticString(": ")
            buffer.writeString(value)
            buffer.writeStaticString("\r\n")
        }
        if !keepAlive { buffer.writeStaticString("connection: close\r\n") }
        buffer.writeStaticString("\r\n")
        if framed && requestMethod != .HEAD { buffer.writeBytes(body) }
    }

    /// What NIO's `HTTPServerProtocolErrorHandler` answers to bytes that are
    /// not HTTP/1: a bare 400 before the connection closes.
    static let parserErrorBytes: StaticString = "HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n"
}

extension ByteBuffer {
    /// `HTTP/1.1 <code> <reason>\r\n`, with NIO's reason phrases.
    mutating func writeStatusLine(_ status: HTTPResponseStatus) {
        switch status {
        case .ok: writeStaticString("HTTP/1.1 200 OK\r\n")
        default:
            writeStaticString("HTTP/1.1 ")
            writeDecimal(Int64(status.code))
            writeStaticString(" ")
            writeString(status.reasonPhrase)
            writeStaticString("\r\n")
        }
    }

    /// The decimal digits of `value`, as `String(value)` spells them, without
    /// making the string.
    @discardableResult
    mutating func writeDecimal(_ value: Int64) -> Int {
        let count = Self.decimalLength(value)
        return writeWithUnsafeMutableBytes(minimumWritableBytes: count) { raw in
            Self.storeDecimal(value, digits: count, at: raw.baseAddress!)
            return count
        }
    }

    /// Stores `value` as ``writeDecimal(_:)`` writes it in the `digits`
    /// bytes (its ``decimalLength(_:)``) at `start`.
    static func storeDecimal(_ value: Int64, digits: Int, at start: UnsafeMutableRawPointer) {
        var magnitude = value.magnitude
        var index = digits
        repeat {
            index -= 1
            start.storeBytes(of: UInt8(truncatingIfNeeded: 48 &+ magnitude % 10), toByteOffset: index, as: UInt8.self)
            magnitude /= 10
        } while magnitude > 0
        if value < 0 { start.storeBytes(of: UInt8(ascii: "-"), as: UInt8.self) }
    }

    /// How many bytes ``writeDecimal(_:)`` writes for `value`.
    static func decimalLength(_ value: Int64) -> Int {
        var magnitude = value.magnitude
        var count = value < 0 ? 2 : 1
        while magnitude >= 10 {
            magnitude /= 10
            count += 1
        }
        return count
    }
}
