import LimiterCore
import NIOCore
@testable import NodeServer
import PeerTestSupport
import PeerTransport
import Testing
import TestSupport
import Wire

/// Protocol version 4: results name the rule, version and node of a
/// decision only when they differ from the previous decision's (tag 3),
/// and only to a node that reads version 4, which the owner learns from
/// the batch's envelope.
@Suite("Forwarded results without repeated names, to readers of protocol version 4")
struct CompactResultsTests {
    static func decided(_ remaining: Int, rule: String = "API", version: String = "v-00000000000000a1", node: String = "n2") -> ForwardedResults.Item {
        .decided(CheckResult(decision: Decision(allowed: remaining > 0, limit: 10, remaining: remaining, resetMs: 1_000, retryAfterMs: 0),
                             rule: rule, version: version, node: node))
    }

    static let items: [ForwardedResults.Item] = [
        decided(9), decided(8), .notMine(owner: "n3"), decided(7), decided(6, rule: "LOGIN"),
        .refused(status: 422, code: "unknown-rule", detail: "rule X"), decided(5, rule: "LOGIN"), decided(4, version: "v-00000000000000b2"),
    ]

    /// The tag of every item in an encoded results message, read by the
    /// layout itself (not through the decoder under test).
    static func tags(_ bytes: [UInt8]) throws -> [UInt8] {
        var reader = WireReader(bytes)
        _ = try reader.byte("version")
        #expect(try reader.varint("type") == PeerMessage.Kind.checkResults.rawValue)
        _ = try reader.varint("request id")
        _ = try reader.varint("epoch")
        let count = try reader.count("items", limit: 10_000)
        var tags: [UInt8] = []
        for _ in 0..<count {
            let tag = try reader.byte("tag")
            tags.append(tag)
            switch tag {
            case 0, 3:
                _ = try reader.bool("allowed")
                for _ in 0..<4 { _ = try reader.varint("number") }
                if tag == 0 { for _ in 0..<3 { _ = try reader.string("name", maxBytes: 255) } }
            case 1:
                _ = try reader.string("owner", maxBytes: 255)
            default:
                _ = try reader.varint("status")
                _ = try reader.string("code", maxBytes: 255)
                _ = try reader.string("detail", maxBytes: 1000)
            }
        }
        try reader.expectEnd("results")
        return tags
    }

    @Test("to a reader of version 4, a decision that repeats the previous decision's names is tag 3, and decodes to the same items")
    func compactToVersion4() throws {
        let results = ForwardedResults(requestID: 7, epoch: 2, items: Self.items, readerVersion: 4)
        let bytes = PeerMessage.checkResults(results).encode()
        #expect(try Self.tags(bytes) == [0, 3, 1, 3, 0, 2, 3, 0])
        guard case .checkResults(let decoded) = try PeerMessage(decoding: bytes) else { Issue.record("not results"); return }
        #expect(decoded.items == Self.items)
        #expect(bytes.count < PeerMessage.checkResults(ForwardedResults(requestID: 7, epoch: 2, items: Self.items, readerVersion: 3)).encode().count)
    }

    @Test("to a reader of version 3, every decision names its rule, version and node (tag 0), as version 3 reads them")
    func fullToVersion3() throws {
        let bytes = PeerMessage.checkResults(ForwardedResults(requestID: 7, epoch: 2, items: Self.items, readerVersion: 3)).encode()
        #expect(try Self.tags(bytes) == [0, 0, 1, 0, 0, 2, 0, 0])
        guard case .checkResults(let decoded) = try PeerMessage(decoding: bytes) else { Issue.record("not results"); return }
        #expect(decoded.items == Self.items)
    }

    @Test("a tag 3 with no decision before it is a malformed message naming the item")
    func repeatWithoutPrevious() throws {
        let bytes = Envelope.seal(type: PeerMessage.Kind.checkResults.rawValue) { writer in
            writer.varint(1)
            writer.varint(0)
            writer.varint(2)
            writer.byte(1)
            writer.string("n3")
            writer.byte(3)
            writer.bool(true)
            for value in [10, 18, 2_000, 0] as [UInt64] { writer.varint(value) }
        }
        #expect {
            try PeerMessage(decoding: bytes)
        } throws: { error in
            "\(error)".contains("items[1] repeats the names of an earlier decision, but none came before it")
        }
    }

    @Test("an owner answers a version 3 batch without tag 3 and a version 4 batch with it")
    func ownerAnswersInTheSendersVersion() async throws {
        try await InProcessNode.run(rules: HostilePeerInputTests.rules) { node in
            try await poll("n1 healthy", within: .seconds(30), every: .milliseconds(50)) {
                (try? await node.get("/health"))?.status == 200
            }
            let version = node.runtime.versions.deployment.stable
            let asN2 = try RawPeerClient.tlsConfiguration(trustingCAIn: node.certsDirectory, certificateOf: "n2")
            let connection = try await RawPeerClient.connectFrames(port: node.peerPort, tls: asN2)
            try await connection.executeThenClose { inbound, outbound in
                var frames = inbound.makeAsyncIterator()
                try await outbound.write(PeerFrame(kind: .hello, correlationID: 0, payload: ByteBuffer(string: "n2")))
                #expect(try await frames.next()?.kind == .hello)
                for (senderVersion, expected) in [(UInt8(3), [UInt8](repeating: 0, count: 3)), (4, [0, 3, 3])] {
                    let batch = ForwardedBatch(requestID: UInt64(senderVersion), epoch: 0, checks: (1...3).map { index in
                        .init(request: CheckRequest(key: "compact:\(senderVersion):\(index)", rule: "API", hits: 1), version: version)
                    })
                    let payload = PeerMessage.checkBatch(batch).encode(version: senderVersion)
                    try await outbound.write(PeerFrame(kind: .request, correlationID: UInt64(senderVersion), payload: ByteBuffer(bytes: payload)))
                    let answer = try #require(try await frames.next())
                    #expect(answer.kind == .response)
                    #expect(try Self.tags(Array(answer.payload.readableBytesView)) == expected, "a batch from version \(senderVersion)")
                }
            }
        }
    }
}
