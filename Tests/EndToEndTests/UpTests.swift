import JSONCore
import Foundation
import NodeServer
import Testing

@Suite("ratelimit up", .serialized)
struct UpTests {
    /// What `up` gives a development cluster started without ADMIN_TOKEN.
    static let developmentToken = "dev-admin-token"

    @Test("up alone (no ADMIN_TOKEN) makes certificates, starts every node with the development token, waits for the cluster, and stops all on SIGTERM")
    func upStartsAndStops() async throws {
        let cluster = try NodeProcessCluster(nodeCount: 3)
        let up = try TestProcess(name: "up", executable: TestEnvironment.binary, arguments: ["up", "--nodes", "3"],
                                 directory: cluster.directory, environment: ["ADMIN_TOKEN": ""])
        do {
            try await checkRunningCluster(up, cluster)
        } catch {
            // SIGTERM, not SIGKILL: up must stop the nodes it started.
            await up.stop()
            throw error
        }
    }

    private func checkRunningCluster(_ up: TestProcess, _ cluster: NodeProcessCluster) async throws {
        try await cluster.eventually(within: .seconds(60), "up prints that the cluster is up") {
            up.output.contains("cluster development is up") || !up.isRunning
        }
        #expect(up.isRunning, "\(up.output)")
        #expect(FileManager.default.fileExists(atPath: cluster.directory + "/cluster/certs/development/ca.pem"))
        for node in cluster.nodes {
            #expect(up.output.contains("http://127.0.0.1:\(node.httpPort)"))
            let health = try await cluster.get(node.id, path: "/health")
            #expect(health.json?[member: "members"]?.int == 3)
        }
        #expect(up.output.contains("ADMIN_TOKEN was not set: this development cluster's admin API takes \(Self.developmentToken)"),
                "\(up.output)")
        let refused = try await cluster.run(["members"], environment: ["ADMIN_TOKEN": NodeProcessCluster.adminToken])
        #expect(refused.status != 0, "another token is refused: \(refused.output)")
        let members = try await cluster.run(["members"], environment: ["ADMIN_TOKEN": Self.developmentToken])
        #expect(members.status == 0, "\(members.output)")
        #expect(members.output.contains("n1") && members.output.contains("n2") && members.output.contains("n3"))
        #expect(members.output.components(separatedBy: "alive").count - 1 == 3)
        let ring = try await cluster.run(["ring", "--key", "user:42", "--rule", "API"],
                                         environment: ["ADMIN_TOKEN": Self.developmentToken])
        #expect(ring.status == 0, "\(ring.output)")
        #expect(ring.output.contains("owner:"))
        // A key with &, =, +, a space and non-ASCII reaches the node as typed.
        let odd = try await cluster.run(["ring", "--key", "a b&c=d+é", "--rule", "API"], environment: ["ADMIN_TOKEN": Self.developmentToken])
        #expect(odd.status == 0 && odd.output.contains("key:       a b&c=d+é"), "\(odd.output)")

        up.signal(SIGTERM)
        #expect(await up.waitForExit(within: .seconds(30)))
        #expect(up.exitStatus == 0, "\(up.output)")
        for node in cluster.nodes {
            let stillThere = try? await NodeClient.request(.GET, host: "127.0.0.1", port: node.httpPort, path: "/health",
                                                           timeout: .seconds(1))
            #expect(stillThere == nil, "node \(node.id) still answers after up stopped")
        }
    }
}
