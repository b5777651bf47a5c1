import JSONCore
import LimiterCore
import NIOCore

/// The parts of a rule's `POST /v1/check` answer that never change, made
/// once per rule so an answer is a few copies and five numbers written
/// straight into the output buffer.
///
/// The bytes are those of ``CheckResult/json`` and
/// ``CheckResult/headers(periodSeconds:)`` encoded by
/// ``HTTPResponse/encode(into:keepAlive:requestMethod:)``. The answering
/// node's id (this node's, or the owner's for a forwarded check) is written
/// between the tail's quotes as it is, so a result takes the general path
/// when its node id would need a JSON escape (ids are `[a-z0-9-]+`), or
/// when it is of another rule or version.
final class CheckResponseTemplate: Sendable {
    let rule: Rule
    let version: String
    /// `RateLimit-Policy: "API";q=`
    private let policyHead: [UInt8]
    /// `;w=60\r\nRateLimit: "API";r=`
    private let policyTail: [UInt8]
    /// `,"rule":"API","version":"v-…","node":"`: the node id and `"}` follow.
    private let bodyTail: [UInt8]

    init(rule: Rule, version: String) {
        self.rule = rule
        self.version = version
        let name = CheckResult.structuredString(rule.name)
        policyHead = Array("RateLimit-Policy: \(name);q=".utf8)
        policyTail = Array(";w=\(rule.periodSeconds)\r\nRateLimit: \(name);r=".utf8)
        var writer = JSONWriter(capacity: 64)
        writer.beginObject()
        writer.field("allowed", false)  // Opens the object so the fields below get their commas.
        writer.field("rule", rule.name)
        writer.field("version", version)
        bodyTail = Array(writer.bytes.dropFirst(#"{"allowed":false"#.utf8.count)) + Array(#","node":""#.utf8)
    }

    /// The body's bytes other than the values and the tail.
    private static let fixedBodyLength = #"{"allowed":,"limit":,"remaining":,"reset_ms":,"retry_after_ms":"#.utf8.count

    /// Whether ``encode(_:into:keepAlive:)`` renders `result` exactly.
    func fits(_ result: CheckResult) -> Bool {
        result.rule == rule.name && result.version == version && Self.needsNoEscape(result.node)
    }

    /// Whether `text` stands in a JSON string as its own bytes.
    private static func needsNoEscape(_ text: String) -> Bool {
        text.utf8.allSatisfy { $0 >= 0x20 && $0 != UInt8(ascii: "\"") && $0 != UInt8(ascii: "\\") }
    }

    /// The whole HTTP/1.1 answer for `result`, which must ``fits(_:)``.
    func encode(_ result: CheckResult, into buffer: inout ByteBuffer, keepAlive: Bool) {
        let decision = result.decision
        let bodyLength = Self.fixedBodyLength + (decision.allowed ? 4 : 5)
            + ByteBuffer.decimalLength(Int64(decision.limit)) + ByteBuffer.decimalLength(Int64(decision.remaining))
            + ByteBuffer.decimalLength(decision.resetMs) + ByteBuffer.decimalLength(decision.retryAfterMs)
            + bodyTail.count + result.node.utf8.count + #""}"#.utf8.count
        buffer.writeStaticString("HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: ")
        buffer.writeDecimal(Int64(bodyLength))
        buffer.writeStaticString("\r\n")
        buffer.writeBytes(policyHead)
        buffer.writeDecimal(Int64(decision.limit))
        buffer.writeBytes(policyTail)
        buffer.writeDecimal(Int64(decision.remaining))
        buffer.writeStaticString(";t=")
        buffer.writeDecimal(CheckResult.ceilSeconds(decision.resetMs))
        buffer.writeStaticString("\r\n")
        if !decision.allowed {
            buffer.writeStaticString("Retry-After: ")
            buffer.writeDecimal(max(1, CheckResult.ceilSeconds(decision.retryAfterMs)))
            buffer.writeStaticString("\r\n")
        }
        if !keepAlive { buffer.writeStaticString("connection: close\r\n") }
        buffer.writeStaticString("\r\n")
        let bodyStart = buffer.writerIndex
        buffer.writeStaticString(decision.allowed ? #"{"allowed":true,"limit":"# : #"{"allowed":false,"limit":"#)
        buffer.writeDecimal(Int64(decision.limit))
        buffer.writeStaticString(#","remaining":"#)
        buffer.writeDecimal(Int64(decision.remaining))
        buffer.writeStaticString(#","reset_ms":"#)
        buffer.writeDecimal(decision.resetMs)
        buffer.writeStaticString(#","retry_after_ms":"#)
        buffer.writeDecimal(decision.retryAfterMs)
        buffer.writeBytes(bodyTail)
        buffer.writeString(result.node)
        buffer.writeStaticString(#""}"#)
        assert(buffer.writerIndex - bodyStart == bodyLength, "check body length \(buffer.writerIndex - bodyStart) != \(bodyLength)")
    }
}
