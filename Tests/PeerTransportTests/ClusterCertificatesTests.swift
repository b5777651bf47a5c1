import Foundation
import SwiftASN1
import TestSupport
import Testing
import X509
@testable import PeerTransport

@Suite("Cluster certificates")
struct ClusterCertificatesTests {
    @Test("certs init writes the CA and one certificate per node, with private keys readable only by the owner")
    func initWritesFilesWithPrivateKeys() async throws {
        try await withTemporaryDirectory(prefix: "peertransport") { directory in
            let written = try ClusterCertificates.initCluster(
                directory: directory, environment: "development", nodes: ["n1", "n2", "coordinator"]
            )
            let expected = ["ca.pem", "ca-key.pem", "n1.pem", "n1-key.pem", "n2.pem", "n2-key.pem", "coordinator.pem", "coordinator-key.pem"]
            #expect(written.map { URL(fileURLWithPath: $0).lastPathComponent } == expected)
            for file in expected {
                let mode = try permissions(of: "\(directory)/\(file)")
                if file.hasSuffix("-key.pem") {
                    #expect(mode == 0o600, "\(file) has mode \(String(mode, radix: 8))")
                } else {
                    #expect(mode & 0o077 != 0o077, "\(file)")
                }
            }
        }
    }

    @Test("a node certificate is a P-256 leaf signed by the CA with DNS, IP and SPIFFE SANs and both TLS usages")
    func leafCertificateContents() async throws {
        try await withTemporaryDirectory(prefix: "peertransport") { directory in
            let now = Date()
            try ClusterCertificates.initCluster(directory: directory, environment: "staging", nodes: ["n7"], now: now)
            let ca = try ClusterCertificates.loadCertificate("\(directory)/ca.pem")
            let leaf = try ClusterCertificates.loadCertificate("\(directory)/n7.pem")

            let names = try #require(try leaf.extensions.subjectAlternativeNames)
            #expect(names.contains(.dnsName("n7")))
            #expect(names.contains(.dnsName("localhost")))
            #expect(names.contains(.ipAddress(ASN1OctetString(contentBytes: [127, 0, 0, 1]))))
            #expect(names.contains(.uniformResourceIdentifier("spiffe://ratelimit/staging/n7")))
            #expect(ClusterCertificates.nodeIdentity(of: leaf) == NodeIdentity(environment: "staging", nodeID: "n7"))

            let usages = try #require(try leaf.extensions.extendedKeyUsage)
            #expect(usages.contains(.serverAuth) && usages.contains(.clientAuth))
            #expect(try leaf.extensions.keyUsage?.digitalSignature == true)
            #expect(try leaf.extensions.basicConstraints == .notCertificateAuthority)
            #expect(try ca.extensions.basicConstraints == .isCertificateAuthority(maxPathLength: 0))
            #expect(ClusterCertificates.nodeIdentity(of: ca) == nil)

            #expect(leaf.issuer == ca.subject)
            #expect(ca.publicKey.isValidSignature(leaf.signature, for: leaf))
            #expect(leaf.signatureAlgorithm == .ecdsaWithSHA256)
            #expect(abs(leaf.notValidAfter.timeIntervalSince(now) - ClusterCertificates.leafValidity) < 5)
            #expect(abs(ca.notValidAfter.timeIntervalSince(now) - ClusterCertificates.caValidity) < 5)
            #expect(leaf.notValidBefore <= now)
        }
    }

