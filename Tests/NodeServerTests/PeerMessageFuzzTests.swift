import LimiterCore
import Membership
import NIOCore
@testable import NodeServer
import Rollout
import Testing
import TestSupport
import Wire

/// Deterministic fuzzing of the peer message decoders (`PeerMessage`, and
/// through it the SWIM, forwarding and deployment codecs) with inputs a
/// hostile or broken peer could send. Each case must either throw a
/// `DecodingError` or decode to a message that encodes and decodes back to
/// itself; a trap would end the test process. Seeded with SplitMix64, so a
/// failure names the case (seed, corpus entry, mutation) that reproduces it.
@Suite("Peer message decoders under fuzzing")
struct PeerMessageFuzzTests {
    // MARK: Corpus: every message type, every variant

    static let metadata = MemberMetadata(id: "n1", peerAddress: HostPort(host: "127.0.0.1", port: 7701),
                                         httpAddress: HostPort(host: "127.0.0.1", port: 8701), build: "0.1.0")
    static let coordinator = MemberMetadata(id: "coordinator", peerAddress: HostPort(host: "10.0.0.9", port: 7700),
                                            httpAddress: HostPort(host: "10.0.0.9", port: 8700), build: "0.1.0", role: .coordinator)
    static let members = [
        Member(metadata: metadata, status: .alive(incarnation: 1_700_000_000_000)),
        Member(metadata: coordinator, status: .suspect(incarnation: 3, suspectedBy: ["n2", "n3"])),
        Member(metadata: MemberMetadata(id: "n3", peerAddress: HostPort(host: "h3", port: 1), httpAddress: HostPort(host: "h3", port: 65_535),
                                        build: "é"), status: .dead(incarnation: 0)),
        Member(metadata: MemberMetadata(id: "n4", peerAddress: HostPort(host: "", port: 0), httpAddress: HostPort(host: "", port: 0),
                                        build: ""), status: .left(incarnation: SWIMMessage.maxIncarnation)),
    ]

    static let rules: [String: Rule] = [
        "API": Rule(name: "API", namespaceID: "1001", limit: 100, periodSeconds: 60, algorithm: .slidingWindow, burst: 100),
        "BUCKET": Rule(name: "BUCKET", namespaceID: "1003", limit: 10, periodSeconds: 60, algorithm: .tokenBucket, burst: 5),
        "GCRA": Rule(name: "GCRA", namespaceID: "1004", limit: 60, periodSeconds: 3600, algorithm: .gcra, burst: 7),
    ]

    static var corpus: [PeerMessage] {
        let stable = RuleSet(rules: rules)
        let canary = RuleSet(rules: ["API": Rule(name: "API", namespaceID: "1001", limit: 5, periodSeconds: 1, algorithm: .fixedWindow, burst: 5)])
        return [
            .swim(.ping(sequence: 1, payload: members)),
            .swim(.pingRequest(sequence: 300, target: metadata, timeout: 1_500, payload: Array(members.prefix(2)))),
            .swim(.ack(sequence: UInt64.max, target: "n2", incarnation: 9, payload: [members[1]])),
            .swim(.nack(sequence: 7, target: "n2")),
            .swim(.gossip(payload: members)),
            .swim(.pushPullRequest(state: members)),
            .swim(.pushPullResponse(state: [])),
            .swim(.leave(member: members[3])),
            .checkBatch(ForwardedBatch(requestID: 41, epoch: 0xFEED, checks: [
                .init(request: CheckRequest(key: "user:42", rule: "API", hits: 3), version: stable.version),
                .init(request: CheckRequest(key: "é", rule: "default", hits: 0), version: "v-0000000000000002"),
                .init(request: CheckRequest(key: String(repeating: "k", count: 1024), rule: "GCRA", hits: 2_147_483_648),
                      version: canary.version),
            ])),
            .checkBatch(ForwardedBatch(requestID: 0, epoch: 0, checks: [])),
            .checkResults(ForwardedResults(requestID: 41, epoch: 3, items: [
                .decided(CheckResult(decision: Decision(allowed: true, limit: 100, remaining: 7, resetMs: 5, retryAfterMs: 0),
                                     rule: "API", version: "v-1", node: "n2")),
                .decided(CheckResult(decision: Decision(allowed: false, limit: 1, remaining: 0, resetMs: 0, retryAfterMs: ForwardedResults.maxWaitMs),
                                     rule: "GCRA", version: "v-2", node: "n3")),
                .notMine(owner: "n3"),
                .notMine(owner: nil),
                .refused(status: 503, code: "version-not-installed", detail: "v-2"),
            ])),
            .problem(status: 503, code: "unavailable", detail: "log failed"),
            .problem(status: 0, code: "", detail: ""),
            .deploymentPush(DeploymentState(deployment: Deployment(epoch: 12, stable: stable.version, canary: canary.version, percent: 25),
                                            ruleSets: [stable, canary])),
            .deploymentPush(DeploymentState(deployment: Deployment(epoch: 1, stable: canary.version), ruleSets: [canary])),
            .deploymentStatus(Deployment(epoch: 12, stable: stable.version, canary: canary.version, percent: 100)),
            .deploymentStatus(Deployment(epoch: 0, stable: "v-0000000000000000")),
            .deploymentPull(epoch: 0),
            .deploymentPull(epoch: UInt64.max),
            .checkBatch(ForwardedBatch(requestID: 43, epoch: 1, checks: [
                .init(request: CheckRequest(key: "a", rule: "API", hits: 1), version: stable.version, unreachable: ["n2", "n3"]),
            ])),
            .replicate(ReplicationBatch(requestID: 7, events: [
                .init(namespace: "1001", rule: "API", key: "user:1", atMs: 1_700_000_000_000, hits: 2),
                .init(namespace: "1004", rule: "GCRA", key: "é", atMs: -5, hits: 2_147_483_648),
            ], states: [Self.table.encodeSnapshot(), LimiterTable().encodeSnapshot()])),
            .replicate(ReplicationBatch(requestID: 0, events: [], states: [])),
            .replicated(requestID: UInt64.max),
            .pull(nodes: ["n1", "n2", "n3"], after: nil),
            .pull(nodes: [], after: CounterKey(rule: "API", key: "user:9")),
            .pulled(states: Self.table.encodeSnapshot(), next: CounterKey(rule: "GCRA", key: "k")),
            .pulled(states: [], next: nil),
        ]
    }

