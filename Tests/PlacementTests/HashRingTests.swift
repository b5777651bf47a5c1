import Testing

@testable import Placement

@Suite("HashRing lookup")
struct HashRingTests {
    static let fiveNodes = ["n1", "n2", "n3", "n4", "n5"]

    @Test("an empty ring has no owner and no replicas")
    func emptyRing() {
        let ring = HashRing(nodes: [])
        #expect(ring.isEmpty)
        #expect(HashRing(nodes: Set<String>()).isEmpty)
        #expect(ring.owner(namespace: "1001", key: "user:42") == nil)
        #expect(ring.owner(ofHash: 0) == nil)
        #expect(ring.replicas(namespace: "1001", key: "user:42", count: 3).isEmpty)
        #expect(ring.share(of: "n1") == 0)
        #expect(ring.shares().isEmpty)
    }

    @Test("a single node owns every key and the whole ring")
    func singleNode() {
        let ring = HashRing(nodes: ["only"])
        for i in 0..<1_000 {
            #expect(ring.owner(namespace: "1001", key: "k\(i)") == "only")
        }
        #expect(ring.replicas(namespace: "1001", key: "k1", count: 3) == ["only"])
        #expect(abs(ring.share(of: "only") - 1) < 1e-12)
    }

    @Test("rings built separately, in any member order, with duplicates, place keys alike")
    func deterministicAcrossInstances() {
        let a = HashRing(nodes: Self.fiveNodes)
        let b = HashRing(nodes: ["n5", "n3", "n1", "n4", "n2", "n3"])
        #expect(a == b)
        #expect(HashRing(nodes: Set(Self.fiveNodes)) == a)
        #expect(b.nodes == Self.fiveNodes)
        for i in 0..<10_000 {
            let key = "user:\(i)"
            #expect(a.owner(namespace: "1001", key: key) == b.owner(namespace: "1001", key: key))
        }
    }

    /// Computed by an independent Python implementation of the definition; if this fails,
    /// placement changed and keys would move between nodes across an upgrade.
    @Test(
        "owners of a fixed set of keys are pinned",
        arguments: [
            ("user:0", "n5"), ("user:1", "n5"), ("user:2", "n1"), ("user:3", "n1"),
            ("user:4", "n4"), ("user:5", "n4"), ("user:6", "n5"), ("user:7", "n5"),
            ("user:8", "n3"), ("user:9", "n1"), ("user:10", "n1"), ("user:11", "n4"),
        ]
    )
    func pinnedOwners(key: String, owner: String) {
        let ring = HashRing(nodes: Self.fiveNodes)
        #expect(ring.owner(namespace: "1001", key: key) == owner)
    }

    @Test("the namespace is part of placement")
    func namespaceMatters() {
        let ring = HashRing(nodes: Self.fiveNodes)
        let differing = (0..<1_000).filter {
            ring.owner(namespace: "1001", key: "user:\($0)") != ring.owner(namespace: "1002", key: "user:\($0)")
        }
        // Independent placements agree for about 1/5 of keys.
        #expect(differing.count > 700)
    }

    @Test("owner(ofHash:) agrees with owner(namespace:key:) on the key's hash")
    func ownerOfHash() {
        let ring = HashRing(nodes: Self.fiveNodes)
        for i in 0..<1_000 {
            let hash = StableHash.hash64(namespace: "1001", key: "user:\(i)")
            #expect(ring.owner(ofHash: hash) == ring.owner(namespace: "1001", key: "user:\(i)"))
        }
        // Past the last point the circle wraps to the first point's owner.
        #expect(ring.owner(ofHash: .max) == ring.owner(ofHash: 0))
    }

    @Test("a hash on a point belongs to that point, one past it to the next point")
    func pointBoundaries() throws {
        let ring = HashRing(nodes: Self.fiveNodes, pointsPerNode: 128)
        #expect(ring.points == ring.points.sorted())
        #expect(ring.points.count == 5 * 128)
        for slot in ring.points.indices {
            let point = ring.points[slot]
            let next = (slot + 1) % ring.points.count
            #expect(ring.slot(for: point) == slot)
            if point != .max, ring.points[next] != point {
                #expect(ring.slot(for: point + 1) == next)
            }
        }
        // Below the first point and past the last one, the circle closes on slot 0.
        #expect(ring.slot(for: 0) == 0)
        let last = try #require(ring.points.last)
        try #require(last < .max)
        #expect(ring.slot(for: last + 1) == 0)
    }

    @Test("replicas start with the owner and are distinct")
    func replicasDistinctOwnerFirst() {
        let ring = HashRing(nodes: Self.fiveNodes)
        for i in 0..<2_000 {
            let key = "user:\(i)"
            let replicas = ring.replicas(namespace: "1001", key: key, count: 3)
            #expect(replicas.count == 3)
            #expect(Set(replicas).count == 3)
            #expect(replicas.first == ring.owner(namespace: "1001", key: key))
            // A shorter list is a prefix of a longer one: replica order is the ring order.
            let two = ring.replicas(namespace: "1001", key: key, count: 2)
            #expect(Array(replicas.prefix(2)) == two)
        }
    }

    @Test("replicas are capped at the number of nodes, and count 0 gives none")
    func replicasCapped() {
        let ring = HashRing(nodes: ["a", "b", "c"])
        let all = ring.replicas(namespace: "ns", key: "k", count: 10)
        #expect(all.count == 3)
        #expect(Set(all) == ["a", "b", "c"])
        #expect(ring.replicas(namespace: "ns", key: "k", count: 0).isEmpty)
    }

    @Test("the first replica becomes the owner when the owner leaves")
    func replicaTakesOver() {
        let ring = HashRing(nodes: Self.fiveNodes)
        let without = Dictionary(uniqueKeysWithValues: ring.nodes.map { node in (node, HashRing(nodes: ring.nodes.filter { $0 != node })) })
        for i in 0..<2_000 {
            let key = "user:\(i)"
            let replicas = ring.replicas(namespace: "1001", key: key, count: 2)
            #expect(without[replicas[0]]!.owner(namespace: "1001", key: key) == replicas[1])
        }
    }

    @Test("fewer than 128 points per node is refused")
    func minimumPoints() async {
        await #expect(processExitsWith: .failure) {
            _ = HashRing(nodes: ["n1"], pointsPerNode: 64)
        }
    }

    @Test("a ring is its member set: duplicates and order do not matter, and membership is exact")
    func membersAreASet() {
        let ring = HashRing(nodes: Self.fiveNodes, pointsPerNode: 128)
        #expect(HashRing(nodes: Self.fiveNodes.reversed() + ["n3"], pointsPerNode: 128) == ring)
        #expect(ring.contains("n2"))
        #expect(!ring.contains("n6"))
    }
}
