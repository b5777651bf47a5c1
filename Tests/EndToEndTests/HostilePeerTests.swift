import Foundation
import JSONCore
import NIOCore
import NodeServer
import PeerTestSupport
import PeerTransport
import TestSupport
import Testing

@Suite("Hostile peers against a node process", .serialized, .timeLimit(.minutes(2)))
struct HostilePeerTests {
    static let reasons: Set<String> = ["bad_frame", "oversize", "handshake", "identity", "overload", "malformed_message", "replayed"]

    /// `rate_limit_peer_rejected_total` of node `id` by reason, from its `/metrics`.
    static func rejected(_ cluster: NodeProcessCluster, _ id: String) async throws -> [String: Int64] {
        let metrics = try await cluster.get(id, path: "/metrics")
        var counts: [String: Int64] = [:]
        for line in metrics.text.split(separator: "\n") where line.hasPrefix("rate_limit_peer_rejected_total{") && line.contains(#"node="\#(id)""#) {
            guard let open = line.range(of: #"reason=""#), let close = line[open.upperBound...].firstIndex(of: "\""),
                  let space = line.lastIndex(of: " "), let value = Double(line[line.index(after: space)...]) else { continue }
            counts[String(line[open.upperBound..<close])] = Int64(value)
        }
        return counts
    }

    @Test("a node process counts a client without a certificate and an oversize frame in /metrics and stays healthy, its membership intact")
    func hostileInputCounted() async throws {
        let cluster = try NodeProcessCluster(nodeCount: 2)
        try await cluster.makeCertificates()
        try cluster.startAll()
        try await cluster.waitForMembership(["n1", "n2"], on: ["n1", "n2"])
        // Membership first, then each node's import from the other (they serve only after that).
        for node in cluster.nodes { try await cluster.waitHealthy(node.id) }
        let before = try await Self.rejected(cluster, "n1")
        #expect(Set(before.keys) == Self.reasons, "every reason is exported from start-up: \(before)")
        let port = cluster.node("n1").peerPort

        // When a TLS client without a certificate knocks on n1's peer port,
        let anonymous = try await RawPeerClient.connectFrames(
            port: port, tls: RawPeerClient.tlsConfiguration(trustingCAIn: cluster.certsDirectory, certificateOf: nil))
        let refused = try await anonymous.executeThenClose { inbound, outbound in
            try? await outbound.write(PeerFrame(kind: .hello, correlationID: 0, payload: ByteBuffer(string: "n2")))
            return await inbound.collectUntilClosed()
        }
        #expect(refused.isEmpty)

        // and a client with n2's certificate says hello, then announces a frame above the 4 MiB cap,
        let oversize = try await RawPeerClient.connectBytes(
            port: port, tls: RawPeerClient.tlsConfiguration(trustingCAIn: cluster.certsDirectory, certificateOf: "n2"))
        try await oversize.executeThenClose { inbound, outbound in
            try? await outbound.write(RawPeerClient.encoded(PeerFrame(kind: .hello, correlationID: 0, payload: ByteBuffer(string: "n2"))))
            var header = ByteBuffer()
            header.writeInteger(UInt32(PeerFrame.defaultMaxFrameSize + 1))
            header.writeBytes([PeerFrame.version, PeerFrame.Kind.request.rawValue, 0, 0, 0, 0, 0, 0, 0, 1])
            try? await outbound.write(header)
            _ = await inbound.collectUntilClosed()
        }

        // Then /metrics counts one of each, and nothing else,
        var expected = before
        expected["handshake", default: 0] += 1
        expected["oversize", default: 0] += 1
        try await cluster.eventually(within: .seconds(15), "n1 counts one handshake and one oversize rejection") {
            try await Self.rejected(cluster, "n1") == expected
        }
        // and n1 carries on: healthy, n2 still alive, checks answered.
        #expect(cluster.processes["n1"]?.isRunning == true)
        let health = try await cluster.get("n1", path: "/health")
        #expect(health.status == 200 && health.json?[member: "members"]?.int == 2, "\(health.text)")
        #expect(try await cluster.members(seenBy: "n1").first { $0.id == "n2" }?.status == "alive")
        let check = try await cluster.check("n1", key: "after-hostile")
        #expect(check.status == 200, "\(check.text)")
        await cluster.stopAll()
    }
}