    /// A table with a counter of every algorithm, for the state transfers.
    static var table: LimiterTable {
        var table = LimiterTable()
        for (name, rule) in rules {
            _ = table.check(rule: rule, key: "k-\(name)", hits: 1, now: 1_700_000_000_000)
        }
        return table
    }

    // MARK: The property

    /// What a run of cases came to; failures keep the first few inputs.
    struct Tally {
        var cases = 0
        var rejected = 0
        var decoded = 0
        var unsupported = 0
        var failures: [String] = []

        mutating func fail(_ what: String, _ bytes: [UInt8]) {
            if failures.count < 5 { failures.append("\(what): [\(bytes.map { String($0) }.joined(separator: ","))]") }
        }
    }

    /// Decodes `bytes`: a thrown `DecodingError` with a message is a pass, as
    /// is a message that survives encode -> decode unchanged (it need not be
    /// the same bytes: a newer version's trailing fields and non-minimal
    /// varints decode but are not re-encoded). Decoding twice must agree.
    static func check(_ bytes: [UInt8], _ label: @autoclosure () -> String, into tally: inout Tally) {
        tally.cases += 1
        let message: PeerMessage
        do {
            message = try PeerMessage(decoding: bytes)
        } catch {
            tally.rejected += 1
            if error.description.isEmpty { tally.fail("\(label()): an error without a message", bytes) }
            return
        }
        if (try? PeerMessage(decoding: bytes)) != message { tally.fail("\(label()): decoding is not deterministic", bytes) }
        if case .unsupported(let type, let version) = message {
            tally.unsupported += 1
            if PeerMessage.Kind(rawValue: type) != nil || version < Envelope.minimumVersion {
                tally.fail("\(label()): a known type or an old version decoded as unsupported", bytes)
            }
            return
        }
        tally.decoded += 1
        do {
            let again = try PeerMessage(decoding: message.encode())
            if again != message { tally.fail("\(label()): \(message) re-decodes as \(again)", bytes) }
        } catch {
            tally.fail("\(label()): \(message) does not decode after encoding: \(error)", bytes)
        }
        if case .deploymentPush(let state) = message {
            // The persisted form shares the push's codec and must agree with it.
            if (try? DeploymentState(bytes: bytes)) != state {
                tally.fail("\(label()): the persisted-state decoder disagrees with the message decoder", bytes)
            }
        }
    }

    // MARK: Mutations

    /// Varints a forged count, length or number might hold: just past each
    /// codec limit, at integer widths' edges, and the widest there is.
    static let inflated: [UInt64] = [
        0x80, 256, 1_001, 4_001, 4_097, 10_001, 65_536, 1 << 31, 1 << 32, UInt64(Int64.max), UInt64.max,
    ]

    static func varint(_ value: UInt64) -> [UInt8] {
        var writer = WireWriter()
        writer.varint(value)
        return writer.bytes
    }

    enum Mutation: CaseIterable {
        case flipBits, setByte, truncate, spliceVarint, overwriteVarint, overlongVarint, deleteRange, duplicateRange, appendBytes
    }

