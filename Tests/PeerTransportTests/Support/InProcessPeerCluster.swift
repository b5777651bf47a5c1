import Foundation
import Logging
import NIOCore
import NIOSSL
import PeerTestSupport
import Synchronization
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
    /// What every service made here reported to its `onRejected` handler.
    let rejections = RejectionLog()

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
            onRejected: { [rejections] in rejections.append(node: node, $0) },
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

/// The ``PeerRejection``s reported by each in-process service, in order.
final class RejectionLog: Sendable {
    private let entries = Mutex<[(node: String, rejection: PeerRejection)]>([])

    func append(node: String, _ rejection: PeerRejection) {
        self.entries.withLock { $0.append((node, rejection)) }
    }

    /// The reasons `node` reported so far.
    func reasons(of node: String) -> [PeerRejection.Reason] {
        self.entries.withLock { entries in entries.filter { $0.node == node }.map(\.rejection.reason) }
    }

    func rejections(of node: String) -> [PeerRejection] {
        self.entries.withLock { entries in entries.filter { $0.node == node }.map(\.rejection) }
    }

    /// Waits until `node` has reported `count` rejections, and returns their
    /// reasons (more if more came); the rejection may be reported after the
    /// peer has seen its connection close.
    func waitForReasons(of node: String, count: Int = 1, within limit: Duration = .seconds(10)) async -> [PeerRejection.Reason] {
        _ = try? await poll("\(node) reports \(count) rejections", within: limit, every: .milliseconds(10)) {
            self.reasons(of: node).count >= count
        }
        return self.reasons(of: node)
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
