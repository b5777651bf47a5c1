import NIOCore
import NIOSSL
import X509

/// The mutual-TLS material of one node: TLS 1.3 only, the cluster CA as the only
/// trust root, and this node's certificate presented in both directions.
///
/// Why hostname verification is off on both sides: every local node certificate
/// carries the IP SAN 127.0.0.1 and NIOSSL's name check passes when any SAN
/// matches, so on loopback it proves nothing about *which* node answered
/// (DESIGN.md §6); across hosts, nodes are dialed by address and a DNS check would
/// only add brittleness. What matters is the chain to the cluster CA, which
/// BoringSSL checks during the handshake (a foreign CA fails with UNKNOWN_CA), and
/// the SPIFFE id in the certificate, which ``PeerSessionHandler`` compares with the
/// node we dialed (client) or the node the client claims to be (server) before any
/// request is served.
public struct PeerTLS: Sendable {
    /// Who this node is; its certificate should say the same (peers check it).
    public let identity: NodeIdentity
    /// Server side: TLS 1.3, client certificate required and chained to the CA.
    public let serverConfiguration: TLSConfiguration
    /// Client side: TLS 1.3, server certificate chained to the CA, ours presented.
    public let clientConfiguration: TLSConfiguration

    let serverContext: NIOSSLContext
    let clientContext: NIOSSLContext

    /// Loads `ca.pem`, `<node>.pem` and `<node>-key.pem` from a certs directory made by
    /// ``ClusterCertificates``, and checks that the certificate is this node's (right
    /// environment and id, signed by `ca.pem`), so a misplaced file fails at start-up
    /// rather than at the first peer.
    public init(certsDirectory: String, environment: String, nodeID: String) throws(CertificateError) {
        try ClusterCertificates.validate(environment: environment)
        try ClusterCertificates.validate(node: nodeID)
        let caPath = ClusterCertificates.caCertificatePath(directory: certsDirectory)
        let certificatePath = ClusterCertificates.certificatePath(directory: certsDirectory, node: nodeID)
        try ClusterCertificates.check(
            certificatePath,
            isNode: nodeID,
            environment: environment,
            signedBy: ClusterCertificates.loadCertificate(caPath)
        )
        try self.init(
            environment: environment,
            nodeID: nodeID,
            caCertificatePath: caPath,
            certificatePath: certificatePath,
            keyPath: ClusterCertificates.keyPath(directory: certsDirectory, node: nodeID)
        )
    }

    /// Builds the configurations from explicit PEM files.
    ///
    /// Unlike ``init(certsDirectory:environment:nodeID:)`` this does not check that the
    /// certificate names `nodeID`: peers check that themselves, and tests use this to
    /// play a node that presents someone else's certificate.
    public init(
        environment: String,
        nodeID: String,
        caCertificatePath: String,
        certificatePath: String,
        keyPath: String
    ) throws(CertificateError) {
        let trustRoot = try Self.loadNIOCertificate(caCertificatePath)
        let certificate = try Self.loadNIOCertificate(certificatePath)
        let key: NIOSSLPrivateKey
        do {
            key = try NIOSSLPrivateKey(bytes: Array(ClusterCertificates.readText(keyPath).utf8), format: .pem)
        } catch let error as CertificateError {
            throw error
        } catch {
            throw CertificateError(code: .malformed, message: "\(keyPath) is not a PEM private key: \(error)")
        }
        try self.init(
            identity: NodeIdentity(environment: environment, nodeID: nodeID),
            trustRoot: trustRoot,
            certificate: certificate,
            privateKey: key
        )
    }

    /// Builds the configurations from certificates already in memory.
    public init(
        identity: NodeIdentity,
        trustRoot: NIOSSLCertificate,
        certificate: NIOSSLCertificate,
        privateKey: NIOSSLPrivateKey
    ) throws(CertificateError) {
        var server = TLSConfiguration.makeServerConfigurationWithMTLS(
            certificateChain: [.certificate(certificate)],
            privateKey: .privateKey(privateKey),
            trustRoots: .certificates([trustRoot])
        )
        server.minimumTLSVersion = .tlsv13
        server.maximumTLSVersion = .tlsv13
        server.certificateVerification = .noHostnameVerification
        // Lets a client pick the right certificate; it only names our own CA.
        server.sendCANameList = true
        server.shutdownTimeout = .seconds(2)

        var client = TLSConfiguration.makeClientConfiguration()
        client.minimumTLSVersion = .tlsv13
        client.maximumTLSVersion = .tlsv13
        client.certificateVerification = .noHostnameVerification
        client.trustRoots = .certificates([trustRoot])
        client.certificateChain = [.certificate(certificate)]
        client.privateKey = .privateKey(privateKey)
        client.shutdownTimeout = .seconds(2)

        do {
            self.serverContext = try NIOSSLContext(configuration: server)
            self.clientContext = try NIOSSLContext(configuration: client)
        } catch {
            throw CertificateError(code: .malformed, message: "cannot build TLS contexts for node \(identity.nodeID): \(error)")
        }
        self.identity = identity
        self.serverConfiguration = server
        self.clientConfiguration = client
    }

    private static func loadNIOCertificate(_ path: String) throws(CertificateError) -> NIOSSLCertificate {
        let text = try ClusterCertificates.readText(path)
        do {
            return try NIOSSLCertificate(bytes: Array(text.utf8), format: .pem)
        } catch {
            throw CertificateError(code: .malformed, message: "\(path) is not a PEM certificate: \(error)")
        }
    }
}
