import Foundation
import JSONCore
import NodeServer
import Placement
import Synchronization
import TestSupport
import Testing

/// DESIGN §6, partitions: with `replicas = 2` a hit is acknowledged only when
/// its copy is committed on a second node. A node cut off from the others
/// cannot make one, so it admits nothing (`on_unavailable = "deny"` answers 200
/// denied); the side with two
/// nodes decides every key, the cut-off node's keys through failover. After
/// the split heals, the node rejoins, imports, and no key has admitted more
/// than its limit.
@Suite("Partitions: 2|1 split and heal", .serialized)
struct PartitionTests {
    @Test("split 2|1: the lone node denies every hit (on_unavailable), the pair answers every key, and no key passes its limit across split and heal")
    func splitAndHeal() async throws {
        let cluster = try NodeProcessCluster(nodeCount: 3, replicas: 2, distinctHosts: true)
        try await cluster.makeCertificates()
        try cluster.startAll()
        for node in cluster.nodes { try await cluster.waitHealthy(node.id) }
        try await cluster.waitForMembership(["n1", "n2", "n3"], on: ["n1", "n2", "n3"])

        let ring = HashRing(nodes: ["n1", "n2", "n3"])
        let keys = (0..<12).map { "split:\($0)" }
        #expect(Set(keys.map { ring.owner(namespace: "1002", key: $0)! }) == ["n1", "n2", "n3"], "keys of every owner")
        let admitted = Mutex<[String: Int]>([:])
        let loneAdmitted = Mutex(0)
        let loneNot200 = Mutex<[Int]>([])
        let pairAnswered = Mutex<[String: Int]>([:])
        // The lone node's answers and failed requests while split.
        let splitting = Mutex(false)
        let loneAnswers = Mutex(0)
        let loneFailures = Mutex<[String]>([])
        let hit: @Sendable (String, String) async -> Void = { node, key in
            let lone = node == "n3" && splitting.withLock { $0 }
            let response: NodeClient.Response
            do {
                response = try await cluster.check(node, key: key, rule: "EXACT")
            } catch {
                if lone { loneFailures.withLock { $0.append("\(key): \(error)") } }
                return
            }
            if lone { loneAnswers.withLock { $0 += 1 } }
            if node == "n3", response.status != 200 { loneNot200.withLock { $0.append(response.status) } }
            if response.status == 200 {
                if node != "n3" { pairAnswered.withLock { $0[key, default: 0] += 1 } }
                if response.json?[member: "allowed"]?.bool == true {
                    admitted.withLock { $0[key, default: 0] += 1 }
                    if node == "n3" { loneAdmitted.withLock { $0 += 1 } }
                }
            }
        }
        for key in keys { for node in ["n1", "n2"] { await hit(node, key) } }
        let before = admitted.withLock { $0 }
        loneAdmitted.withLock { $0 = 0 }

        let partition = LoopbackPartition()
        try partition.split([cluster.node("n3")], from: [cluster.node("n1"), cluster.node("n2")])
        splitting.withLock { $0 = true }
        // Clients on both sides, every key, until each key was answered on the pair's side.
        await withTaskGroup(of: Void.self) { group in
            for node in ["n1", "n2", "n3"] {
                group.addTask {
                    for _ in 0..<3 { for key in keys { await hit(node, key) } }
                }
            }
        }
        splitting.withLock { $0 = false }
        #expect(loneFailures.withLock { $0 }.isEmpty, "the lone node left requests unanswered: \(loneFailures.withLock { $0 })")
        #expect(loneAnswers.withLock { $0 } == 3 * keys.count, "the lone node answered \(loneAnswers.withLock { $0 }) of \(3 * keys.count)")
        #expect(loneAdmitted.withLock { $0 } == 0, "the node cut off from every copy admitted hits")
        #expect(loneNot200.withLock { $0 }.isEmpty, "on_unavailable = deny answers 200 denied, not an error: \(loneNot200.withLock { $0 })")
        let answered = pairAnswered.withLock { $0 }
        for key in keys {
            #expect(answered[key, default: 0] > 2, "\(key) got no answer on the pair's side during the split")
        }

        try partition.heal()
        try await cluster.waitForMembership(["n1", "n2", "n3"], on: ["n1", "n2", "n3"], within: .seconds(60))
        try await cluster.waitHealthy("n3")
        for _ in 0..<3 { for node in ["n1", "n2", "n3"] { for key in keys { await hit(node, key) } } }

        let total = admitted.withLock { $0 }
        for key in keys {
            #expect(total[key, default: 0] <= 7, "\(key) admitted \(total[key, default: 0]) > 7 (before the split: \(before[key, default: 0]))")
        }
        await cluster.stopAll()
    }
}
