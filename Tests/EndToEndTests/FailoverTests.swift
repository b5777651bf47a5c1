import Foundation
import JSONCore
import NodeServer
import Placement
import TestSupport
import Testing

/// DESIGN §6 with `replicas = 2`: every admitted hit is committed on the key's
/// owner and the next node on the ring before it is acknowledged, so when the
/// owner dies or freezes the replica decides the key at once with the
/// replicated counts, and a node that comes back imports before it decides.
@Suite("Replication, failover and handoff", .serialized)
struct FailoverTests {
    /// EXACT is sliding_log, 7 per hour (namespace 1002).
    static let limit = 7

    /// Keys of the EXACT rule whose owner on the full ring is `owner`.
    static func keys(ownedBy owner: String, count: Int, prefix: String) -> [String] {
        let ring = HashRing(nodes: ["n1", "n2", "n3"])
        var keys: [String] = []
        var index = 0
        while keys.count < count {
            let key = "\(prefix):\(index)"
            if ring.owner(namespace: "1002", key: key) == owner { keys.append(key) }
            index += 1
        }
        return keys
    }

    static func startedCluster() async throws -> NodeProcessCluster {
        let cluster = try NodeProcessCluster(nodeCount: 3, replicas: 2)
        try await cluster.makeCertificates()
        try cluster.startAll()
        for node in cluster.nodes { try await cluster.waitHealthy(node.id) }
        try await cluster.waitForMembership(["n1", "n2", "n3"], on: ["n1", "n2", "n3"])
        return cluster
    }

    static func allowed(_ response: NodeClient.Response) -> Bool? {
        guard response.status == 200 else { return nil }
        return response.json?[member: "allowed"]?.bool
    }

    @Test("a killed owner's keys are decided by the replica at once, with the replicated counts, and the owner imports them back on restart")
    func killedOwner() async throws {
        let cluster = try await Self.startedCluster()
        let keys = Self.keys(ownedBy: "n2", count: 6, prefix: "failover")

        // Five of seven hits admitted through n1 (forwarded to the owner n2, copied to its replica).
        for key in keys {
            for _ in 0..<5 {
                let response = try await cluster.check("n1", key: key, rule: "EXACT")
                #expect(Self.allowed(response) == true, "before the kill: \(response.status) \(response.text)")
            }
        }
        // The owner's metrics show the copies and how long the last batch took.
        let metrics = try await cluster.get("n2", path: "/metrics").text
        #expect(metrics.contains("rate_limit_replication_lag_seconds{node=\"n2\"}"), "\(metrics)")
        let copied = metrics.split(separator: "\n").first { $0.hasPrefix("rate_limit_replicated_events_total{node=\"n2\"}") }
        #expect(copied.flatMap { Double($0.split(separator: " ").last ?? "") } ?? 0 >= 30, "30 hits copied: \(copied ?? "none")")
        let owner = try #require(cluster.processes["n2"])
        await owner.kill9()

        // Right after the kill, before membership can have noticed: every key is
        // answered (never a 503), and from the replicated counts: two more hits, then denials.
        var answers: [String: [Bool]] = [:]
        for key in keys {
            for _ in 0..<3 {
                let response = try await cluster.check("n1", key: key, rule: "EXACT")
                #expect(response.status == 200, "after the kill: \(response.status) \(response.text)")
                answers[key, default: []].append(Self.allowed(response) ?? false)
            }
        }
        for key in keys { #expect(answers[key] == [true, true, false], "\(key): \(answers[key] ?? [])") }

        // The owner comes back on the same data dir, imports, and carries on from the same counts.
        try cluster.start("n2")
        try await cluster.waitHealthy("n2")
        for key in keys {
            let response = try await cluster.check("n2", key: key, rule: "EXACT")
            #expect(Self.allowed(response) == false, "after the restart \(key) must stay at its limit: \(response.text)")
        }
        // Ownership is back on n2 once every view has it, deciding from the imported counts: none left.
        try await poll("n2 decides its keys again", within: .seconds(20)) {
            let response = try? await cluster.check("n1", key: keys[0], rule: "EXACT", hits: 0)
            return response?.json?[member: "node"]?.string == "n2"
        }
        for key in keys {
            let read = try await cluster.check("n1", key: key, rule: "EXACT", hits: 0)
            #expect(read.json?[member: "node"]?.string == "n2" && read.json?[member: "remaining"]?.int == 0,
                    "\(key) after the import: \(read.text)")
        }
        await cluster.stopAll()
    }

