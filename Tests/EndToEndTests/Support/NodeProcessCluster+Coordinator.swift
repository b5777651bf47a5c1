import Foundation
import JSONCore
import NIOHTTP1
import NodeServer
import TestSupport

/// The coordinator of a cluster made with `coordinator: true`, the CLI verbs
/// that talk to it, and the deployment every node says it serves (DESIGN §7).
extension NodeProcessCluster {
    static let monitoringToken = "test-monitoring-token"

    /// A deployment as `/health` (node or coordinator) shows it.
    struct DeploymentView: Equatable, CustomStringConvertible {
        var epoch: Int64
        var stable: String
        var canary: String?
        var percent: Int64

        init?(_ json: JSONValue?) {
            guard let json, let epoch = json[member: "epoch"]?.int, let stable = json[member: "stable"]?.string,
                  let percent = json[member: "percent"]?.int else { return nil }
            self.epoch = epoch
            self.stable = stable
            canary = json[member: "canary"]?.string
            self.percent = percent
        }

        var description: String { "epoch \(epoch): \(stable)" + (canary.map { " + \($0) at \(percent)%" } ?? "") }
    }

    var coordinatorPort: Int {
        guard let coordinator else { preconditionFailure("this cluster was made without a coordinator") }
        return coordinator.httpPort
    }

    /// Where the coordinator keeps its journal (DESIGN §7).
    var journalPath: String { directory + "/cluster/data/\(environment)/coordinator/journal.sqlite" }

    /// Starts `ratelimit coordinator --env E` with the cluster's variables.
    @discardableResult
    func startCoordinator() throws -> TestProcess {
        let process = try TestProcess(name: "\(environment)-coordinator-\(UUID().uuidString.prefix(6))", executable: TestEnvironment.binary,
                                      arguments: ["coordinator", "--env", environment], directory: directory,
                                      environment: environmentVariables)
        processes["coordinator"] = process
        track(process)
        return process
    }

    /// Polls the coordinator's open `/health` until it answers 200, or fails
    /// with its output (at once if it exits).
    func waitCoordinatorHealthy(within limit: Duration = .seconds(30)) async throws {
        try await eventually(within: limit, "the \(environment) coordinator answers /health", poll: .milliseconds(50)) {
            if let process = processes["coordinator"], !process.isRunning {
                throw TestFailure("the coordinator exited with \(process.exitStatus ?? -1):\n\(process.output)")
            }
            return (try? await coordinatorRequest(.GET, "/health", token: nil))?.status == 200
        }
    }

    /// Certificates, every node healthy and seeing the others, and the
    /// coordinator (if any) serving: the state every coordinator test starts from.
    func startWithCoordinator() async throws {
        let certs = try await run(["certs", "init", "--env", environment], environment: environmentVariables)
        guard certs.status == 0 else { throw TestFailure("certs init --env \(environment) failed: \(certs.output)") }
        try startAll()
        if coordinator != nil { try startCoordinator() }
        for node in nodes { try await waitHealthy(node.id) }
        // The coordinator gossips too (role coordinator, owning no keys).
        let members = Set(nodes.map(\.id) + (coordinator == nil ? [] : ["coordinator"]))
        try await waitForMembership(members, on: nodes.map(\.id))
        if coordinator != nil { try await waitCoordinatorHealthy() }
    }

    /// Runs `ratelimit ARGS --env E` to completion with the cluster's
    /// variables (ADMIN_TOKEN and the rest) plus `environment`.
    func cli(_ arguments: [String], environment extra: [String: String] = [:]) async throws -> (status: Int32, output: String) {
        var env = environmentVariables
        for (key, value) in extra { env[key] = value }
        return try await run(arguments + ["--env", environment], environment: env)
    }

    /// Starts `ratelimit ARGS --env E` and returns at once: for a verb that
    /// runs while the test does something else (`deploy --gradual`).
    func launch(_ arguments: [String]) throws -> TestProcess {
        let process = try TestProcess(name: "cli-\(environment)-\(arguments.first ?? "")-\(UUID().uuidString.prefix(6))", executable: TestEnvironment.binary,
                                      arguments: arguments + ["--env", environment], directory: directory,
                                      environment: environmentVariables)
        track(process)
        return process
    }

    /// A request to the coordinator's HTTP API, with the admin token unless
    /// `token` says otherwise (nil: no Authorization header).
    func coordinatorRequest(_ method: HTTPMethod, _ path: String, body: String? = nil,
                            token: String? = NodeProcessCluster.adminToken) async throws -> NodeClient.Response {
        try await NodeClient.request(method, host: "127.0.0.1", port: coordinatorPort, path: path,
                                     headers: token.map { [("authorization", "Bearer \($0)")] } ?? [],
                                     body: body.map { Array($0.utf8) }, timeout: .seconds(5))
    }

    /// The deployment node `id` serves, from its `/health`.
    func deployment(on id: String) async throws -> DeploymentView {
        let health = try await get(id, path: "/health")
        guard let view = DeploymentView(health.json?[member: "deployment"]) else {
            throw TestFailure("\(id) /health has no deployment: \(health.status) \(health.text)")
        }
        return view
    }

    /// The deployment every node serves, once they all serve the same one
    /// and `condition` holds for it; fails with every process's output.
    @discardableResult
    func waitForDeployment(within limit: Duration = .seconds(10), _ what: String,
                           where condition: (DeploymentView) -> Bool) async throws -> DeploymentView {
        var agreed: DeploymentView?
        try await eventually(within: limit, "every node serves \(what)") {
            var views: [DeploymentView] = []
            for node in nodes {
                guard let view = try? await deployment(on: node.id) else { return false }
                views.append(view)
            }
            guard let first = views.first, views.allSatisfy({ $0 == first }), condition(first) else { return false }
            agreed = first
            return true
        }
        return agreed!
    }

    /// The version id `deploy` printed (`version v-... (uploaded)`).
    static func uploadedVersion(in output: String) -> String? {
        for line in output.split(separator: "\n") where line.hasPrefix("version v-") {
            return line.split(separator: " ").dropFirst().first.map(String.init)
        }
        return nil
    }

    /// `/admin/deployments` (the journal, newest first).
    func journalEntries(limit: Int = 100) async throws -> [JSONValue] {
        let response = try await coordinatorRequest(.GET, "/admin/deployments?limit=\(limit)")
        guard response.status == 200, let entries = response.json?.array else {
            throw TestFailure("/admin/deployments: \(response.status) \(response.text)")
        }
        return entries
    }

    /// Every process's output, newest part, for a failure message.
    var outputs: String {
        processes.sorted { $0.key < $1.key }.map { "--- \($0.key):\n\($0.value.output.suffix(3000))" }.joined(separator: "\n")
    }
}

extension JSONValue {
    /// The value as JSON text, for failure messages.
    var text: String {
        var writer = JSONWriter()
        writer.write(self)
        return String(decoding: writer.bytes, as: UTF8.self)
    }
}
