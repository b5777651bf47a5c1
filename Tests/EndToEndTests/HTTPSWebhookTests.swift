import Foundation
import JSONCore
import NIOSSL
@testable import NodeServer
import PeerTransport
import TestSupport
import Testing

/// An https `ALERT_WEBHOOK_URL` (DESIGN §8): alerts go out over TLS, and the
/// receiver's certificate must chain to the system's roots or to the PEM
/// file `SSL_CERT_FILE` names.
@Suite("Alerts over https: delivered over TLS, the receiver's certificate checked", .serialized)
struct HTTPSWebhookTests {
    /// A CA and a certificate for 127.0.0.1 signed by it (`ratelimit certs
    /// init` issues leaves with that IP name), in a fresh directory.
    struct Authority {
        let directory: TemporaryDirectory
        var caPath: String { ClusterCertificates.caCertificatePath(directory: directory.path) }

        init() throws {
            directory = try TemporaryDirectory(prefix: "webhook-ca")
            try ClusterCertificates.initCluster(directory: directory.path, environment: "development", nodes: ["webhook"])
        }

        /// The receiver's side: the leaf and its key.
        func serverContext() throws -> NIOSSLContext {
            let chain = try NIOSSLCertificate.fromPEMFile(ClusterCertificates.certificatePath(directory: directory.path, node: "webhook"))
            let key = try NIOSSLPrivateKey(file: ClusterCertificates.keyPath(directory: directory.path, node: "webhook"), format: .pem)
            return try NIOSSLContext(configuration: .makeServerConfiguration(certificateChain: chain.map { .certificate($0) },
                                                                             privateKey: .privateKey(key)))
        }
    }

    @Test("High Block Rate reaches an https receiver whose certificate chains to SSL_CERT_FILE, with the bearer token")
    func coordinatorDeliversOverTLS() async throws {
        let authority = try Authority()
        try await WebhookReceiver.serving(tls: try authority.serverContext()) { receiver in
            #expect(receiver.url().hasPrefix("https://"))
            let cluster = try NodeProcessCluster(nodeCount: 2, rules: CoordinatorTests.rules(apiLimit: 3), coordinator: true)
            cluster.environmentVariables["MONITORING_TOKEN"] = NodeProcessCluster.monitoringToken
            cluster.environmentVariables["ALERT_WEBHOOK_URL"] = receiver.url(path: "/hooks/tls")
            cluster.environmentVariables["SSL_CERT_FILE"] = authority.caPath
            try await cluster.startWithCoordinator()

            func firing() -> [WebhookReceiver.Request] {
                receiver.requests.filter {
                    $0.json?[member: "alert"]?.string == "High Block Rate" && $0.json?[member: "status"]?.string == "firing"
                }
            }
            let load = CheckLoad(cluster: cluster, keyPrefix: "blocked-tls", keyCount: 4, workers: 2)
            _ = try await load.during {
                try await cluster.eventually(within: .seconds(20), "High Block Rate delivered over https") { !firing().isEmpty }
            }
            // The receiver only speaks TLS: a request it recorded came over it.
            let request = try #require(firing().first)
            #expect(request.method == "POST")
            #expect(request.path == "/hooks/tls")
            #expect(request.header("authorization") == "Bearer \(NodeProcessCluster.monitoringToken)")
            await cluster.stopAll()
        }
    }

    @Test("the client accepts a receiver certificate from the trusted CA and refuses one from another CA, naming https")
    func clientChecksTheCertificate() async throws {
        let trusted = try Authority()
        let stranger = try Authority()
        try await WebhookReceiver.serving(tls: try trusted.serverContext()) { receiver in
            func post(trusting authority: Authority) async throws -> NodeClient.Response {
                let context = try AlertSender.makeTLSContext(environment: ["SSL_CERT_FILE": authority.caPath]).get()
                return try await NodeClient.request(.POST, host: "127.0.0.1", port: receiver.port, path: "/hooks/check",
                                                    body: Array(#"{"alert":"test"}"#.utf8), timeout: .seconds(5), tls: context)
            }
            let answered = try await post(trusting: trusted)
            #expect(answered.status == 204)
            #expect(receiver.requests.map(\.path) == ["/hooks/check"])

            do {
                let response = try await post(trusting: stranger)
                Issue.record("a certificate from another CA was accepted: \(response.status)")
            } catch {
                #expect("\(error)".contains("https://127.0.0.1:\(receiver.port)"), "\(error)")
            }
            // The refused handshake never reached HTTP: still one request.
            #expect(receiver.requests.count == 1, "\(receiver.requests)")
        }
    }
}
