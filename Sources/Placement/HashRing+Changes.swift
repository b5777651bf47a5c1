extension HashRing {
    /// The ring with `node` joined; `self` if it is already a member.
    ///
    /// Existing nodes keep their points, so the only keys that move are the ones the new
    /// node's points now cover, and they move to it (about 1/N of keys for N nodes after).
    public func adding(_ node: String) -> HashRing {
        if contains(node) { return self }
        return HashRing(nodes: nodes + [node], pointsPerNode: pointsPerNode)
    }

    /// The ring with `node` gone; `self` if it was not a member.
    ///
    /// Only the keys `node` owned move, each to the next node clockwise, which is the
    /// first replica that already holds its counter.
    public func removing(_ node: String) -> HashRing {
        guard let index = index(of: node) else { return self }
        var remaining = nodes
        remaining.remove(at: index)
        return HashRing(nodes: remaining, pointsPerNode: pointsPerNode)
    }
}
