/// A consistent-hash ring with virtual nodes: which node owns a rate-limit key, and which
/// nodes hold its replicas (DESIGN.md §6 Placement).
///
/// Consistent hashing (Karger et al., STOC 1997) with many virtual points per node, as in
/// Dynamo (SOSP 2007) and gubernator's `ReplicatedConsistantHash` (512 points per peer):
/// each node is hashed to `pointsPerNode` positions on the 2^64 circle, and a key belongs
/// to the first point at or clockwise after the key's own hash. A node's points depend only
/// on its name, so adding a node takes keys only from others to it and removing one hands
/// only its keys to the others: about 1/N of keys move per change.
///
/// The value is pure and immutable; nodes agree on placement by building it from the same
/// set of alive members. Input order and duplicates do not matter: `nodes` is the sorted,
/// distinct set.
public struct HashRing: Sendable {
    /// The distinct member ids, sorted.
    public let nodes: [String]

    /// Virtual points per node; at least 128, per DESIGN.md §6.
    public let pointsPerNode: Int

    /// Ring positions, ascending; `owners[i]` is the index in `nodes` of the point at
    /// `points[i]`. Two flat arrays keep the binary search on contiguous `UInt64`s.
    let points: [UInt64]
    let owners: [UInt32]

    /// Builds the ring for a set of members.
    ///
    /// - Parameter pointsPerNode: the number of virtual points per node. With 256 points the
    ///   busiest of 5 nodes holds within a few percent of the mean; fewer than 128 is
    ///   refused because the spread between nodes grows as 1/sqrt(points).
    public init(nodes: some Sequence<String>, pointsPerNode: Int = 256) {
        self.init(members: nodes, pointsPerNode: pointsPerNode)
    }

    private init(members nodes: some Sequence<String>, pointsPerNode: Int) {
        precondition(
            pointsPerNode >= 128,
            "HashRing: pointsPerNode must be at least 128 (DESIGN.md §6); got \(pointsPerNode)"
        )
        let members = Array(Set(nodes)).sorted()
        precondition(
            members.count <= Int(UInt32.max),
            "HashRing: too many nodes (\(members.count))"
        )

        var entries: [(point: UInt64, owner: UInt32)] = []
        entries.reserveCapacity(members.count * pointsPerNode)
        for (index, node) in members.enumerated() {
            for virtual in 0..<UInt32(pointsPerNode) {
                entries.append((StableHash.ringPoint(node: node, index: virtual), UInt32(index)))
            }
        }
        // A tie between two nodes' points (vanishingly rare with 64-bit positions) goes to
        // the lower node id, the same on every node whatever order the members came in.
        entries.sort { ($0.point, $0.owner) < ($1.point, $1.owner) }

        self.nodes = members
        self.pointsPerNode = pointsPerNode
        self.points = entries.map(\.point)
        self.owners = entries.map(\.owner)
    }

    /// Builds the ring from an array of members; lets `HashRing(nodes: [])` type-check.
    public init(nodes: [String], pointsPerNode: Int = 256) {
        self.init(members: nodes, pointsPerNode: pointsPerNode)
    }

    /// True when the ring has no members, so no key has an owner.
    public var isEmpty: Bool { nodes.isEmpty }

    /// Whether `node` is a member of this ring.
    public func contains(_ node: String) -> Bool {
        index(of: node) != nil
    }

    /// The node that owns `key` in `namespace`, or nil on an empty ring.
    ///
    /// Allocation-free apart from hashing the two strings in place: safe for the per-request
    /// path of every check.
    public func owner(namespace: String, key: String) -> String? {
        owner(ofHash: StableHash.hash64(namespace: namespace, key: key))
    }

    /// The node that owns a ring position, as `StableHash.hash64(namespace:key:)` computes
    /// it; for tools that show where a key sits (`ratelimit ring --key K`).
    public func owner(ofHash hash: UInt64) -> String? {
        guard let slot = slot(for: hash) else { return nil }
        return nodes[Int(owners[slot])]
    }

    /// The owner of `key` followed by the next distinct nodes clockwise: the nodes that hold
    /// copies of its counter (DESIGN.md §6 Durability, `replicas` in the topology).
    ///
    /// - Returns: `min(count, nodes.count)` distinct node ids, the owner first; empty on an
    ///   empty ring or when `count` is 0.
    public func replicas(namespace: String, key: String, count: Int) -> [String] {
        precondition(count >= 0, "HashRing.replicas: count must not be negative; got \(count)")
        let hash = StableHash.hash64(namespace: namespace, key: key)
        guard count > 0, let start = slot(for: hash) else { return [] }

        let wanted = min(count, nodes.count)
        var result: [String] = []
        result.reserveCapacity(wanted)
        var taken = [Bool](repeating: false, count: nodes.count)
        var slot = start
        // Every node has points on the ring, so the walk finds `wanted` distinct nodes
        // within one turn.
        while result.count < wanted {
            let owner = Int(owners[slot])
            if !taken[owner] {
                taken[owner] = true
                result.append(nodes[owner])
            }
            slot += 1
            if slot == points.count { slot = 0 }
        }
        return result
    }

    /// The index of the first point at or after `hash`, wrapping to 0 past the last point
    /// (the circle closes); nil on an empty ring.
    ///
    /// A branch-free lower bound (Khuong and Morin, "Array layouts for comparison-based
    /// searching"): the comparison only selects the next base, so the compiler may use a
    /// conditional move rather than a jump that random hashes mispredict half the time.
    func slot(for hash: UInt64) -> Int? {
        points.withUnsafeBufferPointer { points in
            guard !points.isEmpty else { return nil }
            var base = 0
            var length = points.count
            while length > 1 {
                let half = length >> 1
                base = points[base &+ half] < hash ? base &+ half : base
                length &-= half
            }
            // `base` is the last point below `hash`, or 0 if none is.
            let slot = points[base] < hash ? base &+ 1 : base
            return slot == points.count ? 0 : slot
        }
    }

    /// The index of `node` in `nodes`, by binary search over the sorted ids.
    func index(of node: String) -> Int? {
        var low = 0
        var high = nodes.count
        while low < high {
            let middle = (low + high) >> 1
            if nodes[middle] < node {
                low = middle + 1
            } else {
                high = middle
            }
        }
        return low < nodes.count && nodes[low] == node ? low : nil
    }
}

extension HashRing: Equatable {
    /// Two rings are equal when they have the same members and points per node: the points
    /// follow from those.
    public static func == (lhs: HashRing, rhs: HashRing) -> Bool {
        lhs.pointsPerNode == rhs.pointsPerNode && lhs.nodes == rhs.nodes
    }
}
