import Foundation
import X509

/// Creates the cluster's certificate authority and node certificates.
///
/// Layout of a certs directory (`certs_dir` in `cluster/<env>.toml`, DESIGN.md §3):
/// `ca.pem`, `ca-key.pem`, and per node `<id>.pem` and `<id>-key.pem`. Keys are
/// written with mode 0600. Everything is P-256 / ECDSA-SHA256; leaves carry the
/// node's SPIFFE id (see ``NodeIdentity``) and both serverAuth and clientAuth, since
/// every node is TLS server to some peers and client to others (mutual TLS,
/// RFC 8446 §4.3.2 CertificateRequest).
public enum ClusterCertificates {
    /// Ten years: rotating a CA means re-issuing every node, so it lives long.
    public static let caValidity: TimeInterval = 10 * 365 * 24 * 3600
    /// One year for node certificates.
    public static let leafValidity: TimeInterval = 365 * 24 * 3600
    /// Certificates start one hour in the past so nodes whose clocks lag still accept them.
    static let clockSkewAllowance: TimeInterval = 3600

    /// Creates a new CA and one certificate per node in `directory`.
    ///
    /// Without `force`, refuses (before writing anything) when any of the files it
    /// would write already exists, naming that file: replacing the CA silently would
    /// cut every running node off from the new ones.
    ///
    /// - Returns: the paths written, CA first.
    @discardableResult
    public static func initCluster(
        directory: String,
        environment: String,
        nodes: [String],
        force: Bool = false,
        now: Date = Date()
    ) throws(CertificateError) -> [String] {
        try Self.validate(environment: environment)
        for node in nodes { try Self.validate(node: node) }
        if let duplicate = Self.firstDuplicate(nodes) {
            throw CertificateError(code: .invalidName, message: "node id \"\(duplicate)\" is listed twice")
        }

        let caFiles = [Self.caCertificatePath(directory: directory), Self.caKeyPath(directory: directory)]
        let nodeFiles = nodes.flatMap { [Self.certificatePath(directory: directory, node: $0), Self.keyPath(directory: directory, node: $0)] }
        if !force { try Self.refuseOverwrite(caFiles + nodeFiles) }

        try Self.createDirectory(directory)
        let ca = try Self.makeCA(environment: environment, now: now)
        try Self.writePair(ca, certificatePath: caFiles[0], keyPath: caFiles[1])
        var written = caFiles
        for node in nodes {
            written += try Self.issue(node: node, environment: environment, ca: ca, directory: directory, now: now)
        }
        return written
    }

    /// Adds one node certificate signed by the existing CA in `directory`.
    ///
    /// - Returns: the paths written (certificate, key).
    @discardableResult
    public static func addNode(
        directory: String,
        environment: String,
        node: String,
        force: Bool = false,
        now: Date = Date()
    ) throws(CertificateError) -> [String] {
        try Self.validate(environment: environment)
        try Self.validate(node: node)
        if !force {
            try Self.refuseOverwrite([
                Self.certificatePath(directory: directory, node: node),
                Self.keyPath(directory: directory, node: node),
            ])
        }
        let ca = try Self.loadCA(directory: directory)
        return try Self.issue(node: node, environment: environment, ca: ca, directory: directory, now: now)
    }

    /// Creates whatever is missing so that every node in `nodes` has a certificate
    /// from the directory's CA (used by `ratelimit up`).
    ///
    /// Existing files are kept. A node certificate that is present but does not fit
    /// (another environment or node id, not signed by this CA, or only one of the
    /// pair present) is an error naming the file, never silently replaced. If the CA
    /// is missing while node files exist, those files are reported: they were signed
    /// by a CA that is gone.
    ///
    /// - Returns: the paths written; empty when everything was already there.
    @discardableResult
    public static func ensureCluster(
        directory: String,
        environment: String,
        nodes: [String],
        now: Date = Date()
    ) throws(CertificateError) -> [String] {
        try Self.validate(environment: environment)
        for node in nodes { try Self.validate(node: node) }
        let caCertificate = Self.caCertificatePath(directory: directory)
        let caKey = Self.caKeyPath(directory: directory)
        if !Self.fileExists(caCertificate) && !Self.fileExists(caKey) {
            return try Self.initCluster(directory: directory, environment: environment, nodes: nodes, force: false, now: now)
        }
        let ca = try Self.loadCA(directory: directory)
        var written: [String] = []
        for node in nodes {
            let certificatePath = Self.certificatePath(directory: directory, node: node)
            let keyPath = Self.keyPath(directory: directory, node: node)
            switch (Self.fileExists(certificatePath), Self.fileExists(keyPath)) {
            case (false, false):
                written += try Self.issue(node: node, environment: environment, ca: ca, directory: directory, now: now)
            case (true, true):
                try Self.check(certificatePath, isNode: node, environment: environment, signedBy: ca.certificate)
            case (true, false):
                throw CertificateError(code: .fileMissing, message: "\(keyPath) is missing but \(certificatePath) exists")
            case (false, true):
                throw CertificateError(code: .fileMissing, message: "\(certificatePath) is missing but \(keyPath) exists")
            }
        }
        return written
    }

    /// Throws unless `path` holds a certificate for `node` in `environment` signed by `ca`.
    public static func check(
        _ path: String,
        isNode node: String,
        environment: String,
        signedBy ca: Certificate
    ) throws(CertificateError) {
        let certificate = try Self.loadCertificate(path)
        guard let identity = NodeIdentity(certificate: certificate) else {
            throw CertificateError(code: .malformed, message: "\(path) has no spiffe://ratelimit/<env>/<id> URI SAN")
        }
        guard identity == NodeIdentity(environment: environment, nodeID: node) else {
            throw CertificateError(
                code: .malformed,
                message: "\(path) is for \(identity.spiffeID), expected \(NodeIdentity(environment: environment, nodeID: node).spiffeID)"
            )
        }
        guard certificate.issuer == ca.subject, ca.publicKey.isValidSignature(certificate.signature, for: certificate) else {
            throw CertificateError(code: .malformed, message: "\(path) is not signed by this directory's ca.pem")
        }
    }

    private static func issue(
        node: String,
        environment: String,
        ca: Issued,
        directory: String,
        now: Date
    ) throws(CertificateError) -> [String] {
        let leaf = try Self.makeLeaf(node: node, environment: environment, ca: ca, now: now)
        let certificatePath = Self.certificatePath(directory: directory, node: node)
        let keyPath = Self.keyPath(directory: directory, node: node)
        try Self.writePair(leaf, certificatePath: certificatePath, keyPath: keyPath)
        return [certificatePath, keyPath]
    }

    static func validate(node: String) throws(CertificateError) {
        guard NodeIdentity.isValidName(node) else {
            throw CertificateError(code: .invalidName, message: "node id \"\(node)\" must match [a-z0-9-]+ (at most 63 characters)")
        }
    }

    static func validate(environment: String) throws(CertificateError) {
        guard NodeIdentity.isValidName(environment) else {
            throw CertificateError(code: .invalidName, message: "environment \"\(environment)\" must match [a-z0-9-]+ (at most 63 characters)")
        }
    }

    private static func firstDuplicate(_ names: [String]) -> String? {
        var seen: Set<String> = []
        return names.first { !seen.insert($0).inserted }
    }
}