    @Test("a frozen owner (SIGSTOP) is stood in for by its replica, and after SIGCONT no key admits more than its limit")
    func frozenOwner() async throws {
        let cluster = try await Self.startedCluster()
        let keys = Self.keys(ownedBy: "n3", count: 4, prefix: "frozen")
        var admitted: [String: Int] = [:]
        func hit(_ node: String, _ key: String) async throws {
            let response = try await cluster.check(node, key: key, rule: "EXACT")
            if Self.allowed(response) == true { admitted[key, default: 0] += 1 }
        }
        for key in keys { for _ in 0..<3 { try await hit("n1", key) } }

        let owner = try #require(cluster.processes["n3"])
        owner.signal(SIGSTOP)
        // The owner holds these until the forwarder's timeout, then the replica decides.
        let ring = HashRing(nodes: ["n1", "n2", "n3"])
        for key in keys {
            let replica = ring.replicas(namespace: "1002", key: key, count: 2)[1]
            for _ in 0..<2 {
                let response = try await cluster.check("n1", key: key, rule: "EXACT")
                #expect(response.status == 200, "while n3 is frozen: \(response.status) \(response.text)")
                #expect(response.json?[member: "node"]?.string == replica, "\(key) decided by \(replica), the replica: \(response.text)")
                if Self.allowed(response) == true { admitted[key, default: 0] += 1 }
            }
        }
        owner.signal(SIGCONT)
        // The woken owner must not decide from its stale counts: through every node, hammer each key.
        for _ in 0..<4 {
            for node in ["n1", "n2", "n3"] {
                for key in keys { try await hit(node, key) }
            }
        }
        for key in keys {
            #expect(admitted[key, default: 0] <= Self.limit, "\(key) admitted \(admitted[key, default: 0]) > \(Self.limit)")
            #expect(admitted[key, default: 0] == Self.limit, "\(key) should reach exactly its limit, got \(admitted[key, default: 0])")
        }
        await cluster.stopAll()
    }

    @Test("a node stopped for longer than 2 s imports when it resumes, then serves again")
    func pausedNodeImports() async throws {
        let cluster = try await Self.startedCluster()
        let node = try #require(cluster.processes["n3"])
        node.signal(SIGSTOP)
        // The fault itself lasts 3 s: the pause the node must notice.
        try await Task.sleep(for: .seconds(3))
        node.signal(SIGCONT)
        try await poll("n3 notices its pause and imports", within: .seconds(20)) {
            node.output.contains("this node was paused; importing before deciding again")
        }
        try await cluster.waitHealthy("n3")
        await cluster.stopAll()
    }

    @Test("on SIGTERM a node hands its keys' counters to their next owner before it leaves, even in single-copy mode")
    func gracefulHandoff() async throws {
        let cluster = try NodeProcessCluster(nodeCount: 3, replicas: 1)
        try await cluster.makeCertificates()
        try cluster.startAll()
        for node in cluster.nodes { try await cluster.waitHealthy(node.id) }
        try await cluster.waitForMembership(["n1", "n2", "n3"], on: ["n1", "n2", "n3"])
        let keys = Self.keys(ownedBy: "n2", count: 6, prefix: "handoff")
        for key in keys {
            for _ in 0..<Self.limit {
                #expect(Self.allowed(try await cluster.check("n1", key: key, rule: "EXACT")) == true)
            }
        }
        let leaving = try #require(cluster.processes["n2"])
        await leaving.stop()
        #expect(leaving.output.contains("handed keys off before leaving"), "\(leaving.output)")
        try await cluster.waitForMembership(["n1", "n3"], on: ["n1", "n3"])
        for key in keys {
            let response = try await cluster.check("n1", key: key, rule: "EXACT")
            #expect(response.status == 200)
            #expect(Self.allowed(response) == false, "\(key) is at its limit on its new owner: \(response.text)")
        }
        await cluster.stopAll()
    }
}
