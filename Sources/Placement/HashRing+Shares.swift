extension HashRing {
    /// The fraction of the 2^64 key space `node` owns, in 0...1; 0 for a non-member.
    ///
    /// A point owns the arc from the previous point (exclusive) to itself (inclusive); the
    /// first point's arc wraps past zero. Used to check balance and shown by `ratelimit ring`.
    public func share(of node: String) -> Double {
        guard let target = index(of: node) else { return 0 }
        var owned = 0.0
        for slot in points.indices where Int(owners[slot]) == target {
            owned += Double(arc(endingAt: slot))
        }
        return owned / HashRing.circumference
    }

    /// Every member's share of the key space, computed in one pass; the values sum to 1
    /// (up to floating-point rounding) on a non-empty ring.
    public func shares() -> [String: Double] {
        var owned = [Double](repeating: 0, count: nodes.count)
        for slot in points.indices {
            owned[Int(owners[slot])] += Double(arc(endingAt: slot))
        }
        var result: [String: Double] = [:]
        result.reserveCapacity(nodes.count)
        for (index, node) in nodes.enumerated() {
            result[node] = owned[index] / HashRing.circumference
        }
        return result
    }

    /// 2^64, the number of positions on the ring.
    private static let circumference = 18_446_744_073_709_551_616.0

    /// The width of the arc ending at `slot`. Wrapping subtraction gives the first point's
    /// arc across zero; a ring always has at least 128 points, so no arc is the full 2^64.
    private func arc(endingAt slot: Int) -> UInt64 {
        let previous = slot == 0 ? points[points.count - 1] : points[slot - 1]
        return points[slot] &- previous
    }
}
