import ChaosCore
import Foundation
import NIOCore
import Synchronization

/// One chaos run end to end: a project directory, real node processes, the
/// clients, the faults of a seeded ``FaultSchedule``, and the report.
/// Every process it starts is stopped by pid before it returns or throws,
/// cancellation included.
public struct ChaosRun: Sendable {
    public struct Options: Sendable {
        public var seed: UInt64
        public var long: Bool
        /// Nodes started before the load; the rest of the listed ones are spares to add.
        public var nodes: Int
        public var listedNodes: Int = 5
        public var durationMs: Int64
        public var clients: Int
        public var keys: Int
        /// False for a control run: the same load, no fault.
        public var injectsFaults = true
        public var requestTimeoutMs: Int64 = 2_000
        /// Keep the project directory (logs, data, certificates) instead of deleting it.
        public var keep: Bool = false
        /// The `ratelimit` binary that runs each node and `certs init`.
        public var executable: String
        /// The nodes' environment (ADMIN_TOKEN is added).
        public var environment: [String: String]

        public init(seed: UInt64, long: Bool, nodes: Int, durationMs: Int64, clients: Int, keys: Int, executable: String,
                    environment: [String: String]) {
            self.seed = seed
            self.long = long
            self.nodes = nodes
            self.durationMs = durationMs
            self.clients = clients
            self.keys = keys
            self.executable = executable
            self.environment = environment
        }
    }

    public static let replicas = 2

    let options: Options
    /// Where progress lines go as they happen (the CLI prints and flushes).
    let say: @Sendable (String) -> Void

    public init(options: Options, say: @escaping @Sendable (String) -> Void) {
        self.options = options
        self.say = say
    }

    /// The schedule this run's options give, checked before anything starts.
    public func schedule() throws(FaultSchedule.PlanError) -> FaultSchedule {
        let ids = (1...max(options.listedNodes, 1)).map { "n\($0)" }
        var plan = FaultSchedule.Plan(
            seed: options.seed, initialNodes: Array(ids.prefix(options.nodes)), spareNodes: Array(ids.dropFirst(options.nodes)),
            durationMs: options.durationMs, long: options.long, keyCount: options.keys)
        plan.injectsFaults = options.injectsFaults
        return try FaultSchedule(plan)
    }

    public func run() async throws -> ChaosReport {
        guard (3...options.listedNodes).contains(options.nodes) else {
            throw ChaosError("--nodes: between 3 and \(options.listedNodes) nodes can start, got \(options.nodes)")
        }
        guard options.clients > 0 else { throw ChaosError("--clients: at least 1, got \(options.clients)") }
        let schedule: FaultSchedule
        do { schedule = try self.schedule() } catch { throw ChaosError(error.description) }
        let workload = ChaosWorkload(keyCount: options.keys)
        say("chaos: seed \(options.seed), \(options.long ? "long" : "short") form: \(options.nodes) of \(options.listedNodes) listed nodes, "
            + "replicas \(Self.replicas), \(Self.seconds(options.durationMs)) s of load, \(options.clients) clients on \(options.keys) keys")
        if schedule.faults.isEmpty { say("  no faults: a control run") }
        for planned in schedule.faults {
            say("  planned at +\(Self.seconds(planned.atMs)) s: \(describe(planned.fault, workload))")
        }

        let project = try ChaosProject(listedNodes: options.listedNodes, replicas: Self.replicas, workload: workload)
        say("project: \(project.directory)")
        let cluster = ChaosCluster(project: project, executable: options.executable, environment: options.environment)
        do {
            var report = try await drive(schedule, workload: workload, cluster: cluster)
            report.shutdownProblems = await stop(cluster, project, overAdmitted: report.overAdmissions > 0)
            return report
        } catch {
            // A new task: this one may be cancelled, and stopping waits.
            _ = await Task { await stop(cluster, project) }.value
            throw error
        }
    }

    /// Stops every node; keeps the project (with the node logs) when asked
    /// to, when a key was admitted over its limit, or when a node did not
    /// stop on SIGTERM, and says where.
    private func stop(_ cluster: ChaosCluster, _ project: ChaosProject, overAdmitted: Bool = false) async -> [String] {
        let problems = await cluster.stopAll()
        for problem in problems { say("shutdown: \(problem)") }
        if options.keep || overAdmitted || !problems.isEmpty {
            say("kept \(project.directory) (node logs: \(project.directory)/n*.log)")
        } else {
            project.remove()
        }
        return problems
    }

