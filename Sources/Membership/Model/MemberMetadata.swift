/// Where a process listens: a host name or IP literal and a TCP port.
public struct HostPort: Sendable, Hashable, CustomStringConvertible {
    /// Host name or IP literal, as written in the cluster topology.
    public var host: String
    /// TCP port, 0...65535 (the wire codec rejects anything else).
    public var port: Int

    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    public var description: String { "\(self.host):\(self.port)" }
}

/// What a member does in the cluster. Coordinators take part in membership
/// (they must see the nodes) but own no keys, so placement filters on this.
public enum MemberRole: UInt8, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    /// A rate-limiter node: owns a slice of the hash ring.
    case node = 0
    /// The deployment coordinator: watches the cluster, owns no keys.
    case coordinator = 1

    public var description: String {
        switch self {
        case .node: "node"
        case .coordinator: "coordinator"
        }
    }
}

/// Everything the cluster needs to know about a member besides its status.
///
/// Metadata travels inside every gossip entry, so a node that first hears of
/// a member through a third party can still reach it (SWIM 4.1: membership
/// updates are piggybacked, there is no separate join broadcast). It changes
/// only when the member restarts with a new incarnation, e.g. after an
/// upgrade changed `build`.
public struct MemberMetadata: Sendable, Hashable, CustomStringConvertible {
    /// Stable node id from the topology (`n1`, `coordinator`); also the
    /// identity proven by the peer certificate's SPIFFE URI SAN.
    public var id: String
    /// Peer (SWIM / replication) listener.
    public var peerAddress: HostPort
    /// Client-facing HTTP listener, so any node can redirect or report it.
    public var httpAddress: HostPort
    /// Build / version string, shown by `GET /admin/members`.
    public var build: String
    public var role: MemberRole

    public init(id: String, peerAddress: HostPort, httpAddress: HostPort, build: String, role: MemberRole = .node) {
        self.id = id
        self.peerAddress = peerAddress
        self.httpAddress = httpAddress
        self.build = build
        self.role = role
    }

    public var description: String { "\(self.id)@\(self.peerAddress) (\(self.role), build \(self.build))" }
}
