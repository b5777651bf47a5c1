/// One node's view of placement: the ring over the alive node members it knows, the epoch
/// that names that membership, and whether the view may decide anything yet.
///
/// Every node builds its view on its own from its SWIM membership (DESIGN.md §6), so two
/// nodes disagree while a change spreads. The view keeps that safe and visible:
/// - a node decides a key only when it owns the key under its *own* view
///   (``route(namespace:key:)`` is `.local`, ``accept(namespace:key:senderEpoch:)`` is
///   `.decide`), so every decision belongs to exactly one ring, the decider's;
/// - the ``epoch`` names that ring, the same on every node that sees the same members, so
///   decisions can be grouped by the membership they were made under, and a forwarded check
///   carries its sender's epoch to show whether the two nodes agreed;
/// - a view is *unsettled* until the node has exchanged membership with a peer (or knows it
///   is alone): a fresh process knows only itself, and a ring of one would make it own every
///   key. An unsettled view routes and accepts nothing.
///
/// Only alive members are on the ring; suspect, dead and left ones are off it, so the ring
/// agrees with the member count `/health` reports. Coordinators own no keys: the shell
/// passes node members only.
public struct PlacementView: Sendable, Equatable {
    /// This node's id; it may be off the ring (a node that is leaving owns nothing).
    public let selfID: String

    /// The ring over the alive node members this node knows.
    public let ring: HashRing

    /// A fingerprint of the ring's sorted node ids: equal memberships give equal epochs on
    /// every node, and any join or departure changes it.
    ///
    /// Unlike Redis Cluster's `configEpoch` or Raft's term it is not ordered: it names a
    /// membership rather than ranking it. Two nodes agree on placement exactly when their
    /// epochs are equal (up to a 64-bit hash collision).
    public let epoch: UInt64

    /// False until the node has had its first membership exchange with a peer, or knows it
    /// is alone; an unsettled view decides nothing.
    public let isSettled: Bool

    /// The view over `aliveNodes` (order and duplicates do not matter).
    public init(selfID: String, aliveNodes: some Sequence<String>, settled: Bool) {
        self.init(selfID: selfID, ring: HashRing(nodes: aliveNodes), settled: settled)
    }

    /// The view over a ring the shell already built, so rings for the same members can be
    /// shared instead of rebuilt.
    public init(selfID: String, ring: HashRing, settled: Bool) {
        precondition(!selfID.isEmpty, "PlacementView: selfID must not be empty; ring \(ring.nodes)")
        self.selfID = selfID
        self.ring = ring
        self.epoch = StableHash.fingerprint(nodes: ring.nodes)
        self.isSettled = settled
    }

    /// The view of a node that has not heard from any peer yet: an empty ring, unsettled.
    public static func unsettled(selfID: String) -> PlacementView {
        PlacementView(selfID: selfID, ring: HashRing(nodes: []), settled: false)
    }

    /// The number of nodes on the ring.
    public var memberCount: Int { ring.nodes.count }

    /// Where an entry node sends a check.
    public enum Route: Sendable, Equatable {
        /// This node owns the key: decide here.
        case local
        /// `owner` owns the key under this node's view at `epoch`; the epoch travels with the
        /// forwarded check.
        case forward(owner: String, epoch: UInt64)
        /// Nobody can decide the key from this view.
        case unavailable(reason: String)
    }

    /// Where an entry node sends a check for `key`: here, to its owner, or nowhere while the
    /// view is unsettled or the ring is empty.
    public func route(namespace: String, key: String) -> Route {
        guard isSettled else {
            return .unavailable(reason: "placement not settled on \(selfID): no membership exchange with a peer yet")
        }
        guard let owner = ring.owner(namespace: namespace, key: key) else {
            return .unavailable(reason: "no alive node on the ring of \(selfID)")
        }
        return owner == selfID ? .local : .forward(owner: owner, epoch: epoch)
    }

    /// What a node does with a check forwarded to it.
    public enum Verdict: Sendable, Equatable {
        /// This node owns the key under its own view: decide it.
        case decide
        /// It does not: `owner` is who does under this node's view (nil when unsettled or the
        /// ring is empty), at this node's `epoch`.
        case notMine(owner: String?, epoch: UInt64)
    }

    /// The receiving side of forwarding: decide only when settled and the owner of `key`
    /// under this node's own ring; otherwise refuse with this node's owner hint and epoch.
    ///
    /// `senderEpoch` deliberately does not gate the verdict. Ownership under the decider's own
    /// ring is what makes the decision attributable to one membership; refusing checks from
    /// a sender whose epoch differs would add no safety and would fail every check forwarded
    /// while a change spreads. The sender compares the epochs (``ForwardAttempt``).
    public func accept(namespace: String, key: String, senderEpoch: UInt64) -> Verdict {
        guard isSettled else { return .notMine(owner: nil, epoch: epoch) }
        let owner = ring.owner(namespace: namespace, key: key)
        return owner == selfID ? .decide : .notMine(owner: owner, epoch: epoch)
    }

    /// The owner of `key` and the next distinct nodes on the ring (``HashRing/replicas(namespace:key:count:)``);
    /// empty while unsettled.
    public func replicas(namespace: String, key: String, count: Int) -> [String] {
        guard isSettled else { return [] }
        return ring.replicas(namespace: namespace, key: key, count: count)
    }
}

extension PlacementView: CustomStringConvertible {
    /// One line with the whole view, for logs and precondition messages.
    public var description: String {
        "PlacementView(\(selfID) epoch=\(PlacementView.format(epoch: epoch))"
            + " \(isSettled ? "settled" : "unsettled") nodes=[\(ring.nodes.joined(separator: ","))])"
    }

    /// An epoch as 16 hex digits, the form logs and failure reasons use.
    public static func format(epoch: UInt64) -> String {
        let digits = String(epoch, radix: 16)
        return String(repeating: "0", count: 16 - digits.count) + digits
    }
}
