import Foundation
import JSONCore
import NodeServer
import TestSupport

/// A project directory with its own wrangler.toml and cluster/development.toml
/// on free loopback ports, and the real `ratelimit node` processes started
/// from it. (In-process peer services over the same certificates are
/// PeerTransportTests' `InProcessPeerCluster`.)
final class NodeProcessCluster: @unchecked Sendable {
    // @unchecked: a test drives its cluster from one task at a time.
    struct Node {
        var id: String
        var httpPort: Int
        var peerPort: Int
        var dataDir: String
        /// Its loopback address: 127.0.0.1, or 127.0.0.N for node nN with
        /// `distinctHosts`, so traffic between nodes can be told apart by address.
        var host = "127.0.0.1"
    }

    static let adminToken = "test-admin-token"

    static let defaultRules = """
    [[ratelimits]]
    name = "API"
    namespace_id = "1001"
    simple = { limit = 100, period = 60 }
    algorithm = "sliding_window"

    [[ratelimits]]
    name = "EXACT"
    namespace_id = "1002"
    simple = { limit = 7, period = 3600 }
    algorithm = "sliding_log"

    [[ratelimits]]
    name = "BUCKET"
    namespace_id = "1003"
    simple = { limit = 10, period = 60 }
    algorithm = "token_bucket"
    burst = 5

    [[ratelimits]]
    name = "GCRA"
    namespace_id = "1004"
    simple = { limit = 60, period = 60 }
    algorithm = "gcra"
    burst = 5

    [[ratelimits]]
    name = "FIXED"
    namespace_id = "1005"
    simple = { limit = 3, period = 86400 }
    algorithm = "fixed_window"
    """

    /// The `[coordinator]` table's ports, when the cluster has one.
    struct CoordinatorEndpoint {
        var httpPort: Int
        var peerPort: Int
    }

    /// What `[monitoring]` holds when a test asks for the coordinator: a
    /// scrape every second and few samples, so rollout steps of 1-2 s judge.
    static let fastMonitoring = """
    [monitoring]
    scrape_interval_s = 1
    alert_window_s = 2
    min_samples = 20
    """

    private let temporary: TemporaryDirectory
    var directory: String { temporary.path }
    /// `--env` of every process this cluster starts; topology, certs and
    /// data dirs are this environment's.
    let environment: String
    let nodes: [Node]
    let coordinator: CoordinatorEndpoint?
    /// The wrangler.toml tables after the rules: `[monitoring]`, and the
    /// `[env.staging]` / `[env.production]` sections outside development.
    private let wranglerTail: String
    /// Given to every process this cluster starts (nodes, coordinator, CLI
    /// verbs through ``cli(_:environment:)``): ADMIN_TOKEN, and whatever a
    /// test adds (MONITORING_TOKEN, ALERT_WEBHOOK_URL, ...).
    var environmentVariables: [String: String] = ["ADMIN_TOKEN": NodeProcessCluster.adminToken]
    var processes: [String: TestProcess] = [:]
    /// Every process started, including ones `processes` no longer names
    /// (restarted nodes, background CLI verbs): all are stopped at the end.
    private(set) var started: [TestProcess] = []

    /// - Parameters:
    ///   - environment: the environment of the topology file written
    ///     (`cluster/<environment>.toml`) and of every process started.
    ///   - coordinator: add a `[coordinator]` table on free ports.
    ///   - monitoring: the `[monitoring]` table text (default: none, or
    ///     ``fastMonitoring`` with a coordinator).
    ///   - project: another cluster whose project directory (and
    ///     wrangler.toml) this one shares, for a second environment; make
    ///     that one staging or production, so the file has both sections.
    ///   - distinctHosts: node nN listens (and connects to its peers) on 127.0.0.N.
    init(nodeCount: Int, rules: String = NodeProcessCluster.defaultRules, replicas: Int = 1, extraTopology: String = "",
         environment: String = "development", coordinator: Bool = false, monitoring: String? = nil,
         sharing project: NodeProcessCluster? = nil, distinctHosts: Bool = false) throws {
        temporary = try project?.temporary ?? TemporaryDirectory(prefix: "ratelimit-e2e")
        self.environment = environment
        nodes = (1...nodeCount).map { index in
            Node(id: "n\(index)", httpPort: TestEnvironment.freePort(), peerPort: TestEnvironment.freePort(),
                 dataDir: "cluster/data/\(environment)/n\(index)", host: distinctHosts ? "127.0.0.\(index)" : "127.0.0.1")
        }
        self.coordinator = coordinator
            ? CoordinatorEndpoint(httpPort: TestEnvironment.freePort(), peerPort: TestEnvironment.freePort()) : nil
        var tail = monitoring ?? (coordinator ? Self.fastMonitoring : "")
        if environment != "development" || project != nil {
            tail += """


            [env.staging]
            vars = { ENVIRONMENT = "staging" }

            [env.production]
            vars = { ENVIRONMENT = "production" }
            """
        }
        wranglerTail = project?.wranglerTail ?? tail
        if project == nil { try writeRules(rules) }
        var topology = """
        replicas = \(replicas)
        certs_dir = "cluster/certs/\(environment)"
        \(extraTopology)

        """
        if let endpoint = self.coordinator {
            topology += """

            [coordinator]
            host = "127.0.0.1"
            http_port = \(endpoint.httpPort)
            peer_port = \(endpoint.peerPort)

            """
        }
        for node in nodes {
            topology += """

            [[nodes]]
            id = "\(node.id)"
            host = "\(node.host)"
            http_port = \(node.httpPort)
            peer_port = \(node.peerPort)
            data_dir = "\(node.dataDir)"

            """
        }
        try FileManager.default.createDirectory(atPath: directory + "/cluster", withIntermediateDirectories: true)
        try topology.write(toFile: directory + "/cluster/\(environment).toml", atomically: true, encoding: .utf8)
    }

