import Foundation
import JSONCore
import NIOCore
import NodeServer
import PeerTestSupport
import PeerTransport
import TestSupport
import Testing

@Suite("Peers must prove who they are", .serialized, .timeLimit(.minutes(2)))
struct TrustTests {
    /// A second project directory with the same topology (same ports, its
    /// own data dirs) whose certificates the test controls.
    static func impostorProject(of cluster: NodeProcessCluster) throws -> TemporaryDirectory {
        let project = try TemporaryDirectory(prefix: "ratelimit-impostor")
        try FileManager.default.createDirectory(atPath: project.file("cluster"), withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: cluster.directory + "/wrangler.toml", toPath: project.file("wrangler.toml"))
        try FileManager.default.copyItem(atPath: cluster.directory + "/cluster/development.toml",
                                         toPath: project.file("cluster/development.toml"))
        return project
    }

    /// Peer connections `node` has closed because their TLS handshake failed.
    static func failedHandshakes(_ node: String, in cluster: NodeProcessCluster) -> Int {
        cluster.occurrences(of: "closing peer connection: TLS with peer", inOutputOf: node)
    }

    @Test("a node whose certificate comes from a foreign CA never becomes a member")
    func foreignCA() async throws {
        let cluster = try NodeProcessCluster(nodeCount: 3)
        try await cluster.makeCertificates()
        try cluster.start("n1")
        try cluster.start("n2")
        try await cluster.waitForMembership(["n1", "n2"], on: ["n1", "n2"])

        let foreign = try Self.impostorProject(of: cluster)
        defer { withExtendedLifetime(foreign) {} }  // the impostor runs in it
        let certs = try TestProcess(name: "foreign-certs", executable: TestEnvironment.binary, arguments: ["certs", "init"],
                                    directory: foreign.path)
        #expect(await certs.waitForExit(within: .seconds(30)))
        #expect(certs.exitStatus == 0, "\(certs.output)")
        let before = ["n1": Self.failedHandshakes("n1", in: cluster), "n2": Self.failedHandshakes("n2", in: cluster)]
        let impostor = try TestProcess(name: "n3-foreign", executable: TestEnvironment.binary, arguments: ["node", "--id", "n3"],
                                       directory: foreign.path, environment: ["ADMIN_TOKEN": NodeProcessCluster.adminToken])
        defer { impostor.signal(SIGKILL) }
        try await cluster.waitHealthy("n3")  // Its HTTP port answers; it is alone.

        // The observation window: alone, n3 knocks on its seeds n1 and n2 once
        // per join retry (SWIMSettings.gossip.joinRetryInterval). Once each of
        // them has seen three of those attempts fail at the TLS handshake, n3
        // has had three full chances to join.
        try await cluster.eventually(within: .seconds(30), "n1 and n2 each fail three handshakes with the foreign n3") {
            ["n1", "n2"].allSatisfy { Self.failedHandshakes($0, in: cluster) >= before[$0]! + 3 }
        }
        for node in ["n1", "n2"] {
            let members = try await cluster.members(seenBy: node)
            #expect(!members.contains { $0.id == "n3" && $0.status == "alive" }, "\(node) sees \(members)")
        }
        let alone = try await cluster.get("n3", path: "/health")
        #expect(alone.json?[member: "members"]?.int == 1)

        // Those attempts failed on n3's side (it does not trust n1's CA). A
        // client that trusts the cluster's CA, so that the refusal cannot come
        // from its side, but presents the foreign n3 certificate, is turned away
        // by n1's own check before a single frame is answered.
        let foreignCredentials = try RawPeerClient.tlsConfiguration(
            trustingCAIn: cluster.certsDirectory, certificateOf: "n3", from: foreign.file("cluster/certs/development"))
        let verifyFailuresBefore = cluster.occurrences(of: "CERTIFICATE_VERIFY_FAILED", inOutputOf: "n1")
        let connection = try await RawPeerClient.connectFrames(port: cluster.node("n1").peerPort, tls: foreignCredentials)
        let received = try await connection.executeThenClose { inbound, outbound in
            try? await outbound.write(Self.hello("n3"))
            return await inbound.collectUntilClosed()
        }
        #expect(received.isEmpty)
        try await cluster.eventually(within: .seconds(10), "n1 logs that it could not verify the foreign certificate") {
            cluster.occurrences(of: "CERTIFICATE_VERIFY_FAILED", inOutputOf: "n1") > verifyFailuresBefore
        }
        #expect(cluster.processes["n1"]?.isRunning == true)
        await impostor.stop()
        await cluster.stopAll()
    }

