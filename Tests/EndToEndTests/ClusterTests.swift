import JSONCore
import Foundation
import NodeServer
import Synchronization
import Testing
import TestSupport

@Suite("Three nodes on loopback: membership, placement, forwarding, failures", .serialized)
struct ClusterTests {
    static func startedCluster() async throws -> NodeProcessCluster {
        let cluster = try NodeProcessCluster(nodeCount: 3)
        try await cluster.makeCertificates()
        try cluster.startAll()
        for node in cluster.nodes { try await cluster.waitHealthy(node.id) }
        try await cluster.waitForMembership(["n1", "n2", "n3"], on: ["n1", "n2", "n3"])
        return cluster
    }

    @Test("every node sees three alive members, and a key gets one owner's decisions through any node")
    func formsAndForwards() async throws {
        let cluster = try await Self.startedCluster()
        for node in ["n1", "n2", "n3"] {
            let health = try await cluster.get(node, path: "/health")
            #expect(health.json?[member: "members"]?.int == 3)
        }
        // Nine hits on one key, three through each node: exactly the limit of 7 is admitted.
        for index in 0..<20 {
            let key = "shared:\(index)"
            var allowed = 0
            var owners = Set<String>()
            for round in 0..<9 {
                let response = try await cluster.check(["n1", "n2", "n3"][round % 3], key: key, rule: "EXACT")
                #expect(response.status == 200, "\(response.text)")
                if response.json?[member: "allowed"]?.bool == true { allowed += 1 }
                owners.insert(response.json?[member: "node"]?.string ?? "?")
            }
            #expect(allowed == 7, "key \(key)")
            #expect(owners.count == 1, "key \(key) answered by \(owners)")
            let placed = try await cluster.owner(of: key, rule: "EXACT", seenBy: "n2")
            #expect(owners == [placed])
        }
        // A batch mixing owners comes back in order.
        let checks = (0..<30).map { "{\"key\":\"batch:\($0)\",\"rule\":\"EXACT\",\"hits\":\($0 % 2 == 0 ? 7 : 8)}" }
        let batch = try await cluster.post("n1", path: "/v1/check/batch", body: "{\"checks\":[\(checks.joined(separator: ","))]}")
        let results = try #require(batch.json?[member: "results"]?.array)
        #expect(results.count == 30)
        #expect(results.enumerated().allSatisfy { $0.element[member: "allowed"]?.bool == ($0.offset % 2 == 0) })
        #expect(Set(results.compactMap { $0[member: "node"]?.string }).count == 3)
        await cluster.stopAll()
    }

    /// The value of `rate_limit_forward_windows_total` for `result` in a node's metrics text.
    static func windows(_ result: String, in text: String, node: String = "n1") -> Double? {
        let prefix = "rate_limit_forward_windows_total{node=\"\(node)\",result=\"\(result)\"} "
        return text.split(separator: "\n").first { $0.hasPrefix(prefix) }.flatMap { Double($0.dropFirst(prefix.count)) }
    }