    /// One to three mutations of `bytes`, chosen by `random`.
    static func mutate(_ bytes: [UInt8], _ random: inout TestSupport.SplitMix64) -> [UInt8] {
        var bytes = bytes
        for _ in 0...random.below(3) {
            let at = bytes.isEmpty ? 0 : random.below(bytes.count)
            switch random.pick(Mutation.allCases) {
            case .flipBits:
                guard !bytes.isEmpty else { continue }
                bytes[at] ^= UInt8(truncatingIfNeeded: 1 << random.below(8))
            case .setByte:
                guard !bytes.isEmpty else { continue }
                bytes[at] = random.pick([0x00, 0x01, 0x7F, 0x80, 0xFF, UInt8(truncatingIfNeeded: random.next())])
            case .truncate:
                bytes.removeLast(bytes.count - at)
            case .spliceVarint:
                bytes.insert(contentsOf: varint(random.pick(inflated)), at: at)
            case .overwriteVarint:
                let value = varint(random.pick(inflated))
                bytes.replaceSubrange(at..<min(bytes.count, at + value.count), with: value)
            case .overlongVarint:
                // Eleven continuation bytes: longer than any 64-bit varint.
                bytes.insert(contentsOf: [UInt8](repeating: 0x80, count: 11) + [0x01], at: at)
            case .deleteRange:
                bytes.removeSubrange(at..<min(bytes.count, at + 1 + random.below(8)))
            case .duplicateRange:
                let end = min(bytes.count, at + 1 + random.below(32))
                bytes.insert(contentsOf: bytes[at..<end], at: end)
            case .appendBytes:
                bytes += (0..<1 + random.below(16)).map { _ in UInt8(truncatingIfNeeded: random.next()) }
            }
        }
        return bytes
    }

    static func expectSound(_ tally: Tally, minimumCases: Int) {
        #expect(tally.failures.isEmpty, "\(tally.failures.joined(separator: "\n"))")
        #expect(tally.cases >= minimumCases)
        // Both outcomes occur, or the inputs were too tame (or too wild) to
        // reach the decoders' depths.
        #expect(tally.rejected > 0 && tally.decoded > 0, "rejected \(tally.rejected), decoded \(tally.decoded) of \(tally.cases)")
    }

    // MARK: Tests

    @Test("every corpus message round-trips byte for byte, so the mutations below start from valid encodings")
    func corpusRoundTrips() throws {
        for message in Self.corpus {
            let bytes = message.encode()
            #expect(try PeerMessage(decoding: bytes) == message)
            #expect(try PeerMessage(decoding: bytes).encode() == bytes)
        }
    }

    @Test("every truncation and every single-bit flip of every message type throws or round-trips")
    func exhaustiveTruncationsAndBitFlips() {
        var tally = Tally()
        for (index, message) in Self.corpus.enumerated() {
            let bytes = message.encode()
            for length in 0..<bytes.count {
                Self.check(Array(bytes.prefix(length)), "corpus[\(index)] cut to \(length)", into: &tally)
            }
            for bit in 0..<(bytes.count * 8) {
                var flipped = bytes
                flipped[bit / 8] ^= 1 << (bit % 8)
                Self.check(flipped, "corpus[\(index)] bit \(bit) flipped", into: &tally)
            }
        }
        Self.expectSound(tally, minimumCases: 10_000)
        // A truncated message is never a valid one of this build's version.
        #expect(tally.rejected >= Self.corpus.map { $0.encode().count }.reduce(0, +))
    }

    @Test("10,000 seeded mutations (bit flips, truncations, inflated counts and lengths, overlong varints, splices) throw or round-trip",
          arguments: [0x5EED_0001, 0x5EED_0002] as [UInt64])
    func seededMutations(seed: UInt64) {
        var random = TestSupport.SplitMix64(seed: seed)
        let corpus = Self.corpus.map { $0.encode() }
        var tally = Tally()
        for caseIndex in 0..<10_000 {
            let entry = random.below(corpus.count)
            Self.check(Self.mutate(corpus[entry], &random), "seed \(seed) case \(caseIndex) (corpus[\(entry)])", into: &tally)
        }
        Self.expectSound(tally, minimumCases: 10_000)
    }

    @Test("10,000 seeded random inputs, bare or behind a valid envelope header of every type, throw or decode soundly")
    func randomBytes() {
        var random = TestSupport.SplitMix64(seed: 0xBAD_B17E5)
        var tally = Tally()
        let types = (1...8).map { UInt64($0) } + [99]
        for caseIndex in 0..<10_000 {
            var bytes = (0..<random.below(200)).map { _ in UInt8(truncatingIfNeeded: random.next()) }
            if caseIndex % 2 == 0 {
                let version = random.pick([Envelope.currentVersion, Envelope.currentVersion + 1, Envelope.minimumVersion - 1])
                bytes = [version] + Self.varint(random.pick(types)) + bytes
            }
            Self.check(bytes, "random case \(caseIndex)", into: &tally)
        }
        #expect(tally.failures.isEmpty, "\(tally.failures.joined(separator: "\n"))")
        #expect(tally.cases == 10_000)
        #expect(tally.rejected > 0 && tally.unsupported > 0)
    }
}
