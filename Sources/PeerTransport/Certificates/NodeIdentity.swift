import X509

/// Which node of which environment a certificate speaks for.
///
/// Hostname checks prove nothing on loopback: every local node certificate carries
/// the IP SAN 127.0.0.1, so NIOSSL accepted n2's certificate when dialing "n9"
/// (DESIGN.md §6). The node id therefore lives in a URI SAN following the SPIFFE
/// convention, `spiffe://ratelimit/<environment>/<node-id>`
/// (SPIFFE ID spec, https://github.com/spiffe/spiffe/blob/main/standards/SPIFFE-ID.md),
/// and both ends compare it after the TLS handshake.
public struct NodeIdentity: Sendable, Hashable, CustomStringConvertible {
    /// The SPIFFE trust domain shared by every ratelimit cluster.
    public static let trustDomain = "ratelimit"

    public let environment: String
    public let nodeID: String

    public init(environment: String, nodeID: String) {
        self.environment = environment
        self.nodeID = nodeID
    }

    /// `spiffe://ratelimit/<environment>/<node-id>`.
    public var spiffeID: String { "spiffe://\(Self.trustDomain)/\(self.environment)/\(self.nodeID)" }

    public var description: String { self.spiffeID }

    /// Parses `spiffe://ratelimit/<env>/<id>`; nil for anything else, including
    /// other trust domains, extra path segments or names outside `[a-z0-9-]+`.
    public init?(spiffeID: String) {
        let prefix = "spiffe://\(Self.trustDomain)/"
        guard spiffeID.hasPrefix(prefix) else { return nil }
        let parts = spiffeID.dropFirst(prefix.count).split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2 else { return nil }
        let environment = String(parts[0])
        let nodeID = String(parts[1])
        guard Self.isValidName(environment), Self.isValidName(nodeID) else { return nil }
        self.init(environment: environment, nodeID: nodeID)
    }

    /// The identity named by the certificate's single ratelimit SPIFFE URI SAN.
    ///
    /// Returns nil when there is none, when the SAN extension cannot be decoded, or
    /// when there are several (an ambiguous certificate must not pass as either node).
    public init?(certificate: Certificate) {
        guard let names = try? certificate.extensions.subjectAlternativeNames else { return nil }
        var found: [NodeIdentity] = []
        for name in names {
            if case .uniformResourceIdentifier(let uri) = name, uri.hasPrefix("spiffe://") {
                guard let identity = NodeIdentity(spiffeID: uri) else { return nil }
                found.append(identity)
            }
        }
        guard found.count == 1 else { return nil }
        self = found[0]
    }

    /// Node ids and environment names: `[a-z0-9-]+`, at most 63 characters (one DNS
    /// label, since the id is also a DNS SAN).
    public static func isValidName(_ name: String) -> Bool {
        guard !name.isEmpty, name.utf8.count <= 63 else { return false }
        return name.utf8.allSatisfy { byte in
            (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z"))
                || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9"))
                || byte == UInt8(ascii: "-")
        }
    }
}

extension ClusterCertificates {
    /// The `(environment, node id)` a certificate speaks for, read from its
    /// `spiffe://ratelimit/<env>/<id>` URI SAN; nil if it has none (or several).
    public static func nodeIdentity(of certificate: Certificate) -> NodeIdentity? {
        NodeIdentity(certificate: certificate)
    }
}
