import Testing

@testable import Placement

@Suite("PlacementView")
struct PlacementViewTests {
    static let three = ["n1", "n2", "n3"]

    /// The first key `k0`, `k1`, ... that `owner` owns on `ring`.
    static func key(ownedBy owner: String, on ring: HashRing) -> String {
        let key = (0..<10_000).lazy.map { "k\($0)" }.first { ring.owner(namespace: "ns", key: $0) == owner }
        return key!
    }

    // MARK: Epoch

    @Test("the epoch is the same for the same members in any order, on any node")
    func epochIgnoresOrder() {
        let a = PlacementView(selfID: "n1", aliveNodes: ["n1", "n2", "n3"], settled: true)
        let b = PlacementView(selfID: "n3", aliveNodes: ["n3", "n1", "n2", "n1"], settled: true)
        let c = PlacementView(selfID: "n2", aliveNodes: Set(Self.three), settled: false)
        #expect(a.epoch == b.epoch)
        #expect(a.epoch == c.epoch)
        #expect(a.ring == b.ring)
    }

    @Test("the epoch changes when a node joins or leaves")
    func epochFollowsMembership() {
        let three = PlacementView(selfID: "n1", aliveNodes: Self.three, settled: true).epoch
        let four = PlacementView(selfID: "n1", aliveNodes: Self.three + ["n4"], settled: true).epoch
        let two = PlacementView(selfID: "n1", aliveNodes: ["n1", "n2"], settled: true).epoch
        let otherTwo = PlacementView(selfID: "n1", aliveNodes: ["n1", "n3"], settled: true).epoch
        #expect(Set([three, four, two, otherTwo]).count == 4)
    }

    static let pinnedEpochs: [([String], UInt64)] = [
        ([], 0x614b_253a_5f04_9fc8),
        (["n1"], 0x3183_888f_275b_3329),
        (["n3", "n2", "n1"], 0x8fc2_ac9d_43fb_6a1e),
    ]

    /// An independent Python implementation of the definition gave these values.
    @Test(
        "the epoch is pinned to the reference fingerprint",
        arguments: Self.pinnedEpochs
    )
    func epochPinned(nodes: [String], epoch: UInt64) {
        #expect(PlacementView(selfID: "n1", aliveNodes: nodes, settled: true).epoch == epoch)
    }

    @Test("ids are length-prefixed in the epoch, so splitting them differently gives another epoch")
    func epochIsUnambiguous() {
        let ab = PlacementView(selfID: "x", aliveNodes: ["a", "bc"], settled: true).epoch
        let abc = PlacementView(selfID: "x", aliveNodes: ["ab", "c"], settled: true).epoch
        #expect(ab != abc)
    }

    // MARK: Settling

    @Test("an unsettled view routes nothing, accepts nothing and has no replicas, even over a full ring")
    func unsettledDecidesNothing() {
        let views = [
            PlacementView.unsettled(selfID: "n1"),
            PlacementView(selfID: "n1", aliveNodes: ["n1"], settled: false),
            PlacementView(selfID: "n1", aliveNodes: Self.three, settled: false),
        ]
        for view in views {
            #expect(!view.isSettled)
            for i in 0..<200 {
                let route = view.route(namespace: "ns", key: "k\(i)")
                guard case .unavailable(let reason) = route else {
                    Issue.record("\(view) routed k\(i) to \(route)")
                    continue
                }
                #expect(reason.contains("not settled"))
                #expect(view.accept(namespace: "ns", key: "k\(i)", senderEpoch: view.epoch) == .notMine(owner: nil, epoch: view.epoch))
                #expect(view.replicas(namespace: "ns", key: "k\(i)", count: 2).isEmpty)
            }
        }
        #expect(PlacementView.unsettled(selfID: "n1").memberCount == 0)
    }

