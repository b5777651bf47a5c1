import NIOCore
import Testing
import TestSupport
@testable import PeerTransport

/// Deterministic fuzzing of the frame decoder with streams a hostile or
/// broken peer could send: valid frames, the same streams mutated (bit
/// flips, overwritten bytes, inflated lengths, cuts, inserted junk), and
/// random bytes, each fed in random chunk sizes as the socket would deliver
/// them. Seeded with SplitMix64; a failure names the case that reproduces it.
@Suite("Peer frame decoder under fuzzing")
struct PeerFrameFuzzTests {
    /// A small cap, so that lengths at and around it are easy to reach.
    static let maxFrameSize = 512

    /// What decoding a whole stream came to.
    struct Outcome: Equatable {
        var frames: [PeerFrame] = []
        var error: PeerFrameError?
        /// A property broken on the way (not an expected rejection).
        var violation: String?
    }

    /// Feeds `stream` to a fresh decoder in chunks of `chunkSize()` bytes,
    /// draining it after each as `ByteToMessageHandler` does, then signals end
    /// of stream. Checks on the way that every frame consumed bytes and that
    /// those bytes are exactly the frame's encoding.
    static func decode(_ stream: [UInt8], chunkSize: () -> Int) -> Outcome {
        var decoder = PeerFrameDecoder(maxFrameSize: maxFrameSize)
        var buffer = ByteBuffer()
        var outcome = Outcome()
        func drain(_ step: (inout ByteBuffer) throws -> PeerFrame?) throws -> Bool {
            // Each frame is at least 14 bytes, so this bound is never reached by a decoder that makes progress.
            for _ in 0...(stream.count / (4 + PeerFrame.headerSize) + 1) {
                let before = buffer
                guard let frame = try step(&buffer) else { return true }
                let consumed = before.getBytes(at: before.readerIndex, length: buffer.readerIndex - before.readerIndex) ?? []
                var encoded = ByteBuffer()
                try PeerFrameEncoder(maxFrameSize: maxFrameSize).encode(data: frame, out: &encoded)
                guard !consumed.isEmpty, consumed == Array(encoded.readableBytesView) else {
                    outcome.violation = "frame \(frame) does not re-encode to the \(consumed.count) bytes it consumed"
                    return false
                }
                outcome.frames.append(frame)
            }
            outcome.violation = "the decoder kept returning frames without consuming the stream"
            return false
        }
        do {
            var offset = 0
            while offset < stream.count {
                let end = min(stream.count, offset + max(1, chunkSize()))
                buffer.writeBytes(stream[offset..<end])
                offset = end
                guard try drain({ try decoder.decode(buffer: &$0) }) else { return outcome }
            }
            guard try drain({ try decoder.decodeLast(buffer: &$0, seenEOF: true) }) else { return outcome }
            if buffer.readableBytes > 0 { outcome.violation = "\(buffer.readableBytes) bytes left unread at end of stream without an error" }
        } catch let error as PeerFrameError {
            outcome.error = error
        } catch {
            outcome.violation = "threw \(error), not a PeerFrameError"
        }
        return outcome
    }

    static func randomFrames(_ random: inout SplitMix64) -> [PeerFrame] {
        (0..<random.below(5)).map { _ in
            // Up to the largest payload the cap allows, and sometimes exactly it.
            let largest = maxFrameSize - PeerFrame.headerSize
            let size = random.below(4) == 0 ? largest : random.below(largest + 1)
            return PeerFrame(kind: random.pick(PeerFrame.Kind.allCases), correlationID: random.next(),
                             // The decoder never looks inside a payload: one random byte value fills it.
                             payload: ByteBuffer(repeating: UInt8(truncatingIfNeeded: random.next()), count: size))
        }
    }

    static func encode(_ frames: [PeerFrame]) throws -> [UInt8] {
        var buffer = ByteBuffer()
        for frame in frames { try PeerFrameEncoder(maxFrameSize: maxFrameSize).encode(data: frame, out: &buffer) }
        return Array(buffer.readableBytesView)
    }

    static func mutate(_ stream: [UInt8], _ random: inout SplitMix64) -> [UInt8] {
        var stream = stream
        for _ in 0...random.below(3) {
            let at = stream.isEmpty ? 0 : random.below(stream.count)
            switch random.below(6) {
            case 0 where !stream.isEmpty:
                stream[at] ^= UInt8(truncatingIfNeeded: 1 << random.below(8))
            case 1 where !stream.isEmpty:
                stream[at] = UInt8(truncatingIfNeeded: random.next())
            case 2:
                // A forged length: at, just past or far past the cap, or below the header.
                let length = random.pick([UInt32(maxFrameSize), UInt32(maxFrameSize + 1), UInt32.max, 0, 9, UInt32(truncatingIfNeeded: random.next())])
                let bytes = withUnsafeBytes(of: length.bigEndian) { Array($0) }
                stream.replaceSubrange(at..<min(stream.count, at + 4), with: bytes)
            case 3:
                stream.removeLast(stream.count - at)
            case 4:
                stream.insert(contentsOf: (0..<1 + random.below(20)).map { _ in UInt8(truncatingIfNeeded: random.next()) }, at: at)
            default:
                stream.removeSubrange(at..<min(stream.count, at + 1 + random.below(10)))
            }
        }
        return stream
    }

    @Test("5,000 seeded streams of valid frames decode to exactly those frames, however the bytes are split")
    func validStreams() throws {
        var random = SplitMix64(seed: 0xF4A3_E001)
        for caseIndex in 0..<5_000 {
            let frames = Self.randomFrames(&random)
            let stream = try Self.encode(frames)
            let outcome = Self.decode(stream) { random.below(64) }
            #expect(outcome == Outcome(frames: frames), "case \(caseIndex)")
            if outcome != Outcome(frames: frames) { return }
        }
    }

    @Test("10,000 seeded mutated or random streams end in frames that re-encode to their bytes, or a frame error; never a trap, a hang or a silent leftover")
    func hostileStreams() throws {
        var random = SplitMix64(seed: 0xF4A3_E002)
        var failures: [String] = []
        var errors: [String: Int] = [:]
        for caseIndex in 0..<10_000 {
            let stream = caseIndex % 5 == 0
                ? (0..<random.below(600)).map { _ in UInt8(truncatingIfNeeded: random.next()) }
                : Self.mutate(try Self.encode(Self.randomFrames(&random)), &random)
            let whole = Self.decode(stream) { stream.count }
            let split = Self.decode(stream) { 1 + random.below(40) }
            if let violation = whole.violation ?? split.violation {
                failures.append("case \(caseIndex): \(violation)")
            } else if whole != split {
                // The header checks run as each field arrives, so chunking must not change the result.
                failures.append("case \(caseIndex): whole stream gave \(whole), split gave \(split)")
            }
            if let error = whole.error { errors["\(error.reason)".prefix { $0 != "(" }.description, default: 0] += 1 }
            if failures.count >= 5 { break }
        }
        #expect(failures.isEmpty, "\(failures.joined(separator: "\n"))")
        // Every kind of rejection was reached.
        #expect(Set(errors.keys) == ["tooLarge", "tooShort", "unknownVersion", "unknownKind", "truncated"], "\(errors)")
    }
}