    private func drive(_ schedule: FaultSchedule, workload: ChaosWorkload, cluster: ChaosCluster) async throws -> ChaosReport {
        try await cluster.project.initCertificates(executable: options.executable)
        let initial = schedule.plan.initialNodes
        for id in initial { try await cluster.launch(id) }
        for id in initial { try await cluster.waitHealthy(id, members: initial.count, within: .seconds(90)) }
        say("cluster formed: \(initial.joined(separator: ", ")) healthy, each seeing \(initial.count) members")

        let clients = ChaosClients(view: cluster.view, workload: workload, count: options.clients, seed: options.seed,
                                   requestTimeout: .milliseconds(options.requestTimeoutMs))
        let shared = ChaosClients.Shared()
        let clock = ContinuousClock()
        let start = clock.now
        let startMs = Self.wallMs()
        let log = EventLog(start: start, say: say)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await clients.run(shared) }
            group.addTask { await watchForCrashes(cluster, log: log, until: shared) }
            do {
                for planned in schedule.faults {
                    try await clock.sleep(until: max(clock.now, start + .milliseconds(planned.atMs)))
                    try await inject(planned.fault, workload: workload, cluster: cluster, log: log)
                }
                let lastEnd = clock.now
                let end = max(start + .milliseconds(options.durationMs), lastEnd + .milliseconds(schedule.plan.tailMs))
                if end > clock.now { try await clock.sleep(until: end) }
            } catch {
                shared.stop.store(true, ordering: .relaxed)
                throw error
            }
            shared.stop.store(true, ordering: .relaxed)
            try await group.waitForAll()
        }
        let endMs = Self.wallMs()
        say("load stopped at +\(Self.seconds(endMs - startMs)) s")
        let setup = ChaosReport.Setup(seed: options.seed, long: options.long, initialNodes: options.nodes,
                                      listedNodes: options.listedNodes, replicas: Self.replicas, clients: options.clients,
                                      keys: options.keys)
        let ledger = shared.ledger.withLock { $0 }
        return ChaosReport(setup: setup, workload: workload, ledger: ledger, events: log.events, startMs: startMs, endMs: endMs,
                           unexpectedExits: log.crashes)
    }

    /// Every 200 ms until the load stops: a node process that exited with
    /// no fault stopping it is logged and taken out of the clients' view.
    private func watchForCrashes(_ cluster: ChaosCluster, log: EventLog, until shared: ChaosClients.Shared) async {
        while !shared.stop.load(ordering: .relaxed) {
            for (id, how) in await cluster.reapUnexpectedExits() {
                log.crash("\(id) \(how), and no fault of this run stopped it")
            }
            try? await Task.sleep(for: .milliseconds(200))
        }
    }

    private func inject(_ fault: Fault, workload: ChaosWorkload, cluster: ChaosCluster, log: EventLog) async throws {
        switch fault {
        case .kill(let keyIndex, let downMs):
            let key = workload.keys[keyIndex]
            let id = try await target(ownerOf: key, cluster: cluster, log: log, kind: .kill)
            try await cluster.kill9(id)
            log.record(.kill, .began, "kill -9 \(id) (owner of \(key.name)); restart in \(Self.seconds(downMs)) s")
            try await Task.sleep(for: .milliseconds(downMs))
            try await cluster.launch(id)
            log.record(.kill, .ended, "restarted \(id) on its data dir")
            let healthy = try await timed { try await cluster.waitHealthy(id) }
            log.record(.kill, .ended, "\(id) answers /health 200, \(Self.seconds(healthy)) s after its restart")
        case .freeze(let keyIndex, let frozenMs):
            let key = workload.keys[keyIndex]
            let id = try await target(ownerOf: key, cluster: cluster, log: log, kind: .freeze)
            try await cluster.freeze(id)
            log.record(.freeze, .began, "SIGSTOP \(id) (owner of \(key.name)) for \(Self.seconds(frozenMs)) s")
            try await Task.sleep(for: .milliseconds(frozenMs))
            let healthy = try await timed { try await cluster.thaw(id) }
            log.record(.freeze, .ended, "SIGCONT \(id); /health 200 \(Self.seconds(healthy)) s later")
        case .add(let id):
            try await cluster.launch(id)
            log.record(.add, .began, "start \(id) (added; listed but not running)")
            let healthy = try await timed { try await cluster.waitHealthy(id) }
            log.record(.add, .ended, "\(id) answers /health 200, \(Self.seconds(healthy)) s after its start")
        case .remove(let id):
            guard cluster.view.state(of: id) == .live else {
                log.note("not removing \(id): it is \(cluster.view.state(of: id).rawValue)")
                return
            }
            log.record(.remove, .began, "SIGTERM \(id) (removed: a graceful leave)")
            var outcome = NodeProcess.StopOutcome.killed
            let exited = try await timed { outcome = try await cluster.remove(id) }
            switch outcome {
            case .exited(let how): log.record(.remove, .ended, "\(id) \(how), \(Self.seconds(exited)) s after SIGTERM")
            case .killed: log.record(.remove, .ended, "\(id) did not exit within 20 s of SIGTERM: SIGKILLed")
            case .stillRunning: throw ChaosError("node \(id) was still running 30 s after SIGKILL")
            }
        }
    }

    /// The live owner of `key`; if the ring names a node that is not live
    /// (a view not yet updated), the first live node instead, said so in the log.
    private func target(ownerOf key: ChaosWorkload.Key, cluster: ChaosCluster, log: EventLog,
                        kind: Fault.Kind) async throws -> String {
        let owner = try await cluster.owner(of: key.name, rule: key.rule)
        if cluster.view.state(of: owner) == .live { return owner }
        guard let fallback = cluster.view.live().first?.id else { throw ChaosError("no live node to \(kind.rawValue)") }
        log.note("the ring names \(owner) as the owner of \(key.name) but it is \(cluster.view.state(of: owner).rawValue); taking \(fallback)")
        return fallback
    }

    private func describe(_ fault: Fault, _ workload: ChaosWorkload) -> String {
        switch fault {
        case .kill(let key, let down): "kill -9 the owner of \(workload.keys[key].name), restart after \(Self.seconds(down)) s"
        case .freeze(let key, let frozen): "SIGSTOP the owner of \(workload.keys[key].name) for \(Self.seconds(frozen)) s"
        case .add(let node): "start \(node)"
        case .remove(let node): "SIGTERM \(node)"
        }
    }

    /// Milliseconds `body` took.
    private func timed(_ body: () async throws -> Void) async throws -> Int64 {
        let clock = ContinuousClock()
        let start = clock.now
        try await body()
        let elapsed = clock.now - start
        return elapsed.components.seconds * 1000 + elapsed.components.attoseconds / 1_000_000_000_000_000
    }

    static func wallMs() -> Int64 {
        Int64((Date().timeIntervalSince1970 * 1000).rounded(.down))
    }

    static func seconds(_ ms: Int64) -> String {
        let tenths = (ms + 50) / 100
        return "\(tenths / 10).\(tenths % 10)"
    }
}

