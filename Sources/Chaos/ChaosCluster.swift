import ChaosCore
import JSONCore
import NIOCore
#if canImport(Glibc)
import Glibc
#endif

/// The node processes of a chaos run and the faults done to them. Every
/// change of a node's state is published to ``view`` before the signal is
/// sent (and after a node proves healthy), so the clients never count an
/// attempt on a node being killed as an attempt on a live one.
actor ChaosCluster {
    let project: ChaosProject
    let view: NodeView
    private let executable: String
    private let environment: [String: String]
    /// Every process started, restarted ones included: all are stopped at the end.
    private var started: [NodeProcess] = []
    private var current: [String: NodeProcess] = [:]
    private var launches: [String: Int] = [:]

    static let adminToken = "chaos-admin-token"
    /// How long a started node may take to answer /health with 200 (debug builds on a loaded machine start slowly).
    static let startLimit: Duration = .seconds(60)

    init(project: ChaosProject, executable: String, environment: [String: String]) {
        self.project = project
        self.executable = executable
        var env = environment
        env["ADMIN_TOKEN"] = Self.adminToken
        self.environment = env
        view = NodeView(nodes: project.nodes.map { ($0.id, $0.httpPort) })
    }

    func port(of id: String) -> Int {
        project.nodes.first { $0.id == id }!.httpPort
    }

    /// Starts `id` (again, on its data dir, after a kill or a remove) without waiting.
    func launch(_ id: String) throws {
        launches[id, default: 0] += 1
        view.set(id, .starting)
        let process = try NodeProcess(id: id, executable: executable, directory: project.directory, environment: environment,
                                      logPath: project.directory + "/\(id)-\(launches[id]!).log")
        started.append(process)
        current[id] = process
    }

    /// Polls `id`'s /health until it answers 200 (and, with `members`, sees
    /// that many alive nodes), then marks it live. Fails at once, with the
    /// node's output, if its process exits.
    func waitHealthy(_ id: String, members: Int? = nil, within limit: Duration = ChaosCluster.startLimit) async throws {
        let deadline = ContinuousClock.now + limit
        let port = port(of: id)
        while true {
            if let process = current[id], !process.isRunning {
                throw ChaosError("node \(id) \(process.exitDescription ?? "exited") while starting:\n\(process.tail())")
            }
            if let health = try? await Self.get(port: port, path: "/health"), health.status == 200 {
                let seen = (try? JSONParser.parse(health.body))?[member: "members"]
                if members == nil || seen == .integer(Int64(members!)) {
                    view.set(id, .live)
                    return
                }
            }
            guard ContinuousClock.now < deadline else {
                throw ChaosError("node \(id) did not answer /health with 200\(members.map { " seeing \($0) members" } ?? "") within \(limit):\n\(current[id]?.tail() ?? "")")
            }
            try await Task.sleep(for: .milliseconds(100))
        }
    }

    /// The node that owns `key` under `rule`, as a live node's ring says.
    func owner(of key: String, rule: String) async throws -> String {
        let path = "/admin/ring?key=\(key)&rule=\(rule)"
        var problems: [String] = []
        for node in view.live() {
            do {
                let response = try await Self.get(port: node.httpPort, path: path,
                                                  headers: [("authorization", "Bearer \(Self.adminToken)")])
                if response.status == 200, case .string(let owner)? = (try? JSONParser.parse(response.body))?[member: "owner"],
                   !owner.isEmpty {
                    return owner
                }
                problems.append("\(node.id) answered \(response.status)")
            } catch {
                problems.append("\(node.id): \(error)")
            }
        }
        throw ChaosError("no live node named the owner of \(key): \(problems.joined(separator: "; "))")
    }

    /// `kill -9`: marks the node killed, then sends SIGKILL and waits for it to exit.
    func kill9(_ id: String) async throws {
        guard let process = current[id], process.isRunning else { throw ChaosError("cannot kill \(id): it is not running") }
        view.set(id, .killed)
        process.signal(SIGKILL)
        guard await process.waitForExit(within: .seconds(10)) else {
            throw ChaosError("node \(id) (pid \(process.pid)) did not exit within 10 s of SIGKILL")
        }
    }

    func freeze(_ id: String) throws {
        guard let process = current[id], process.isRunning else { throw ChaosError("cannot freeze \(id): it is not running") }
        view.set(id, .frozen)
        process.signal(SIGSTOP)
    }

    /// SIGCONT; the node counts as live again once its /health answers 200.
    func thaw(_ id: String) async throws {
        guard let process = current[id], process.isRunning else { throw ChaosError("cannot resume \(id): it is not running") }
        view.set(id, .starting)
        process.signal(SIGCONT)
        try await waitHealthy(id)
    }

    /// SIGTERM, a graceful leave; whether it exited within `grace` (else it was SIGKILLed).
    func remove(_ id: String, grace: Duration = .seconds(20)) async throws -> NodeProcess.StopOutcome {
        guard let process = current[id], process.isRunning else { throw ChaosError("cannot remove \(id): it is not running") }
        view.set(id, .leaving)
        let outcome = await process.stop(grace: grace)
        view.set(id, .stopped)
        return outcome
    }

    /// Stops every process this run started (SIGCONT, SIGTERM, SIGKILL after
    /// 10 s), all at once; one line for each that did not exit cleanly on SIGTERM.
    func stopAll() async -> [String] {
        let running = started.filter(\.isRunning)
        for process in running { view.set(process.id, .leaving) }
        let problems = await withTaskGroup(of: String?.self) { group in
            for process in running {
                group.addTask {
                    switch await process.stop(grace: .seconds(10)) {
                    case .exited(let how): how == NodeProcess.cleanExit ? nil : "\(process.id) (pid \(process.pid)) \(how) on SIGTERM"
                    case .killed: "\(process.id) (pid \(process.pid)) did not exit within 10 s of SIGTERM: SIGKILLed"
                    case .stillRunning: "\(process.id) (pid \(process.pid)) was still running 30 s after SIGKILL"
                    }
                }
            }
            var problems: [String] = []
            for await problem in group { if let problem { problems.append(problem) } }
            return problems.sorted()
        }
        for process in running { view.set(process.id, .stopped) }
        return problems
    }

    /// Nodes whose process exited although no fault stopped it (a crash
    /// under load): each is marked killed, so clients stop asking it and
    /// later faults pass it by, and returned once with its exit status.
    func reapUnexpectedExits() -> [(id: String, how: String)] {
        var exited: [(id: String, how: String)] = []
        for (id, process) in current.sorted(by: { $0.key < $1.key }) where !process.isRunning {
            switch view.state(of: id) {
            case .live, .starting, .frozen:
                view.set(id, .killed)
                exited.append((id, process.exitDescription ?? "exited"))
            case .notStarted, .killed, .leaving, .stopped:
                break
            }
        }
        return exited
    }

    /// Where each node's output went.
    var logs: [String] { started.map(\.logPath) }

    /// A one-off GET on a fresh connection, closed afterwards.
    static func get(port: Int, path: String, headers: [(String, String)] = []) async throws -> HTTPConnection.Response {
        let connection = try await HTTPConnection.connect(host: "127.0.0.1", port: port, timeout: .seconds(2))
        defer { connection.close() }
        return try await connection.send(.GET, path: path, headers: headers, timeout: .seconds(3))
    }
}
