import Foundation
import NIOCore
import NIOSSL
import PeerTestSupport
import Synchronization
import Testing
@testable import PeerTransport

@Suite("Peer authentication", .timeLimit(.minutes(1)))
struct PeerAuthenticationTests {
    /// A handler that records that it ran: refused peers must never reach it.
    final class CallCounter: Sendable {
        let count = Mutex(0)
        var handler: InProcessPeerCluster.PeerRequestHandler {
            { _, payload in
                self.count.withLock { $0 += 1 }
                return payload
            }
        }
    }

    @Test("a node whose certificate comes from a foreign CA cannot connect as a client")
    func foreignCAClientRefused() async throws {
        try await withInProcessPeerCluster { cluster in
            try await withInProcessPeerCluster { foreign in
                let calls = CallCounter()
                let server = try cluster.service("n1", handler: calls.handler)
                let intruder = try foreign.service("n2")
                try await whileServing(server) { port in
                    let error = await #expect(throws: PeerError.self) {
                        try await intruder.request(to: .local("n1", port), payload: ByteBuffer(string: "hi"), timeout: .seconds(10))
                    }
                    #expect(error?.code == .handshakeFailed)

                    // Even an intruder that trusts our CA (so the refusal cannot come from
                    // its side) is turned away by the server's check of its certificate.
                    let tls = try cluster.rawClientTLS(certificateOf: "n2", certificatesFrom: foreign)
                    let connection = try await RawPeerClient.connectFrames(port: port, tls: tls)
                    let received = try await connection.executeThenClose { inbound, outbound in
                        try? await outbound.write(PeerFrame(kind: .hello, correlationID: 0, text: "n2"))
                        try? await outbound.write(PeerFrame(kind: .request, correlationID: 1, text: "hi"))
                        return await inbound.collectUntilClosed()
                    }
                    #expect(received.isEmpty)
                    #expect(await cluster.logs.waitFor("CERTIFICATE_VERIFY_FAILED", metadata: ["node": "n1"]) != nil)
                    #expect(await cluster.rejections.waitForReasons(of: "n1", count: 2) == [.handshake, .handshake])
                }
                await intruder.shutdown()
                #expect(calls.count.withLock { $0 } == 0)
            }
        }
    }

    @Test("a node refuses a server whose certificate comes from a foreign CA")
    func foreignCAServerRefused() async throws {
        try await withInProcessPeerCluster { cluster in
            try await withInProcessPeerCluster { foreign in
                let calls = CallCounter()
                let impostor = try foreign.service("n2", handler: calls.handler)
                let client = try cluster.service("n1")
                try await whileServing(impostor) { port in
                    let error = await #expect(throws: PeerError.self) {
                        try await client.request(to: .local("n2", port), payload: ByteBuffer(string: "hi"), timeout: .seconds(10))
                    }
                    #expect(error?.code == .handshakeFailed)
                    #expect(error?.message.contains("CERTIFICATE_VERIFY_FAILED") == true)
                }
                await client.shutdown()
                // The dialing side counts the server it refused too.
                #expect(cluster.rejections.reasons(of: "n1") == [.handshake])
                #expect(calls.count.withLock { $0 } == 0)
                #expect(await cluster.logs.waitFor("TLS with peer \"n2\" failed") != nil)
            }
        }
    }

    @Test("a client without a certificate is refused")
    func clientWithoutCertificateRefused() async throws {
        try await withInProcessPeerCluster { cluster in
            let calls = CallCounter()
            let server = try cluster.service("n1", handler: calls.handler)
            try await whileServing(server) { port in
                let tls = try cluster.rawClientTLS(certificateOf: nil)
                let connection = try await RawPeerClient.connectFrames(port: port, tls: tls)
                let received = try await connection.executeThenClose { inbound, outbound in
                    try? await outbound.write(PeerFrame(kind: .hello, correlationID: 0, text: "n2"))
                    try? await outbound.write(PeerFrame(kind: .request, correlationID: 1, text: "hi"))
                    return await inbound.collectUntilClosed()
                }
                #expect(received.isEmpty)
                #expect(await cluster.logs.waitFor("PEER_DID_NOT_RETURN_A_CERTIFICATE") != nil)
                #expect(await cluster.rejections.waitForReasons(of: "n1") == [.handshake])
            }
            #expect(calls.count.withLock { $0 } == 0)
        }
    }

    @Test("a client holding n3's valid certificate cannot join as n2")
    func impostorClientRefused() async throws {
        try await withInProcessPeerCluster { cluster in
            let calls = CallCounter()
            let server = try cluster.service("n1", handler: calls.handler)
            let impostor = try cluster.service("n2", tls: cluster.impostorTLS(claiming: "n2", certificateOf: "n3"))
            try await whileServing(server) { port in
                let error = await #expect(throws: PeerError.self) {
                    try await impostor.request(to: .local("n1", port), payload: ByteBuffer(string: "hi"), timeout: .seconds(10))
                }
                #expect(error?.code == .identityMismatch)
                #expect(error?.message.contains(#"peer certificate is for "n3", but it claims to be "n2""#) == true)
                // The impostor logs the reason n1 sent it too; the record wanted is n1's.
                let logged = await cluster.logs.waitFor(#"peer certificate is for "n3", but it claims to be "n2""#, metadata: ["node": "n1"])
                #expect(logged != nil)
                #expect(await cluster.rejections.waitForReasons(of: "n1") == [.identity])
            }
            await impostor.shutdown()
            // Being refused is not input the impostor refused.
            #expect(cluster.rejections.reasons(of: "n2").isEmpty)
            #expect(calls.count.withLock { $0 } == 0)
        }
    }

    @Test("a client dialing n2 refuses a server that presents n3's certificate")
    func impostorServerRefused() async throws {
        try await withInProcessPeerCluster { cluster in
            let calls = CallCounter()
            let impostor = try cluster.service("n2", tls: cluster.impostorTLS(claiming: "n2", certificateOf: "n3"), handler: calls.handler)
            let client = try cluster.service("n1")
            try await whileServing(impostor) { port in
                let error = await #expect(throws: PeerError.self) {
                    try await client.request(to: .local("n2", port), payload: ByteBuffer(string: "hi"), timeout: .seconds(10))
                }
                #expect(error?.code == .identityMismatch)
                #expect(error?.message.contains(#"peer certificate is for "n3", but we dialed "n2""#) == true)
            }
            await client.shutdown()
            #expect(calls.count.withLock { $0 } == 0)
            #expect(await cluster.logs.waitFor(#"peer certificate is for "n3", but we dialed "n2""#, metadata: ["node": "n1"]) != nil)
            #expect(cluster.rejections.reasons(of: "n1") == [.identity])
        }
    }

    @Test("a node of another environment is refused even with a certificate from the same CA")
    func otherEnvironmentRefused() async throws {
        try await withInProcessPeerCluster { cluster in
            try ClusterCertificates.addNode(directory: cluster.directory, environment: "staging", node: "n9")
            let stagingTLS = try PeerTLS(certsDirectory: cluster.directory, environment: "staging", nodeID: "n9")
            let server = try cluster.service("n1")
            let stranger = try cluster.service("n9", tls: stagingTLS)
            try await whileServing(server) { port in
                let error = await #expect(throws: PeerError.self) {
                    try await stranger.request(to: .local("n1", port), payload: ByteBuffer(string: "hi"), timeout: .seconds(10))
                }
                #expect(error?.code == .identityMismatch)
                #expect(await cluster.logs.waitFor(#"environment "staging", but we are "test""#) != nil)
                #expect(await cluster.rejections.waitForReasons(of: "n1") == [.identity])
            }
            await stranger.shutdown()
        }
    }

    @Test("loading TLS material checks that the certificate names the node")
    func tlsLoadChecksIdentity() async throws {
        try await withInProcessPeerCluster { cluster in
            // An operator copies n3's files into place for a new node n4.
            try FileManager.default.copyItem(
                atPath: ClusterCertificates.certificatePath(directory: cluster.directory, node: "n3"),
                toPath: ClusterCertificates.certificatePath(directory: cluster.directory, node: "n4")
            )
            try FileManager.default.copyItem(
                atPath: ClusterCertificates.keyPath(directory: cluster.directory, node: "n3"),
                toPath: ClusterCertificates.keyPath(directory: cluster.directory, node: "n4")
            )
            let error = #expect(throws: PeerTransport.CertificateError.self) {
                _ = try PeerTLS(certsDirectory: cluster.directory, environment: InProcessPeerCluster.environment, nodeID: "n4")
            }
            #expect(error?.message.contains("spiffe://ratelimit/test/n3") == true)
        }
    }
}
