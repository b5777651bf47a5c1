/// One member as `/admin/members` and `ratelimit members` show it.
public struct MemberSummary: Sendable, Hashable {
    public var id: String
    public var address: String
    public var httpAddress: String
    public var status: String
    public var incarnation: UInt64
    public var build: String
    public var role: String
    /// Fraction of the ring this member owns (0 when not alive).
    public var ringShare: Double

    public init(id: String, address: String, httpAddress: String, status: String, incarnation: UInt64,
                build: String, role: String, ringShare: Double) {
        self.id = id
        self.address = address
        self.httpAddress = httpAddress
        self.status = status
        self.incarnation = incarnation
        self.build = build
        self.role = role
        self.ringShare = ringShare
    }
}

/// What the HTTP API needs to know of the cluster around this node.
public protocol ClusterStatus: Sendable {
    func members() -> [MemberSummary]
    /// What `/health` reports of the cluster: the nodes on the placement
    /// ring (the alive ones), and why this node does not serve yet, if so.
    var serving: ClusterServing { get }
    /// Owner first, then replicas, of a key.
    func placement(namespace: String, key: String, replicas: Int) -> [String]
}

/// A node running alone: it is the only member and owns every key.
public struct SoloCluster: ClusterStatus {
    let summary: MemberSummary
    public init(summary: MemberSummary) { self.summary = summary }
    public var serving: ClusterServing { ClusterServing(members: 1, notServingReason: nil) }
    public func members() -> [MemberSummary] { [summary] }
    public func placement(namespace: String, key: String, replicas: Int) -> [String] { [summary.id] }
}

/// The cluster part of `/health`.
public struct ClusterServing: Sendable, Hashable {
    public var members: Int
    public var notServingReason: String?

    public init(members: Int, notServingReason: String?) {
        self.members = members
        self.notServingReason = notServingReason
    }
}
