import Crypto
import Foundation
import SwiftASN1
import X509

/// Building the CA and leaf certificates (swift-certificates, "Creating Certificates").
extension ClusterCertificates {
    /// One certificate with the private key that goes with it.
    struct Issued {
        var certificate: Certificate
        var privateKey: Certificate.PrivateKey
    }

    /// A self-signed P-256 CA that may sign leaves only (`pathLen 0`).
    static func makeCA(environment: String, now: Date) throws(CertificateError) -> Issued {
        let key = Certificate.PrivateKey(P256.Signing.PrivateKey())
        do {
            let name = try DistinguishedName {
                OrganizationName("ratelimit")
                CommonName("ratelimit \(environment) cluster CA")
            }
            let extensions = try Certificate.Extensions {
                Critical(BasicConstraints.isCertificateAuthority(maxPathLength: 0))
                Critical(KeyUsage(digitalSignature: true, keyCertSign: true, cRLSign: true))
                SubjectKeyIdentifier(hash: key.publicKey)
            }
            let certificate = try Certificate(
                version: .v3,
                serialNumber: Certificate.SerialNumber(),
                publicKey: key.publicKey,
                notValidBefore: now.addingTimeInterval(-Self.clockSkewAllowance),
                notValidAfter: now.addingTimeInterval(Self.caValidity),
                issuer: name,
                subject: name,
                signatureAlgorithm: .ecdsaWithSHA256,
                extensions: extensions,
                issuerPrivateKey: key
            )
            return Issued(certificate: certificate, privateKey: key)
        } catch {
            throw CertificateError(code: .signing, message: "cannot create the \(environment) cluster CA: \(error)")
        }
    }

    /// A P-256 leaf for `node`, signed by `ca`, usable as TLS server and client.
    ///
    /// SANs: DNS `<node>`, DNS `localhost`, IP 127.0.0.1 (so ordinary TLS tools can
    /// talk to a local node) and the URI `spiffe://ratelimit/<env>/<node>`, which is
    /// the only name peers trust (DESIGN.md §6).
    static func makeLeaf(
        node: String,
        environment: String,
        ca: Issued,
        now: Date
    ) throws(CertificateError) -> Issued {
        let key = Certificate.PrivateKey(P256.Signing.PrivateKey())
        let identity = NodeIdentity(environment: environment, nodeID: node)
        do {
            let subject = try DistinguishedName {
                OrganizationName("ratelimit")
                OrganizationalUnitName(environment)
                CommonName(node)
            }
            let caKeyID = try ca.certificate.extensions.subjectKeyIdentifier?.keyIdentifier
                ?? SubjectKeyIdentifier(hash: ca.certificate.publicKey).keyIdentifier
            let extensions = try Certificate.Extensions {
                Critical(BasicConstraints.notCertificateAuthority)
                Critical(KeyUsage(digitalSignature: true))
                try ExtendedKeyUsage([.serverAuth, .clientAuth])
                SubjectKeyIdentifier(hash: key.publicKey)
                AuthorityKeyIdentifier(keyIdentifier: caKeyID)
                SubjectAlternativeNames([
                    .dnsName(node),
                    .dnsName("localhost"),
                    .ipAddress(ASN1OctetString(contentBytes: [127, 0, 0, 1])),
                    .uniformResourceIdentifier(identity.spiffeID),
                ])
            }
            let certificate = try Certificate(
                version: .v3,
                serialNumber: Certificate.SerialNumber(),
                publicKey: key.publicKey,
                notValidBefore: now.addingTimeInterval(-Self.clockSkewAllowance),
                notValidAfter: min(now.addingTimeInterval(Self.leafValidity), ca.certificate.notValidAfter),
                issuer: ca.certificate.subject,
                subject: subject,
                signatureAlgorithm: .ecdsaWithSHA256,
                extensions: extensions,
                issuerPrivateKey: ca.privateKey
            )
            return Issued(certificate: certificate, privateKey: key)
        } catch {
            throw CertificateError(code: .signing, message: "cannot create the certificate of node \(node): \(error)")
        }
    }

    /// Reads `ca.pem` and `ca-key.pem` and checks that they belong together.
    static func loadCA(directory: String) throws(CertificateError) -> Issued {
        let certificatePath = Self.caCertificatePath(directory: directory)
        let keyPath = Self.caKeyPath(directory: directory)
        let certificate = try Self.loadCertificate(certificatePath)
        let privateKey: Certificate.PrivateKey
        do {
            privateKey = try Certificate.PrivateKey(pemEncoded: Self.readText(keyPath))
        } catch let error as CertificateError {
            throw error
        } catch {
            throw CertificateError(code: .malformed, message: "\(keyPath) is not a PEM private key: \(error)")
        }
        guard privateKey.publicKey == certificate.publicKey else {
            throw CertificateError(code: .malformed, message: "\(keyPath) is not the key of \(certificatePath)")
        }
        return Issued(certificate: certificate, privateKey: privateKey)
    }

    /// Reads one PEM certificate.
    public static func loadCertificate(_ path: String) throws(CertificateError) -> Certificate {
        let text = try Self.readText(path)
        do {
            return try Certificate(pemEncoded: text)
        } catch {
            throw CertificateError(code: .malformed, message: "\(path) is not a PEM certificate: \(error)")
        }
    }

    /// Writes a certificate (0644) and its key (0600).
    static func writePair(_ issued: Issued, certificatePath: String, keyPath: String) throws(CertificateError) {
        let certificatePEM: String
        let keyPEM: String
        do {
            certificatePEM = try issued.certificate.serializeAsPEM().pemString
            keyPEM = try issued.privateKey.serializeAsPEM().pemString
        } catch {
            throw CertificateError(code: .signing, message: "cannot encode \(certificatePath) as PEM: \(error)")
        }
        // Key first: a certificate without its key is the more confusing leftover.
        try Self.writeFile(keyPath, keyPEM + "\n", mode: 0o600)
        try Self.writeFile(certificatePath, certificatePEM + "\n", mode: 0o644)
    }
}
