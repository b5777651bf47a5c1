import LimiterCore
import Membership
import NIOCore
@testable import NodeServer
import Testing
import Wire

@Suite("Peer message codec")
struct PeerMessageTests {
    static let samples: [PeerMessage] = [
        .swim(.nack(sequence: 7, target: "n2")),
        .checkBatch(ForwardedBatch(requestID: 41, epoch: 0xFEED, checks: [
            .init(request: CheckRequest(key: "user:42", rule: "API", hits: 3), version: "v-0000000000000001"),
            .init(request: CheckRequest(key: "é", rule: "default", hits: 0), version: "v-0000000000000002"),
        ])),
        .checkResults(ForwardedResults(requestID: 41, epoch: 3, items: [
            .decided(CheckResult(decision: Decision(allowed: true, limit: 100, remaining: 7, resetMs: 5, retryAfterMs: 0),
                                 rule: "API", version: "v-1", node: "n2")),
            .notMine(owner: "n3"),
            .notMine(owner: nil),
            .refused(status: 503, code: "version-not-installed", detail: "v-2"),
        ])),
        .problem(status: 503, code: "unavailable", detail: "log failed"),
        .checkBatch(ForwardedBatch(requestID: 42, epoch: 1, checks: [
            .init(request: CheckRequest(key: "a", rule: "API", hits: 1), version: "v-1"),
            .init(request: CheckRequest(key: "b", rule: "API", hits: 1), version: "v-1", unreachable: ["n2", "n3"]),
        ])),
        .replicate(ReplicationBatch(requestID: 9, events: [
            .init(namespace: "1001", rule: "API", key: "user:1", atMs: 1_700_000_000_000, hits: 2),
        ], states: [LimiterTable().encodeSnapshot(), [1, 2, 3]], fences: ["n3"])),
        .replicated(requestID: 9),
        .pull(nodes: ["n1", "n2", "n3"], after: nil),
        .pull(nodes: ["n1"], after: CounterKey(rule: "API", key: "user:9")),
        .pulled(states: LimiterTable().encodeSnapshot(), next: nil),
        .pulled(states: [], next: CounterKey(rule: "API", key: "é")),
    ]

    @Test("Every message round-trips through its envelope")
    func roundTrip() throws {
        for message in Self.samples { #expect(try PeerMessage(decoding: message.buffer) == message) }
    }

    @Test("Every truncation of every message is rejected, never trapped on")
    func truncation() {
        for message in Self.samples {
            let bytes = message.encode()
            for length in 0..<bytes.count {
                #expect(throws: PeerMessage.DecodingError.self) { try PeerMessage(decoding: Array(bytes.prefix(length))) }
            }
        }
    }

    @Test("An owner's answer with a wait or remaining no decision can hold is refused, so rendering it cannot overflow")
    func outOfRangeDecisions() throws {
        func results(remaining: Int = 1, reset: Int64 = 5, retry: Int64 = 0) -> PeerMessage {
            .checkResults(ForwardedResults(requestID: 1, epoch: 1, items: [
                .decided(CheckResult(decision: Decision(allowed: false, limit: 10, remaining: remaining, resetMs: reset, retryAfterMs: retry),
                                     rule: "API", version: "v-1", node: "n2")),
            ]))
        }
        #expect(try PeerMessage(decoding: results(reset: ForwardedResults.maxWaitMs).buffer) == results(reset: ForwardedResults.maxWaitMs))
        for bad in [results(reset: .max), results(retry: .max), results(reset: -1), results(remaining: -1), results(remaining: Int(Int32.max) + 1)] {
            #expect(throws: PeerMessage.DecodingError.self, "\(bad)") { try PeerMessage(decoding: bad.buffer) }
        }
        // And rendering never traps, whatever it is given.
        #expect(CheckResult.ceilSeconds(.max) == Int64.max / 1000 + 1)
        #expect(CheckResult.ceilSeconds(1) == 1 && CheckResult.ceilSeconds(1000) == 1 && CheckResult.ceilSeconds(1001) == 2)
    }

    @Test("A message from a newer protocol version with fields appended still decodes to what this build knows")
    func newerVersionAppendedFields() throws {
        for message in Self.samples {
            let newer = message.encode(version: Envelope.currentVersion + 1) + [0x2A, 0x01, 0x02]
            #expect(try PeerMessage(decoding: newer) == message)
            // The same bytes from this build's own version are malformed.
            #expect(throws: PeerMessage.DecodingError.self) { try PeerMessage(decoding: message.encode() + [0x2A]) }
        }
    }

    @Test("A message type this build does not know decodes as unsupported, naming type and version")
    func unknownType() throws {
        let bytes = Envelope.seal(type: 99, version: Envelope.currentVersion + 1) { $0.string("from the future") }
        #expect(try PeerMessage(decoding: bytes) == .unsupported(type: 99, version: Envelope.currentVersion + 1))
    }

    @Test("Seeded random bytes never crash the decoder")
    func garbage() {
        var state: UInt64 = 7
        for _ in 0..<3000 {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            let bytes = (0..<Int(state >> 58)).map { UInt8(truncatingIfNeeded: (state >> UInt64($0 % 56))) }
            _ = try? PeerMessage(decoding: [Envelope.currentVersion, UInt8(state % 5)] + bytes)
        }
    }
}