    /// Writes wrangler.toml with `rules` (and the tables this cluster was
    /// made with): what a deploy uploads next. Running nodes keep serving
    /// what they were deployed; a restarted one reads the file again.
    func writeRules(_ rules: String) throws {
        let wrangler = """
        name = "rate-limit"
        main = "Sources/ratelimit/Entry.swift"
        compatibility_date = "2024-01-22"

        [durable_objects]
        bindings = [{ name = "RATE_LIMIT", class_name = "RateLimitDO" }]

        [[migrations]]
        tag = "v1"
        new_classes = ["RateLimitDO"]

        \(rules)

        \(wranglerTail)

        """
        try wrangler.write(toFile: directory + "/wrangler.toml", atomically: true, encoding: .utf8)
    }

    func node(_ id: String) -> Node { nodes.first { $0.id == id }! }

    /// Where `certs init` writes the CA and every node's certificate and key.
    var certsDirectory: String { directory + "/cluster/certs/\(environment)" }

    /// Runs `ratelimit ARGS` in the project directory to completion.
    func run(_ arguments: [String], environment: [String: String] = [:]) async throws -> (status: Int32, output: String) {
        let name = "cli-\(UUID().uuidString.prefix(6))"
        let process = try TestProcess(name: name, executable: TestEnvironment.binary, arguments: arguments,
                                      directory: directory, environment: environment)
        started.append(process)
        _ = await process.waitForExit(within: .seconds(60))
        if process.isRunning { await process.kill9() }
        return (process.exitStatus ?? -1, process.output)
    }

    @discardableResult
    func start(_ id: String, extraArguments: [String] = [], environment: [String: String] = [:]) throws -> TestProcess {
        var env = environmentVariables
        for (key, value) in environment { env[key] = value }
        let process = try TestProcess(name: "\(self.environment)-\(id)-\(UUID().uuidString.prefix(6))", executable: TestEnvironment.binary,
                                      arguments: ["node", "--id", id, "--env", self.environment] + extraArguments,
                                      directory: directory, environment: env)
        processes[id] = process
        started.append(process)
        return process
    }

    func startAll() throws { for node in nodes { try start(node.id) } }

    /// Keeps `process` to stop with the others at the end.
    func track(_ process: TestProcess) { started.append(process) }

    /// Polls `/health` until it answers 200, or fails with the node's output
    /// (at once if its process exits).
    func waitHealthy(_ id: String, within limit: Duration = .seconds(30)) async throws {
        let node = node(id)
        do {
            try await poll("node \(id) healthy", within: limit, every: .milliseconds(50)) {
                if let process = processes[id], !process.isRunning {
                    throw TestFailure("node \(id) exited with \(process.exitStatus ?? -1):\n\(process.output)")
                }
                let response = try? await NodeClient.request(.GET, host: node.host, port: node.httpPort, path: "/health",
                                                             timeout: .seconds(2))
                return response?.status == 200
            }
        } catch let timeout as PollTimeout {
            throw TestFailure("\(timeout):\n\(processes[id]?.output ?? "")")
        }
    }

    func check(_ id: String, key: String, rule: String = "API", hits: Int = 1) async throws -> NodeClient.Response {
        let body = "{\"key\":\"\(key)\",\"rule\":\"\(rule)\",\"hits\":\(hits)}"
        return try await post(id, path: "/v1/check", body: body)
    }

    func post(_ id: String, path: String, body: String, headers: [(String, String)] = []) async throws -> NodeClient.Response {
        try await NodeClient.request(.POST, host: node(id).host, port: node(id).httpPort, path: path, headers: headers,
                                     body: Array(body.utf8))
    }

    func get(_ id: String, path: String, admin: Bool = false) async throws -> NodeClient.Response {
        try await NodeClient.request(.GET, host: node(id).host, port: node(id).httpPort, path: path,
                                     headers: admin ? [("authorization", "Bearer \(Self.adminToken)")] : [])
    }

    /// How often `text` occurs in node `id`'s output so far, to wait for a
    /// count of protocol events the node logs.
    func occurrences(of text: String, inOutputOf id: String) -> Int {
        (processes[id]?.output ?? "").components(separatedBy: text).count - 1
    }

    func stopAll() async {
        await withTaskGroup(of: Void.self) { group in
            for process in started where process.isRunning { group.addTask { await process.stop() } }
        }
    }

    deinit {
        // The project directory goes with `temporary`, after this (or after
        // the last cluster sharing it).
        for process in started where process.isRunning { process.signal(SIGKILL) }
    }
}

extension JSONValue {
    var int: Int64? { if case .integer(let value) = self { return value } else { return nil } }
    var bool: Bool? { if case .bool(let value) = self { return value } else { return nil } }
    var string: String? { if case .string(let value) = self { return value } else { return nil } }
    var array: [JSONValue]? { if case .array(let value) = self { return value } else { return nil } }
}
