import Foundation
import JSONCore
import NodeServer
import TestSupport
import Testing

@Suite("Peers must prove who they are", .serialized)
struct TrustTests {
    /// A second project directory with the same topology (same ports, its
    /// own data dirs) whose certificates the test controls.
    static func impostorDirectory(of cluster: NodeProcessCluster) throws -> TemporaryDirectory {
        let project = try TemporaryDirectory(prefix: "ratelimit-impostor")
        let directory = project.path
        try FileManager.default.createDirectory(atPath: directory + "/cluster", withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: cluster.directory + "/wrangler.toml", toPath: directory + "/wrangler.toml")
        try FileManager.default.copyItem(atPath: cluster.directory + "/cluster/development.toml",
                                         toPath: directory + "/cluster/development.toml")
        return project
    }

    @Test("a node whose certificate comes from a foreign CA never becomes a member")
    func foreignCA() async throws {
        let cluster = try NodeProcessCluster(nodeCount: 3)
        try await cluster.makeCertificates()
        try cluster.start("n1")
        try cluster.start("n2")
        try await cluster.waitForMembership(["n1", "n2"], on: ["n1", "n2"])

        let foreignProject = try Self.impostorDirectory(of: cluster)
        let foreign = foreignProject.path
        defer { withExtendedLifetime(foreignProject) {} }  // the impostor runs in it
        let certs = try TestProcess(name: "foreign-certs", executable: TestEnvironment.binary, arguments: ["certs", "init"],
                                    directory: foreign)
        _ = await certs.waitForExit(within: .seconds(30))
        #expect(certs.exitStatus == 0, "\(certs.output)")
        let impostor = try TestProcess(name: "n3-foreign", executable: TestEnvironment.binary, arguments: ["node", "--id", "n3"],
                                       directory: foreign, environment: ["ADMIN_TOKEN": NodeProcessCluster.adminToken])
        defer { impostor.signal(SIGKILL) }
        try await cluster.waitHealthy("n3")  // Its HTTP port answers; it is alone.
        try await Task.sleep(for: .seconds(4))
        for node in ["n1", "n2"] {
            let members = try await cluster.members(seenBy: node)
            #expect(!members.contains { $0.id == "n3" && $0.status == "alive" }, "\(node) sees \(members)")
        }
        let alone = try await cluster.get("n3", path: "/health")
        #expect(alone.json?[member: "members"]?.int == 1)
        let logs = cluster.processes.values.map(\.output).joined() + impostor.output
        #expect(logs.lowercased().contains("certificate") || logs.lowercased().contains("unknown_ca") || logs.contains("handshake"))
        await impostor.stop()
        await cluster.stopAll()
    }

    @Test("a node holding n3's valid certificate cannot join as n2")
    func impersonation() async throws {
        let cluster = try NodeProcessCluster(nodeCount: 3)
        try await cluster.makeCertificates()
        try cluster.start("n1")
        try cluster.start("n3")
        try await cluster.waitForMembership(["n1", "n3"], on: ["n1", "n3"])

        let stolenProject = try Self.impostorDirectory(of: cluster)
        let stolen = stolenProject.path
        defer { withExtendedLifetime(stolenProject) {} }  // the impostor runs in it
        let source = cluster.directory + "/cluster/certs/development"
        let target = stolen + "/cluster/certs/development"
        try FileManager.default.createDirectory(atPath: target, withIntermediateDirectories: true)
        for file in ["ca.pem"] { try FileManager.default.copyItem(atPath: "\(source)/\(file)", toPath: "\(target)/\(file)") }
        try FileManager.default.copyItem(atPath: "\(source)/n3.pem", toPath: "\(target)/n2.pem")
        try FileManager.default.copyItem(atPath: "\(source)/n3-key.pem", toPath: "\(target)/n2-key.pem")

        let impostor = try TestProcess(name: "n2-impostor", executable: TestEnvironment.binary, arguments: ["node", "--id", "n2"],
                                       directory: stolen, environment: ["ADMIN_TOKEN": NodeProcessCluster.adminToken])
        defer { impostor.signal(SIGKILL) }
        try await Task.sleep(for: .seconds(5))
        for node in ["n1", "n3"] {
            let members = try await cluster.members(seenBy: node)
            #expect(!members.contains { $0.id == "n2" && $0.status == "alive" }, "\(node) sees \(members)")
            #expect(members.first { $0.id == "n3" }?.status == "alive")
        }
        // Our own binary refuses to present another node's certificate; the
        // peers' check of a forged client is covered by PeerTransportTests.
        #expect(!impostor.isRunning)
        #expect(impostor.exitStatus != 0)
        #expect(impostor.output.contains("spiffe://ratelimit/development/n3") && impostor.output.contains("n2"),
                "\(impostor.output)")
        await impostor.stop()
        await cluster.stopAll()
    }
}