    @Test("a settled view with an empty ring routes nothing")
    func emptyRingIsUnavailable() {
        let view = PlacementView(selfID: "n1", aliveNodes: [String](), settled: true)
        guard case .unavailable(let reason) = view.route(namespace: "ns", key: "k") else {
            Issue.record("an empty ring routed a key")
            return
        }
        #expect(reason.contains("no alive node"))
        #expect(view.accept(namespace: "ns", key: "k", senderEpoch: 1) == .notMine(owner: nil, epoch: view.epoch))
    }

    @Test("a node alone that knows it is alone owns every key")
    func aloneOwnsEverything() {
        let view = PlacementView(selfID: "n1", aliveNodes: ["n1"], settled: true)
        for i in 0..<100 {
            #expect(view.route(namespace: "ns", key: "k\(i)") == .local)
        }
    }

    // MARK: Route and accept

    @Test("route keeps the node's own keys and forwards the others to the ring owner with its epoch")
    func routeFollowsRing() {
        let view = PlacementView(selfID: "n2", aliveNodes: Self.three, settled: true)
        #expect(view.memberCount == 3)
        var seen: Set<String> = []
        for i in 0..<300 {
            let key = "k\(i)"
            let owner = view.ring.owner(namespace: "ns", key: key)!
            seen.insert(owner)
            let expected: PlacementView.Route = owner == "n2" ? .local : .forward(owner: owner, epoch: view.epoch)
            #expect(view.route(namespace: "ns", key: key) == expected)
        }
        #expect(seen == Set(Self.three), "300 keys should cover all three nodes")
    }

    @Test("the owner accepts its own keys whatever the sender's epoch, and refuses others with its owner hint and epoch")
    func acceptOnlyOwnKeys() {
        let view = PlacementView(selfID: "n1", aliveNodes: Self.three, settled: true)
        let mine = Self.key(ownedBy: "n1", on: view.ring)
        let theirs = Self.key(ownedBy: "n3", on: view.ring)
        #expect(view.accept(namespace: "ns", key: mine, senderEpoch: view.epoch) == .decide)
        #expect(view.accept(namespace: "ns", key: mine, senderEpoch: 12345) == .decide)
        #expect(view.accept(namespace: "ns", key: theirs, senderEpoch: view.epoch) == .notMine(owner: "n3", epoch: view.epoch))
    }

    @Test("a node that is off its own ring (leaving) forwards every key and accepts none")
    func offRingNodeOwnsNothing() {
        let view = PlacementView(selfID: "n4", aliveNodes: Self.three, settled: true)
        for i in 0..<100 {
            let key = "k\(i)"
            let owner = view.ring.owner(namespace: "ns", key: key)!
            #expect(view.route(namespace: "ns", key: key) == .forward(owner: owner, epoch: view.epoch))
            #expect(view.accept(namespace: "ns", key: key, senderEpoch: 0) == .notMine(owner: owner, epoch: view.epoch))
        }
    }

    @Test("replicas are the ring's owner-first replica list")
    func replicasFromRing() {
        let view = PlacementView(selfID: "n1", aliveNodes: Self.three, settled: true)
        let replicas = view.replicas(namespace: "ns", key: "k1", count: 2)
        #expect(replicas == view.ring.replicas(namespace: "ns", key: "k1", count: 2))
        #expect(replicas.first == view.ring.owner(namespace: "ns", key: "k1"))
    }

    @Test("two nodes with the same members agree on every owner; after a departure only the departed node's keys move")
    func viewsAgreeAndMoveLittle() {
        let before = PlacementView(selfID: "n1", aliveNodes: Self.three, settled: true)
        let peer = PlacementView(selfID: "n3", aliveNodes: Self.three, settled: true)
        let after = PlacementView(selfID: "n1", aliveNodes: ["n1", "n3"], settled: true)
        for i in 0..<500 {
            let key = "k\(i)"
            let owner = before.ring.owner(namespace: "ns", key: key)
            #expect(peer.ring.owner(namespace: "ns", key: key) == owner)
            if owner != "n2" {
                #expect(after.ring.owner(namespace: "ns", key: key) == owner)
            }
        }
    }
}
