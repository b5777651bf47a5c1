import Foundation
import Logging
import NIOCore
import NIOSSL
import PeerTestSupport
import TestSupport
@testable import PeerTransport

/// A certs directory for nodes n1, n2, n3 of environment "test", and
/// in-process `PeerService`s made from it that log into one `LogCapture`.
/// No node processes: `NodeProcessCluster` in EndToEndTests is that. Every
/// service started here is shut down before `withInProcessPeerCluster` returns.
struct InProcessPeerCluster {
    static let environment = "test"
    static let nodes = ["n1", "n2", "n3"]

    let directory: String
    let logs: LogCapture

    func tls(_ node: String) throws -> PeerTLS {
        try PeerTLS(certsDirectory: self.directory, environment: Self.environment, nodeID: node)
    }

    /// TLS material that says `claimedID` but holds `certificateOf`'s certificate and key.
    func impostorTLS(claiming claimedID: String, certificateOf node: String) throws -> PeerTLS {
        try PeerTLS(
            environment: Self.environment,
            nodeID: claimedID,
            caCertificatePath: ClusterCertificates.caCertificatePath(directory: self.directory),
            certificatePath: ClusterCertificates.certificatePath(directory: self.directory, node: node),
            keyPath: ClusterCertificates.keyPath(directory: self.directory, node: node)
        )
    }

    /// A raw client's TLS trusting this cluster's CA, presenting `node`'s
    /// certificate (or none) from `issuer` (by default this cluster).
    func rawClientTLS(certificateOf node: String?, certificatesFrom issuer: InProcessPeerCluster? = nil) throws -> TLSConfiguration {
        try RawPeerClient.tlsConfiguration(trustingCAIn: self.directory, certificateOf: node, from: (issuer ?? self).directory)
    }

    func service(
        _ node: String,
        tls: PeerTLS? = nil,
        port: Int = 0,
        configuration: PeerService.Configuration = PeerService.Configuration(),
        handler: @escaping PeerRequestHandler = Self.echo
    ) throws -> PeerService {
        PeerService(
            localID: node,
            environment: Self.environment,
            host: "127.0.0.1",
            port: port,
            tls: try tls ?? self.tls(node),
            responder: { from, payload, reply in Task { reply(await handler(from, payload)) } },
            logger: self.logs.logger(label: node),
            configuration: configuration
        )
    }

    /// A test's request handler: async, one task per request (the node's own
    /// responder answers on the event loop; these tests check the transport).
    typealias PeerRequestHandler = @Sendable (_ from: String, _ payload: ByteBuffer) async -> ByteBuffer?

    /// Answers "<from>:<payload>".
    static let echo: PeerRequestHandler = { from, payload in
        ByteBuffer(string: "\(from):\(String(buffer: payload))")
    }
}

func withInProcessPeerCluster<T>(_ body: (InProcessPeerCluster) async throws -> T) async throws -> T {
    try await withTemporaryDirectory(prefix: "peertransport") { directory in
        try ClusterCertificates.initCluster(
            directory: directory, environment: InProcessPeerCluster.environment, nodes: InProcessPeerCluster.nodes)
        return try await body(InProcessPeerCluster(directory: directory, logs: LogCapture()))
    }
}

/// Runs `service` (bound, serving) while `body` executes, then stops it and waits
/// until it has closed every connection.
func whileServing<T>(_ service: PeerService, _ body: (_ port: Int) async throws -> T) async throws -> T {
    let address = try await service.bind()
    guard let port = address.port else { throw TestFailure("peer service bound to \(address), which has no port") }
    return try await withThrowingTaskGroup(of: Void.self) { group in
        group.addTask { try await service.run() }
        do {
            let result = try await body(port)
            group.cancelAll()
            try await group.waitForAll()
            return result
        } catch {
            group.cancelAll()
            try? await group.waitForAll()
            throw error
        }
    }
}

extension PeerAddress {
    static func local(_ id: String, _ port: Int) -> PeerAddress {
        PeerAddress(id: id, host: "127.0.0.1", port: port)
    }
}
