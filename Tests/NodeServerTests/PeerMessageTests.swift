import LimiterCore
import NIOCore
@testable import NodeServer
import Testing

@Suite("Peer message codec")
struct PeerMessageTests {
    @Test("every message round-trips")
    func roundTrip() throws {
        let messages: [PeerMessage] = [
            .swim([1, 2, 3]),
            .checkBatch([CheckRequest(key: "user:42", rule: "API", hits: 3), CheckRequest(key: "é", rule: "default", hits: 0)]),
            .checkResults([CheckResult(decision: Decision(allowed: true, limit: 100, remaining: 7, resetMs: 5, retryAfterMs: 0),
                                       rule: "API", version: "v-1", node: "n2")]),
            .problem(status: 503, code: "unavailable", detail: "log failed"),
        ]
        for message in messages { #expect(try PeerMessage(decoding: message.buffer) == message) }
    }

    @Test("truncated or garbage bytes are rejected, never trapped on")
    func garbage() {
        let valid = PeerMessage.checkBatch([CheckRequest(key: "abc", rule: "API", hits: 1)]).buffer
        for length in 0..<valid.readableBytes {
            #expect(throws: PeerMessage.DecodingError.self) { try PeerMessage(decoding: valid.getSlice(at: 0, length: length)!) }
        }
        var state: UInt64 = 7
        for _ in 0..<3000 {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            let bytes = (0..<Int(state >> 58)).map { UInt8(truncatingIfNeeded: (state >> UInt64($0 % 56))) }
            _ = try? PeerMessage(decoding: ByteBuffer(bytes: [UInt8(state % 5)] + bytes))
        }
    }
}
