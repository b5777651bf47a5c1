import Membership
import Testing

@Suite("SWIM message codec")
struct SWIMMessageCodecTests {
    static let samples: [SWIMMessage] = {
        let unicode = MemberMetadata(
            id: "nœud-7",
            peerAddress: HostPort(host: "::1", port: 0),
            httpAddress: HostPort(host: "node.example", port: 65_535),
            build: "1.2.3+build.4 ✓",
            role: .coordinator
        )
        let payload = [
            Fixtures.member("n1", .alive(incarnation: 0)),
            Fixtures.member("n2", .suspect(incarnation: 300, suspectedBy: ["n1", "n3", "n4"])),
            Fixtures.member("n3", .dead(incarnation: SWIMMessage.maxIncarnation)),
            Member(metadata: unicode, status: .left(incarnation: 7)),
        ]
        return [
            .ping(sequence: 1, payload: payload),
            .ping(sequence: .max, payload: []),
            .pingRequest(sequence: 42, target: unicode, timeout: 200, payload: payload),
            .ack(sequence: 9, target: "n2", incarnation: 12_345_678_901, payload: payload),
            .nack(sequence: 10, target: "nœud-7"),
            .gossip(payload: payload),
            .pushPullRequest(state: payload),
            .pushPullResponse(state: []),
            .leave(member: Fixtures.member("n5", .left(incarnation: 2))),
        ]
    }()

    @Test("Every message kind survives an encode / decode round trip", arguments: samples)
    func roundTrip(message: SWIMMessage) throws {
        let bytes = message.encode()
        #expect(try SWIMMessage(decoding: bytes) == message)
    }

    @Test("A gossip message with one entry of short ids and loopback addresses takes at most 40 bytes")
    func encodingIsCompact() {
        let one = SWIMMessage.gossip(payload: [Fixtures.member("n1", .alive(incarnation: 3))]).encode()
        #expect(one.count <= 40, "\(one.count) bytes")
    }

    @Test("Every truncation of a valid message is rejected as truncated, or as a length beyond the bytes left, never crashes",
          arguments: samples)
    func truncationIsRejected(message: SWIMMessage) {
        let bytes = message.encode()
        for length in 0..<bytes.count {
            do {
                let decoded = try SWIMMessage(decoding: Array(bytes.prefix(length)))
                Issue.record("\(length) of \(bytes.count) bytes decoded as \(decoded)")
            } catch {
                // A count or length read before the cut names more than is left.
                #expect(error.code == .truncated || error.code == .lengthTooLarge, "\(length) of \(bytes.count) bytes: \(error)")
            }
        }
    }

    @Test("Malformed input is rejected with a specific error code")
    func specificErrors() {
        func code(_ bytes: [UInt8]) -> MembershipError.Code? {
            do {
                _ = try SWIMMessage(decoding: bytes)
                return nil
            } catch {
                return error.code
            }
        }
        let valid = SWIMMessage.nack(sequence: 1, target: "n2").encode()
        #expect(code([]) == .truncated)
        #expect(code([99]) == .unknownMessageType)
        #expect(code(valid + [0]) == .trailingBytes)
        // A sequence varint of 11 continuation bytes
        #expect(code([4] + Array(repeating: 0xFF, count: 11)) == .invalidField)
        // A member count far beyond the bytes that follow
        #expect(code([5, 0xFF, 0xFF, 0x03]) == .lengthTooLarge)
        // A target string that is not UTF-8
        #expect(code([4, 1, 2, 0xC3, 0x28]) == .invalidField)
        // A peer port above 65535
        #expect(code([8, 2] + Array("n1".utf8) + [0, 0x80, 0x80, 0x04]) == .invalidField)
        // An incarnation past the largest accepted, which a refutation would overflow
        let huge = SWIMMessage.gossip(payload: [Fixtures.member("n1", .dead(incarnation: UInt64.max))]).encode()
        #expect(code(huge) == .invalidField)
        let ackHuge = SWIMMessage.ack(sequence: 1, target: "n1", incarnation: SWIMMessage.maxIncarnation + 1, payload: []).encode()
        #expect(code(ackHuge) == .invalidField)
        let largest = SWIMMessage.gossip(payload: [Fixtures.member("n1", .alive(incarnation: SWIMMessage.maxIncarnation))])
        #expect(code(largest.encode()) == nil, "the largest accepted incarnation decodes")
        // An unknown status tag
        let leave = SWIMMessage.leave(member: Fixtures.member("n1", .left(incarnation: 1))).encode()
        var badTag = leave
        badTag[badTag.count - 2] = 9
        #expect(code(badTag) == .invalidField)
    }

    @Test("Seeded random garbage never crashes the decoder and is refused: no random bytes make a whole message")
    func randomGarbage() throws {
        var random = SplitMix64(seed: 0x5EED)
        for _ in 0..<20_000 {
            let length = Int.random(in: 0..<64, using: &random)
            var bytes = (0..<length).map { _ in UInt8.random(in: 0...255, using: &random) }
            // Mostly start with a valid type so the fuzz reaches the bodies.
            if length >= 1, Bool.random(using: &random) {
                bytes[0] = UInt8.random(in: 1...8, using: &random)
            }
            // The round trip of what does decode is the mutation test's.
            #expect(throws: MembershipError.self, "\(bytes)") { try SWIMMessage(decoding: bytes) }
        }
    }

    @Test("Seeded mutations of valid messages never crash the decoder, and whatever decodes re-encodes to an equal message")
    func mutatedMessages() throws {
        var random = SplitMix64(seed: 0xF00D)
        var decoded = 0
        for _ in 0..<5_000 {
            var bytes = Self.samples.randomElement(using: &random)!.encode()
            for _ in 0..<Int.random(in: 1...4, using: &random) {
                let index = Int.random(in: 0..<bytes.count, using: &random)
                switch Int.random(in: 0..<3, using: &random) {
                case 0: bytes[index] = UInt8.random(in: 0...255, using: &random)
                case 1: bytes.remove(at: index)
                default: bytes.insert(UInt8.random(in: 0...255, using: &random), at: index)
                }
                if bytes.isEmpty { break }
            }
            if let message = try? SWIMMessage(decoding: bytes) {
                decoded += 1
                #expect(try SWIMMessage(decoding: message.encode()) == message)
            }
        }
        #expect(decoded > 0, "some mutations (e.g. inside a string) still decode; the round trip must hold for them")
    }
}
