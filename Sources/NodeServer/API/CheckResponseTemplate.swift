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

    /// Whether ``encode(_:into:keepAlive:)`` renders `result` exactly.
    func fits(_ result: CheckResult) -> Bool {
        result.rule == rule.name && result.version == version && Self.needsNoEscape(result.node)
    }

    /// Whether `text` stands in a JSON string as its own bytes.
    private static func needsNoEscape(_ text: String) -> Bool {
        text.utf8.allSatisfy { $0 >= 0x20 && $0 != UInt8(ascii: "\"") && $0 != UInt8(ascii: "\\") }
    }

    /// The whole HTTP/1.1 answer for `result`, which must ``fits(_:)``,
    /// written in one reservation of `buffer`: a `ByteBuffer` write per
    /// piece, twenty-two for an allowed check, cost about 6k instructions
    /// more per answer (callgrind).
    func encode(_ result: CheckResult, into buffer: inout ByteBuffer, keepAlive: Bool) {
        let decision = result.decision
        let limit = Int64(decision.limit)
        let remaining = Int64(decision.remaining)
        let resetSeconds = CheckResult.ceilSeconds(decision.resetMs)
        let retrySeconds = max(1, CheckResult.ceilSeconds(decision.retryAfterMs))
        let limitDigits = ByteBuffer.decimalLength(limit)
        let remainingDigits = ByteBuffer.decimalLength(remaining)
        let resetMsDigits = ByteBuffer.decimalLength(decision.resetMs)
        let retryMsDigits = ByteBuffer.decimalLength(decision.retryAfterMs)
        let resetSecondsDigits = ByteBuffer.decimalLength(resetSeconds)
        let retrySecondsDigits = ByteBuffer.decimalLength(retrySeconds)
        let nodeCount = result.node.utf8.count
        let opening: StaticString = decision.allowed ? #"{"allowed":true,"limit":"# : #"{"allowed":false,"limit":"#
        let bodyLength = opening.utf8CodeUnitCount + limitDigits + Self.remainingField.utf8CodeUnitCount + remainingDigits
            + Self.resetField.utf8CodeUnitCount + resetMsDigits + Self.retryField.utf8CodeUnitCount + retryMsDigits
            + bodyTail.count + nodeCount + Self.closing.utf8CodeUnitCount
        let bodyLengthDigits = ByteBuffer.decimalLength(Int64(bodyLength))
        var headLength = Self.statusLine.utf8CodeUnitCount + bodyLengthDigits + 2 + policyHead.count + limitDigits
            + policyTail.count + remainingDigits + Self.resetParameter.utf8CodeUnitCount + resetSecondsDigits + 2 + 2
        if !decision.allowed { headLength += Self.retryAfter.utf8CodeUnitCount + retrySecondsDigits + 2 }
        if !keepAlive { headLength += Self.connectionClose.utf8CodeUnitCount }
        let total = headLength + bodyLength
        buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: total) { raw in
            var out = Cursor(base: raw.baseAddress!)
            out.write(Self.statusLine)
            out.write(decimal: Int64(bodyLength), digits: bodyLengthDigits)
            out.write(Self.lineEnd)
            out.write(policyHead)
            out.write(decimal: limit, digits: limitDigits)
            out.write(policyTail)
            out.write(decimal: remaining, digits: remainingDigits)
            out.write(Self.resetParameter)
            out.write(decimal: resetSeconds, digits: resetSecondsDigits)
            out.write(Self.lineEnd)
            if !decision.allowed {
                out.write(Self.retryAfter)
                out.write(decimal: retrySeconds, digits: retrySecondsDigits)
                out.write(Self.lineEnd)
            }
            if !keepAlive { out.write(Self.connectionClose) }
            out.write(Self.lineEnd)
            let bodyStart = out.offset
            out.write(opening)
            out.write(decimal: limit, digits: limitDigits)
            out.write(Self.remainingField)
            out.write(decimal: remaining, digits: remainingDigits)
            out.write(Self.resetField)
            out.write(decimal: decision.resetMs, digits: resetMsDigits)
            out.write(Self.retryField)
            out.write(decimal: decision.retryAfterMs, digits: retryMsDigits)
            out.write(bodyTail)
            out.write(result.node)
            out.write(Self.closing)
            precondition(out.offset == total && out.offset - bodyStart == bodyLength,
                         "check answer of \(out.offset) bytes (body \(out.offset - bodyStart)), \(total) (\(bodyLength)) expected")
            return total
        }
    }

    private static let statusLine: StaticString = "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: "
    private static let lineEnd: StaticString = "\r\n"
    private static let resetParameter: StaticString = ";t="
    private static let retryAfter: StaticString = "Retry-After: "
    private static let connectionClose: StaticString = "connection: close\r\n"
    private static let remainingField: StaticString = #","remaining":"#
    private static let resetField: StaticString = #","reset_ms":"#
    private static let retryField: StaticString = #","retry_after_ms":"#
    private static let closing: StaticString = #""}"#

    /// Writes into memory reserved for exactly what is written.
    private struct Cursor {
        let base: UnsafeMutableRawPointer
        var offset = 0

        mutating func write(_ text: StaticString) {
            text.withUTF8Buffer { bytes in
                (base + offset).copyMemory(from: bytes.baseAddress!, byteCount: bytes.count)
                offset += bytes.count
            }
        }

        mutating func write(_ bytes: [UInt8]) {
            bytes.withUnsafeBytes { raw in
                guard let source = raw.baseAddress else { return }
                (base + offset).copyMemory(from: source, byteCount: raw.count)
                offset += raw.count
            }
        }

        mutating func write(_ text: String) {
            let copied: Void? = text.utf8.withContiguousStorageIfAvailable { bytes in
                guard let source = bytes.baseAddress else { return }
                (base + offset).copyMemory(from: source, byteCount: bytes.count)
                offset += bytes.count
            }
            if copied == nil {
                for byte in text.utf8 {
                    base.storeBytes(of: byte, toByteOffset: offset, as: UInt8.self)
                    offset += 1
                }
            }
        }

        /// `value` in `digits` decimal digits, as ``ByteBuffer/decimalLength(_:)`` counts them.
        mutating func write(decimal value: Int64, digits: Int) {
            ByteBuffer.storeDecimal(value, digits: digits, at: base + offset)
            offset += digits
        }
    }
}