    @Test("a node binary refuses to start with another node's certificate installed as its own")
    func impostorBinaryRefusesToStart() async throws {
        let cluster = try NodeProcessCluster(nodeCount: 3)
        try await cluster.makeCertificates()

        // Given a project whose n2 files are n3's certificate and key,
        let stolen = try Self.impostorProject(of: cluster)
        defer { withExtendedLifetime(stolen) {} }  // the impostor runs in it
        let target = stolen.file("cluster/certs/development")
        try FileManager.default.createDirectory(atPath: target, withIntermediateDirectories: true)
        let source = cluster.certsDirectory
        try FileManager.default.copyItem(atPath: "\(source)/ca.pem", toPath: "\(target)/ca.pem")
        try FileManager.default.copyItem(atPath: "\(source)/n3.pem", toPath: "\(target)/n2.pem")
        try FileManager.default.copyItem(atPath: "\(source)/n3-key.pem", toPath: "\(target)/n2-key.pem")

        // When `node --id n2` starts from it,
        let impostor = try TestProcess(name: "n2-impostor", executable: TestEnvironment.binary, arguments: ["node", "--id", "n2"],
                                       directory: stolen.path, environment: ["ADMIN_TOKEN": NodeProcessCluster.adminToken])
        defer { impostor.signal(SIGKILL) }

        // Then it exits with an error naming the certificate's node and its own.
        #expect(await impostor.waitForExit(within: .seconds(30)), "\(impostor.output)")
        #expect(impostor.exitStatus != 0)
        #expect(impostor.output.contains("spiffe://ratelimit/development/n3") && impostor.output.contains("n2"),
                "\(impostor.output)")
    }

    @Test("a running node refuses a peer that holds n3's valid certificate but says it is n2")
    func nodeRefusesImpersonation() async throws {
        let cluster = try NodeProcessCluster(nodeCount: 3)
        try await cluster.makeCertificates()
        try cluster.start("n1")
        try cluster.start("n3")
        try await cluster.waitForMembership(["n1", "n3"], on: ["n1", "n3"])
        // Membership first, then n1's import from n3 (it serves only after that).
        try await cluster.waitHealthy("n1")
        let peerPort = cluster.node("n1").peerPort
        let n3Credentials = try RawPeerClient.tlsConfiguration(trustingCAIn: cluster.certsDirectory, certificateOf: "n3")

        // Given n3's certificate and key, which n1 accepts when they say n3
        // (so a refusal below is about the claim, not the client),
        let honest = try await RawPeerClient.connectFrames(port: peerPort, tls: n3Credentials)
        let greeting = try await honest.executeThenClose { inbound, outbound in
            try await outbound.write(Self.hello("n3"))
            var frames = inbound.makeAsyncIterator()
            return try await frames.next()
        }
        #expect(greeting?.kind == .hello)
        #expect(greeting.map { String(buffer: $0.payload) } == "n1")

        // When a client presents them to n1's peer port but says it is n2,
        let impostor = try await RawPeerClient.connectFrames(port: peerPort, tls: n3Credentials)
        let received = try await impostor.executeThenClose { inbound, outbound in
            try? await outbound.write(Self.hello("n2"))
            try? await outbound.write(PeerFrame(kind: .request, correlationID: 1, payload: ByteBuffer(string: "hi")))
            return await inbound.collectUntilClosed()
        }

        // Then n1 answers with nothing but an error frame naming both ids, and
        // closes the connection (collectUntilClosed returned),
        let reason = #"peer certificate is for "n3", but it claims to be "n2""#
        #expect(received.map(\.kind) == [.error])
        #expect(received.first.map { String(buffer: $0.payload) } == reason)
        // logs the refusal with both ids,
        try await cluster.eventually(within: .seconds(10), "n1 logs the refusal") {
            cluster.processes["n1"]?.output.contains("closing peer connection: \(reason)") == true
        }
        // and carries on: healthy, n2 still unknown, n3 still alive.
        #expect(cluster.processes["n1"]?.isRunning == true)
        let health = try await cluster.get("n1", path: "/health")
        #expect(health.status == 200)
        let members = try await cluster.members(seenBy: "n1")
        #expect(!members.contains { $0.id == "n2" && $0.status == "alive" }, "n1 sees \(members)")
        #expect(members.first { $0.id == "n3" }?.status == "alive", "n1 sees \(members)")
        await cluster.stopAll()
    }

    static func hello(_ nodeID: String) -> PeerFrame {
        PeerFrame(kind: .hello, correlationID: 0, payload: ByteBuffer(string: nodeID))
    }
}
