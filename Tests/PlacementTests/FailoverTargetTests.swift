import Placement
import Testing

@Suite("Failover: the first reachable node of a key's placement decides")
struct FailoverTargetTests {
    static let nodes = ["n1", "n2", "n3"]

    static func view(_ selfID: String, settled: Bool = true) -> PlacementView {
        PlacementView(selfID: selfID, aliveNodes: nodes, settled: settled)
    }

    @Test("the target skips unreachable nodes in placement order and stands in for the ones ahead of it")
    func target() {
        for index in 0..<200 {
            let key = "k\(index)"
            let order = Self.view("n1").placementOrder(namespace: "1", key: key)
            #expect(Set(order) == Set(Self.nodes))
            #expect(Self.view("n1").failoverTarget(namespace: "1", key: key, unreachable: [])?.node == order[0])
            let skipped = Self.view("n1").failoverTarget(namespace: "1", key: key, unreachable: [order[0]])
            #expect(skipped?.node == order[1])
            #expect(skipped?.standingInFor == [order[0]])
            #expect(Self.view("n1").failoverTarget(namespace: "1", key: key, unreachable: order) == nil)
        }
    }

    @Test("only the first reachable node accepts; the others name it")
    func accept() {
        for index in 0..<200 {
            let key = "k\(index)"
            let order = Self.view("n1").placementOrder(namespace: "1", key: key)
            #expect(Self.view(order[1]).acceptFailover(namespace: "1", key: key, unreachable: [order[0]])
                == .decide(standingInFor: [order[0]]))
            guard case .notMine(let owner, _) = Self.view(order[2]).acceptFailover(namespace: "1", key: key, unreachable: [order[0]])
            else { Issue.record("\(order[2]) must not decide \(key)"); continue }
            #expect(owner == order[1])
            #expect(Self.view(order[0]).acceptFailover(namespace: "1", key: key, unreachable: [order[2]]) == .decide(standingInFor: []))
        }
    }

    @Test("an unsettled view decides nothing on failover")
    func unsettled() {
        #expect(Self.view("n1", settled: false).failoverTarget(namespace: "1", key: "k", unreachable: []) == nil)
        #expect(Self.view("n1", settled: false).acceptFailover(namespace: "1", key: "k", unreachable: ["n2"])
            == .notMine(owner: nil, epoch: Self.view("n1", settled: false).epoch))
    }
}
