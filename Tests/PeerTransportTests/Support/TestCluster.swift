import Foundation
import Logging
import NIOCore
import Testing
@testable import PeerTransport

/// A certs directory for nodes n1, n2, n3 of environment "test", plus helpers to
/// run peer services from it. Every service started here is shut down before
/// `withTestCluster` returns.
struct TestCluster {
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
            handler: handler,
            logger: self.logs.logger(label: node),
            configuration: configuration
        )
    }

    /// Answers "<from>:<payload>".
    static let echo: PeerRequestHandler = { from, payload in
        ByteBuffer(string: "\(from):\(String(buffer: payload))")
    }
}

func withTestCluster<T>(_ body: (TestCluster) async throws -> T) async throws -> T {
    try await withTemporaryDirectory { directory in
        try ClusterCertificates.initCluster(directory: directory, environment: TestCluster.environment, nodes: TestCluster.nodes)
        return try await body(TestCluster(directory: directory, logs: LogCapture()))
    }
}

/// Runs `service` (bound, serving) while `body` executes, then stops it and waits
/// until it has closed every connection.
func whileServing<T>(_ service: PeerService, _ body: (_ port: Int) async throws -> T) async throws -> T {
    let address = try await service.bind()
    let port = try #require(address.port)
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