    @Test("certs init refuses to overwrite an existing file without force and names it")
    func refusesOverwriteWithoutForce() async throws {
        try await withTemporaryDirectory(prefix: "peertransport") { directory in
            try ClusterCertificates.initCluster(directory: directory, environment: "development", nodes: ["n1"])
            let original = try String(contentsOfFile: "\(directory)/ca.pem", encoding: .utf8)

            let error = #expect(throws: PeerTransport.CertificateError.self) {
                _ = try ClusterCertificates.initCluster(directory: directory, environment: "development", nodes: ["n1"])
            }
            #expect(error?.code == .fileExists)
            #expect(error?.message.contains("\(directory)/ca.pem") == true)
            #expect(try String(contentsOfFile: "\(directory)/ca.pem", encoding: .utf8) == original)

            try ClusterCertificates.initCluster(directory: directory, environment: "development", nodes: ["n1"], force: true)
            #expect(try String(contentsOfFile: "\(directory)/ca.pem", encoding: .utf8) != original)
            #expect(try permissions(of: "\(directory)/n1-key.pem") == 0o600)
        }
    }

    @Test("adding a node signs it with the existing CA and refuses to replace it without force")
    func addNodeUsesExistingCA() async throws {
        try await withTemporaryDirectory(prefix: "peertransport") { directory in
            try ClusterCertificates.initCluster(directory: directory, environment: "development", nodes: ["n1"])
            let ca = try ClusterCertificates.loadCertificate("\(directory)/ca.pem")
            try ClusterCertificates.addNode(directory: directory, environment: "development", node: "n4")
            try ClusterCertificates.check("\(directory)/n4.pem", isNode: "n4", environment: "development", signedBy: ca)
            #expect(try permissions(of: "\(directory)/n4-key.pem") == 0o600)

            let error = #expect(throws: PeerTransport.CertificateError.self) {
                _ = try ClusterCertificates.addNode(directory: directory, environment: "development", node: "n4")
            }
            #expect(error?.code == .fileExists)
            #expect(error?.message.contains("n4.pem") == true)
        }
    }

    @Test("node ids outside [a-z0-9-]+ are rejected, naming the id", arguments: ["N1", "n_1", "", "n1/..", "n 1"])
    func invalidNodeIDs(_ id: String) async throws {
        try await withTemporaryDirectory(prefix: "peertransport") { directory in
            let error = #expect(throws: PeerTransport.CertificateError.self) {
                _ = try ClusterCertificates.initCluster(directory: directory, environment: "development", nodes: [id])
            }
            #expect(error?.code == .invalidName)
            #expect(error?.message.contains("\"\(id)\"") == true)
            #expect(!FileManager.default.fileExists(atPath: "\(directory)/ca.pem"))
        }
    }

    @Test("ensuring a cluster creates only what is missing and rejects a certificate of another environment")
    func ensureClusterCreatesMissingOnly() async throws {
        try await withTemporaryDirectory(prefix: "peertransport") { directory in
            let first = try ClusterCertificates.ensureCluster(directory: directory, environment: "development", nodes: ["n1", "n2"])
            #expect(first.count == 6)
            let ca = try String(contentsOfFile: "\(directory)/ca.pem", encoding: .utf8)

            #expect(try ClusterCertificates.ensureCluster(directory: directory, environment: "development", nodes: ["n1", "n2"]).isEmpty)
            let added = try ClusterCertificates.ensureCluster(directory: directory, environment: "development", nodes: ["n1", "n2", "n3"])
            #expect(added.map { URL(fileURLWithPath: $0).lastPathComponent } == ["n3.pem", "n3-key.pem"])
            #expect(try String(contentsOfFile: "\(directory)/ca.pem", encoding: .utf8) == ca)

            let error = #expect(throws: PeerTransport.CertificateError.self) {
                _ = try ClusterCertificates.ensureCluster(directory: directory, environment: "staging", nodes: ["n1"])
            }
            #expect(error?.code == .malformed)
            #expect(error?.message.contains("n1.pem") == true)
        }
    }

    @Test("a SPIFFE id parses only in the ratelimit trust domain with exactly environment and node id")
    func spiffeParsing() {
        #expect(NodeIdentity(spiffeID: "spiffe://ratelimit/production/n2") == NodeIdentity(environment: "production", nodeID: "n2"))
        #expect(NodeIdentity(spiffeID: "spiffe://ratelimit/production/coordinator")?.nodeID == "coordinator")
        #expect(NodeIdentity(spiffeID: "spiffe://other/production/n2") == nil)
        #expect(NodeIdentity(spiffeID: "spiffe://ratelimit/production/n2/extra") == nil)
        #expect(NodeIdentity(spiffeID: "spiffe://ratelimit/production") == nil)
        #expect(NodeIdentity(spiffeID: "spiffe://ratelimit/Production/n2") == nil)
        #expect(NodeIdentity(environment: "development", nodeID: "n1").spiffeID == "spiffe://ratelimit/development/n1")
    }
}

/// POSIX permission bits of a file.
private func permissions(of path: String) throws -> Int {
    let attributes = try FileManager.default.attributesOfItem(atPath: path)
    return (attributes[.posixPermissions] as? NSNumber)?.intValue ?? -1
}
