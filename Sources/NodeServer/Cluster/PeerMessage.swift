import LimiterCore
import NIOCore

/// What nodes say to each other inside peer frames: membership gossip and
/// batches of forwarded checks. A compact binary codec: one kind byte, then
/// fields; strings are UInt16-length-prefixed UTF-8 (keys are at most 1024
/// bytes). Decoding never traps on hostile input: it throws.
enum PeerMessage: Sendable, Equatable {
    /// A SWIM message (ping, ping-req, push-pull...) in the Membership codec.
    case swim([UInt8])
    /// Checks this node owns, from a node that does not.
    case checkBatch([CheckRequest])
    /// The owner's answers, in request order.
    case checkResults([CheckResult])
    /// The owner could not decide (for example its log is failing).
    case problem(status: Int, code: String, detail: String)

    enum Kind: UInt8 {
        case swim = 1
        case checkBatch = 2
        case checkResults = 3
        case problem = 4
    }

    struct DecodingError: Error, CustomStringConvertible {
        var description: String
    }

    /// At most this many checks in one forwarded batch (the HTTP batch cap).
    static let maxChecks = CheckRequest.maxBatch

    func encode(into buffer: inout ByteBuffer) {
        switch self {
        case .swim(let bytes):
            buffer.writeInteger(Kind.swim.rawValue)
            buffer.writeBytes(bytes)
        case .checkBatch(let requests):
            buffer.writeInteger(Kind.checkBatch.rawValue)
            buffer.writeInteger(UInt32(requests.count))
            for request in requests {
                buffer.writeShortString(request.rule)
                buffer.writeShortString(request.key)
                buffer.writeInteger(UInt32(request.hits))
            }
        case .checkResults(let results):
            buffer.writeInteger(Kind.checkResults.rawValue)
            buffer.writeInteger(UInt32(results.count))
            for result in results {
                let decision = result.decision
                buffer.writeInteger(UInt8(decision.allowed ? 1 : 0))
                buffer.writeInteger(Int64(decision.limit))
                buffer.writeInteger(Int64(decision.remaining))
                buffer.writeInteger(decision.resetMs)
                buffer.writeInteger(decision.retryAfterMs)
                buffer.writeShortString(result.rule)
                buffer.writeShortString(result.version)
                buffer.writeShortString(result.node)
            }
        case .problem(let status, let code, let detail):
            buffer.writeInteger(Kind.problem.rawValue)
            buffer.writeInteger(UInt16(clamping: status))
            buffer.writeShortString(code)
            buffer.writeShortString(String(detail.utf8.prefix(4000)) ?? "")
        }
    }

    var buffer: ByteBuffer {
        var buffer = ByteBuffer()
        encode(into: &buffer)
        return buffer
    }

    init(decoding buffer: ByteBuffer) throws(DecodingError) {
        var buffer = buffer
        guard let raw: UInt8 = buffer.readInteger(), let kind = Kind(rawValue: raw) else {
            throw DecodingError(description: "unknown peer message kind")
        }
        switch kind {
        case .swim:
            self = .swim(buffer.readBytes(length: buffer.readableBytes) ?? [])
        case .checkBatch:
            let count = try Self.count(&buffer)
            var requests: [CheckRequest] = []
            requests.reserveCapacity(count)
            for _ in 0..<count {
                let rule = try Self.string(&buffer)
                let key = try Self.string(&buffer)
                guard let hits: UInt32 = buffer.readInteger(), Int64(hits) <= CheckRequest.maxHits else {
                    throw DecodingError(description: "truncated or invalid hits in check batch")
                }
                requests.append(CheckRequest(key: key, rule: rule, hits: Int(hits)))
            }
            self = .checkBatch(requests)
        case .checkResults:
            let count = try Self.count(&buffer)
            var results: [CheckResult] = []
            results.reserveCapacity(count)
            for _ in 0..<count {
                guard let allowed: UInt8 = buffer.readInteger(), let limit: Int64 = buffer.readInteger(),
                      let remaining: Int64 = buffer.readInteger(), let reset: Int64 = buffer.readInteger(),
                      let retry: Int64 = buffer.readInteger()
                else { throw DecodingError(description: "truncated check result") }
                let rule = try Self.string(&buffer)
                let version = try Self.string(&buffer)
                let node = try Self.string(&buffer)
                let decision = Decision(allowed: allowed == 1, limit: Int(truncatingIfNeeded: limit),
                                        remaining: Int(truncatingIfNeeded: remaining), resetMs: reset, retryAfterMs: retry)
                results.append(CheckResult(decision: decision, rule: rule, version: version, node: node))
            }
            self = .checkResults(results)
        case .problem:
            guard let status: UInt16 = buffer.readInteger() else { throw DecodingError(description: "truncated problem") }
            self = .problem(status: Int(status), code: try Self.string(&buffer), detail: try Self.string(&buffer))
        }
        guard buffer.readableBytes == 0 else {
            throw DecodingError(description: "\(buffer.readableBytes) unexpected bytes after a \(kind) message")
        }
    }

    private static func count(_ buffer: inout ByteBuffer) throws(DecodingError) -> Int {
        guard let count: UInt32 = buffer.readInteger(), count <= maxChecks else {
            throw DecodingError(description: "missing or oversized item count")
        }
        return Int(count)
    }

    private static func string(_ buffer: inout ByteBuffer) throws(DecodingError) -> String {
        guard let length: UInt16 = buffer.readInteger(), let bytes = buffer.readBytes(length: Int(length)),
              let string = String(validating: bytes, as: UTF8.self)
        else { throw DecodingError(description: "truncated or invalid string") }
        return string
    }
}

extension ByteBuffer {
    mutating func writeShortString(_ string: String) {
        let bytes = string.utf8.prefix(Int(UInt16.max))
        writeInteger(UInt16(bytes.count))
        writeBytes(bytes)
    }
}
