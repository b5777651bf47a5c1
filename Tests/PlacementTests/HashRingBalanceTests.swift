import Testing

import Placement

/// Balance and movement, the two properties DESIGN.md §6 asks of placement: an even spread
/// and about 1/N of keys moving per membership change, each only where it must.
@Suite("HashRing balance and movement")
struct HashRingBalanceTests {
    static let keys = (0..<100_000).map { "user:\($0)" }

    static func owners(_ ring: HashRing) -> [String] {
        keys.map { ring.owner(namespace: "1001", key: $0)! }
    }

    @Test("with 5 nodes and 100,000 keys the busiest node holds at most 1.25x the mean")
    func balance() {
        let ring = HashRing(nodes: ["n1", "n2", "n3", "n4", "n5"])
        var counts: [String: Int] = [:]
        for owner in Self.owners(ring) { counts[owner, default: 0] += 1 }
        #expect(counts.count == 5)
        let mean = Double(Self.keys.count) / 5
        let busiest = Double(counts.values.max()!)
        #expect(busiest <= 1.25 * mean, "busiest node holds \(busiest), mean \(mean): \(counts)")
    }

    @Test("shares sum to 1 and match where keys actually land")
    func sharesSumToOne() {
        let ring = HashRing(nodes: ["n1", "n2", "n3", "n4", "n5"])
        let shares = ring.shares()
        #expect(abs(shares.values.reduce(0, +) - 1) < 1e-9)
        var counts: [String: Int] = [:]
        for owner in Self.owners(ring) { counts[owner, default: 0] += 1 }
        for node in ring.nodes {
            #expect(ring.share(of: node) == shares[node])
            #expect(shares[node]! > 0.8 / 5 && shares[node]! < 1.2 / 5, "\(node): \(shares[node]!)")
            // 20,000 keys per node: sampling error is well under 1 %.
            let observed = Double(counts[node, default: 0]) / Double(Self.keys.count)
            #expect(abs(observed - shares[node]!) < 0.01, "\(node): observed \(observed), share \(shares[node]!)")
        }
        #expect(ring.share(of: "absent") == 0)
    }

    @Test("adding a node moves about 1/N of keys, all of them to the new node")
    func addingMovesOnlyToNewNode() {
        let before = HashRing(nodes: ["n1", "n2", "n3", "n4", "n5"])
        let after = HashRing(nodes: before.nodes + ["n6"])
        let old = Self.owners(before)
        let new = Self.owners(after)
        var moved = 0
        for index in old.indices where old[index] != new[index] {
            moved += 1
            #expect(new[index] == "n6", "\(Self.keys[index]) moved \(old[index]) -> \(new[index])")
        }
        let fraction = Double(moved) / Double(Self.keys.count)
        let n = Double(after.nodes.count)
        #expect(fraction >= 0.5 / n && fraction <= 1.5 / n, "moved \(fraction) of keys with \(n) nodes")
    }

    @Test("removing a node moves only that node's keys")
    func removingMovesOnlyItsKeys() {
        let before = HashRing(nodes: ["n1", "n2", "n3", "n4", "n5"])
        let after = HashRing(nodes: before.nodes.filter { $0 != "n3" })
        #expect(after.nodes == ["n1", "n2", "n4", "n5"])
        let old = Self.owners(before)
        let new = Self.owners(after)
        var moved = 0
        for index in old.indices {
            if old[index] == "n3" {
                moved += 1
                #expect(new[index] != "n3")
            } else {
                #expect(new[index] == old[index], "\(Self.keys[index]) moved \(old[index]) -> \(new[index])")
            }
        }
        let fraction = Double(moved) / Double(Self.keys.count)
        #expect(fraction >= 0.5 / 5 && fraction <= 1.5 / 5, "moved \(fraction) of keys")
    }

    @Test("the new node's share equals the fraction of keys that moved to it")
    func shareOfNewNodeMatchesMovement() {
        let before = HashRing(nodes: ["n1", "n2", "n3", "n4", "n5"])
        let after = HashRing(nodes: before.nodes + ["n6"])
        let old = Self.owners(before)
        let new = Self.owners(after)
        let moved = zip(old, new).filter { $0 != $1 }.count
        #expect(abs(Double(moved) / Double(Self.keys.count) - after.share(of: "n6")) < 0.01)
        // Shares of the remaining nodes only shrink.
        for node in before.nodes {
            #expect(after.share(of: node) <= before.share(of: node))
        }
    }
}