    @Test("forward_window_us in cluster/<env>.toml reaches the forwarder: under concurrent load windows open and gather checks; with 0 none opens")
    func forwardWindowSetting() async throws {
        for window in [10_000, 0] {
            // 10 ms, the most accepted: a debug build's checks arrive at each owner often enough to open windows.
            let cluster = try NodeProcessCluster(nodeCount: 3, extraTopology: "forward_window_us = \(window)")
            try await cluster.makeCertificates()
            try cluster.startAll()
            for node in cluster.nodes { try await cluster.waitHealthy(node.id) }
            try await cluster.waitForMembership(["n1", "n2", "n3"], on: ["n1", "n2", "n3"])
            // 16 clients through n1, each with one check in flight.
            final class Flags: Sendable {
                let stop = Atomic<Bool>(false)
                let failed = Atomic<Int>(0)
            }
            let flags = Flags()
            let port = cluster.node("n1").httpPort
            var text = ""
            try await withThrowingTaskGroup(of: Void.self) { group in
                for worker in 0..<16 {
                    group.addTask {
                        var index = worker
                        while !flags.stop.load(ordering: .relaxed) {
                            let body = Array("{\"key\":\"window:\(index % 300)\",\"rule\":\"API\"}".utf8)
                            let response = try? await NodeClient.request(.POST, host: "127.0.0.1", port: port, path: "/v1/check",
                                                                         body: body, timeout: .seconds(5))
                            if response?.status != 200 { flags.failed.wrappingAdd(1, ordering: .relaxed) }
                            index += 16
                        }
                    }
                }
                defer { flags.stop.store(true, ordering: .relaxed) }
                try await poll("n1 forwarded 300 checks\(window > 0 ? " and a window gathered some" : "")", within: .seconds(60),
                               every: .milliseconds(200)) {
                    text = try await cluster.get("n1", path: "/metrics").text
                    let forwarded = BoundedLogTests.metric("rate_limit_forwarded_checks_total", in: text) ?? 0
                    return forwarded >= 300 && (window == 0 || (Self.windows("joined", in: text) ?? 0) > 0)
                }
            }
            #expect(flags.failed.load(ordering: .relaxed) == 0)
            if window == 0 {
                #expect(Self.windows("joined", in: text) == 0 && Self.windows("alone", in: text) == 0, "\(text)")
            } else {
                #expect((Self.windows("joined", in: text) ?? 0) > 0)
            }
            let described = try await cluster.run(["config", "check", "--env", "development"])
            #expect(described.output.contains("forward_window_us: \(window)"), "\(described.output)")
            await cluster.stopAll()
        }
    }

    @Test("kill -9: survivors declare the node dead, its keys move; restarted, it rejoins with a higher incarnation")
    func killAndRestart() async throws {
        let cluster = try await Self.startedCluster()
        let before = try await cluster.members(seenBy: "n1").first { $0.id == "n3" }!
        var keyOfN3: String?
        for index in 0..<200 where keyOfN3 == nil {
            if try await cluster.owner(of: "move:\(index)", rule: "EXACT", seenBy: "n1") == "n3" { keyOfN3 = "move:\(index)" }
        }
        let key = try #require(keyOfN3)

        await cluster.processes["n3"]!.kill9()
        let took = try await cluster.eventually(within: .seconds(20), "n3 dead on n1 and n2") {
            let a = await cluster.status(of: "n3", seenBy: "n1")
            let b = await cluster.status(of: "n3", seenBy: "n2")
            return a == "dead" && b == "dead"
        }
        print("kill -9 detected by both survivors in \(took)")
        let moved = try await cluster.check("n1", key: key, rule: "EXACT")
        #expect(moved.status == 200)
        let newOwner = moved.json?[member: "node"]?.string
        #expect(newOwner == "n1" || newOwner == "n2")

        try cluster.start("n3")
        try await cluster.waitHealthy("n3")
        try await cluster.waitForMembership(["n1", "n2", "n3"], on: ["n1", "n2", "n3"])
        let after = try await cluster.members(seenBy: "n1").first { $0.id == "n3" }!
        #expect(after.incarnation > before.incarnation)
        await cluster.stopAll()
    }

    @Test("SIGSTOP: the node is suspected, then dead; SIGCONT: it refutes and is alive again")
    func stopAndContinue() async throws {
        let cluster = try await Self.startedCluster()
        let process = cluster.processes["n2"]!
        process.signal(SIGSTOP)
        var sawSuspect = false
        try await cluster.eventually(within: .seconds(20), "n2 dead on n1", poll: .milliseconds(50)) {
            let status = await cluster.status(of: "n2", seenBy: "n1")
            if status == "suspect" { sawSuspect = true }
            return status == "dead"
        }
        #expect(sawSuspect, "n2 went through suspect before dead")
        let dead = try await cluster.members(seenBy: "n1").first { $0.id == "n2" }!
        process.signal(SIGCONT)
        try await cluster.waitForMembership(["n1", "n2", "n3"], on: ["n1", "n3"])
        let revived = try await cluster.members(seenBy: "n1").first { $0.id == "n2" }!
        #expect(revived.incarnation > dead.incarnation)
        await cluster.stopAll()
    }
}
