/// Failover (DESIGN §6): when the nodes ahead in a key's placement cannot be reached, the
/// next one decides the key in their stead with its copy of the counters.
extension PlacementView {
    /// What a node does with a check whose sender could not reach `unreachable`.
    public enum FailoverVerdict: Sendable, Equatable {
        /// This node is the first reachable one in the key's placement: decide, standing in
        /// for `standingInFor` (the nodes ahead of it; empty when it is the owner itself).
        case decide(standingInFor: [String])
        /// Another node comes first: `owner` (nil when unsettled or nobody is left).
        case notMine(owner: String?, epoch: UInt64)
    }

    /// The key's placement in order: owner first, then the nodes its copies go to.
    public func placementOrder(namespace: String, key: String) -> [String] {
        guard isSettled else { return [] }
        return ring.replicas(namespace: namespace, key: key, count: ring.nodes.count)
    }

    /// The first node of the key's placement that is not `unreachable`, and the nodes ahead
    /// of it (for whom it stands in); nil when nobody is left or the view is unsettled.
    public func failoverTarget(namespace: String, key: String, unreachable: [String]) -> (node: String, standingInFor: [String])? {
        let order = placementOrder(namespace: namespace, key: key)
        guard let index = order.firstIndex(where: { !unreachable.contains($0) }) else { return nil }
        return (order[index], Array(order[..<index]))
    }

    /// The receiving side of a failover: decide when this node comes first once
    /// `unreachable` are set aside, under its own view.
    public func acceptFailover(namespace: String, key: String, unreachable: [String]) -> FailoverVerdict {
        guard let target = failoverTarget(namespace: namespace, key: key, unreachable: unreachable) else {
            return .notMine(owner: nil, epoch: epoch)
        }
        return target.node == selfID ? .decide(standingInFor: target.standingInFor) : .notMine(owner: target.node, epoch: epoch)
    }
}