/// The fault events as they happen, each printed at once with its time;
/// shared by the driver and the crash watcher.
private final class EventLog: Sendable {
    private struct Entries {
        var events: [FaultEvent] = []
        var crashes: [String] = []
    }

    let start: ContinuousClock.Instant
    let say: @Sendable (String) -> Void
    private let entries = Mutex(Entries())

    init(start: ContinuousClock.Instant, say: @escaping @Sendable (String) -> Void) {
        self.start = start
        self.say = say
    }

    var events: [FaultEvent] { entries.withLock { $0.events } }
    var crashes: [String] { entries.withLock { $0.crashes } }

    private var nowMs: Int64 {
        let elapsed = ContinuousClock.now - start
        return elapsed.components.seconds * 1000 + elapsed.components.attoseconds / 1_000_000_000_000_000
    }

    func record(_ kind: Fault.Kind, _ phase: FaultEvent.Phase, _ text: String) {
        let event = FaultEvent(atMs: nowMs, kind: kind, phase: phase, text: text)
        entries.withLock { $0.events.append(event) }
        say(event.line)
    }

    func crash(_ text: String) {
        let line = "[\(ChaosReport.clock(nowMs))] \(text)"
        entries.withLock { $0.crashes.append(line) }
        say(line)
    }

    func note(_ text: String) {
        say("[\(String(repeating: " ", count: 8))] \(text)")
    }
}
