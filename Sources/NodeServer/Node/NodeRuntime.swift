import Config
import EventStore
import Foundation
import LimiterCore
import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle

/// One node process: event log, engine, HTTP API and (in a cluster) the
/// peer services, run as one `ServiceGroup` that drains on SIGTERM/SIGINT.
public final class NodeRuntime: Sendable {
    public struct Options: Sendable {
        public var nodeID: String
        public var durability: Durability = .full
        public var maintenance = MaintenanceService.Settings()
        /// How often a storage fault is retried, and the free space a full disk needs.
        public var store = StoreSupervisor.Settings()
        /// Overrides the topology's HTTP port (tests bind port 0).
        public var httpPort: Int?
        public init(nodeID: String) { self.nodeID = nodeID }
    }

    public let config: ResolvedConfig
    public let spec: NodeSpec
    public let engine: LimiterEngine
    public let versions: RuleVersions
    public let routes: NodeRoutes
    public let http: HTTPServer
    let cluster: ClusterNode?
    let services: [any Service]
    let logger: Logger

    public var httpPort: Int { http.port }

    /// Opens the store, replays it and binds the ports. Errors name the file,
    /// directory or port at fault. A store that cannot be opened or replayed
    /// does not stop the node: it serves with `/health` 503 naming the file
    /// and the error, checks follow `on_unavailable`, and the
    /// ``StoreSupervisor`` keeps reopening it. Configuration errors found in
    /// the store (class migrations that disagree with it, a binding without
    /// its class) do stop it, since retrying cannot fix them.
    public static func start(config: ResolvedConfig, options: Options, logger: Logger) async throws -> NodeRuntime {
        let spec: NodeSpec
        do {
            spec = try config.node(id: options.nodeID)
        } catch {
            throw NodeError(code: "unknown_node", message: error.message)
        }
        if let problem = options.maintenance.snapshots.problem {
            throw NodeError(code: "snapshot_settings", message: "node \(spec.id): snapshot settings: \(problem)")
        }
        let path = spec.dataDir + "/events.sqlite"
        let durability = options.durability
        let open: @Sendable () throws -> EventLog = { try openStore(config: config, path: path, durability: durability) }
        let metrics = EngineMetrics(node: spec.id)
        let policy = UnavailablePolicy(mode: config.topology?.onUnavailable ?? .deny,
                                       retryAfterMs: milliseconds(options.store.interval))
        var opened: Result<EventLog, StoreFault>
        do {
            opened = .success(try openWritable(open))
        } catch where !isConfigurationError(error) {
            opened = .failure(StoreSupervisor.fault(error, while: "cannot open the event log"))
        }
        let versions = RuleVersions(stable: RuleSet(rules: config.rules), metrics: metrics)
        let deployments: NodeDeployments
        do {
            deployments = try NodeDeployments(versions: versions, log: try? opened.get(), logger: logger)
        } catch {
            // The saved deployment could not be read (a corrupt page, say):
            // serve the configured rules until the supervisor reopens the log.
            if case .success(let log) = opened { try? log.close() }
            opened = .failure(StoreSupervisor.fault(error, while: "cannot restore the deployment from the event log"))
            deployments = try NodeDeployments(versions: versions, log: nil, logger: logger)
        }
        let engine = makeEngine(spec: spec, opened: opened, rules: versions.current.rules, policy: policy, metrics: metrics,
                                deployments: deployments, logger: logger)
        let group = MultiThreadedEventLoopGroup.singleton
        let cluster = try await ClusterNode.make(config: config, spec: spec, engine: engine, deployments: deployments,
                                                 group: group, logger: logger)
        let router = CheckRouter(engine: engine, placement: cluster, forwarder: cluster?.forwarder)
        if cluster == nil { versions.metrics.setMembers(["alive": 1]) }
        let status: any ClusterStatus = cluster ?? SoloCluster(summary: MemberSummary(
            id: spec.id, address: "\(spec.host):\(spec.peerPort)", httpAddress: "\(spec.host):\(spec.httpPort)",
            status: "alive", incarnation: 0, build: BuildInfo.version, role: "node", ringShare: 1))
        let routes = NodeRoutes(router: router, versions: versions, cluster: status, settings: .init(
            adminToken: config.runtime.adminToken ?? "", replicas: config.topology?.replicas ?? 1))
        let http: HTTPServer
        do {
            http = try await HTTPServer(host: spec.host, port: options.httpPort ?? spec.httpPort, responder: routes,
                                        group: group, logger: logger)
        } catch {
            throw NodeError(code: "bind_failed",
                            message: "cannot listen on http \(spec.host):\(options.httpPort ?? spec.httpPort) for node \(spec.id): \(error)")
        }
        var maintenance = MaintenanceService(engine: engine, prunable: { versions.current.pruneRules },
                                             replayHorizonMs: { versions.longestReplayHorizonMs },
                                             settings: options.maintenance, logger: logger)
        maintenance.metrics = versions.metrics
        let supervisor = StoreSupervisor(
            engine: engine, path: path, open: open,
            attach: { log in
                try deployments.attach(log)
                return versions.current.rules
            },
            detach: { deployments.detach() }, settings: options.store, logger: logger, metrics: metrics)
        metrics.setStoreAvailable(engine.fault == nil)
        // The supervisor stops before maintenance drains the store.
        var services: [any Service] = [maintenance, supervisor]
        if let cluster { services.append(contentsOf: cluster.services) }
        // Shutdown runs in reverse: health turns 503, the listener closes, the
        // node leaves the cluster, and the store drains last.
        services.append(http)
        services.append(DrainService(routes: routes))
        return NodeRuntime(config: config, spec: spec, engine: engine, versions: versions, routes: routes, http: http, cluster: cluster,
                           services: services, logger: logger)
    }

    private init(config: ResolvedConfig, spec: NodeSpec, engine: LimiterEngine, versions: RuleVersions, routes: NodeRoutes, http: HTTPServer,
                 cluster: ClusterNode?, services: [any Service], logger: Logger) {
        self.config = config
        self.spec = spec
        self.engine = engine
        self.versions = versions
        self.routes = routes
        self.http = http
        self.cluster = cluster
        self.services = services
        self.logger = logger
    }

    /// Serves until SIGTERM or SIGINT, then stops the listener, flushes the
    /// log and writes a final snapshot.
    public func run() async throws {
        let group = ServiceGroup(configuration: .init(
            services: services.map { .init(service: $0) },
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger
        ))
        try await group.run()
    }

    /// The engine over the opened log, or a closed one answering by
    /// `policy` when the log could not be opened or replayed.
    private static func makeEngine(spec: NodeSpec, opened: Result<EventLog, StoreFault>, rules: [String: Rule],
                                   policy: UnavailablePolicy, metrics: EngineMetrics, deployments: NodeDeployments,
                                   logger: Logger) -> LimiterEngine {
        var fault: StoreFault
        switch opened {
        case .success(let log):
            let started = ContinuousClock.now
            do {
                let engine = try LimiterEngine(nodeID: spec.id, rules: rules, log: log, clock: SystemClock(),
                                               policy: policy, metrics: metrics)
                logger.info("store replayed", metadata: [
                    "path": "\(log.path)", "keys": "\(engine.keyCount)", "elapsed": "\(ContinuousClock.now - started)",
                    "snapshot_seq": "\(engine.restoration?.snapshot.map { String($0.seq) } ?? "none")",
                    "replayed_events": "\(engine.restoration?.replayedEvents ?? 0)",
                ])
                for skipped in engine.restoration?.unreadableSnapshots ?? [] {
                    logger.error("snapshot skipped; rebuilt from an older one or from the events kept", metadata: [
                        "path": "\(log.path)", "seq": "\(skipped.seq)", "problem": "\(skipped.problem)",
                    ])
                }
                return engine
            } catch {
                deployments.detach()
                try? log.close()
                fault = StoreSupervisor.fault(error, while: "cannot replay the event log")
            }
        case .failure(let failure):
            fault = failure
        }
        logger.error("event log unavailable at start; serving with checks following on_unavailable and retrying", metadata: [
            "reason": "\(fault.reason)", "mode": "\(policy.mode.rawValue)",
        ])
        return LimiterEngine(nodeID: spec.id, clock: SystemClock(), fault: fault, policy: policy, metrics: metrics)
    }

    /// Opens the event log at `path` (creating its directory), applies the
    /// class migrations and checks every binding's class exists.
    static func openStore(config: ResolvedConfig, path: String, durability: Durability) throws -> EventLog {
        let log = try EventLog(path: path, durability: durability)
        do {
            let migrations = config.wrangler.migrations.map { migration in
                ClassMigration(tag: migration.tag, newClasses: migration.newClasses,
                               renamedClasses: migration.renamedClasses.map { .init(from: $0.from, to: $0.to) },
                               deletedClasses: migration.deletedClasses)
            }
            _ = try log.applyMigrations(migrations)
            let classes = Set(try log.classes())
            for binding in config.wrangler.durableObjectBindings where !classes.contains(binding.className) {
                throw NodeError(code: "binding_class_missing", message:
                    "durable object binding \(binding.name) uses class \(binding.className), which the store at \(log.path) does not have after migrations (has: \(classes.sorted().joined(separator: ", ")))")
            }
        } catch {
            try? log.close()
            throw error
        }
        return log
    }

    /// `open()`, then proof that the log can write (a read-only file opens
    /// for reading only, and a full disk fails only at the first commit):
    /// the node never serves from a log that cannot record.
    static func openWritable(_ open: () throws -> EventLog) throws -> EventLog {
        let log = try open()
        do {
            try log.probeWrite(at: SystemClock().nowMs())
        } catch {
            try? log.close()
            throw StoreFault(error, while: "the event log cannot write")
        }
        return log
    }

    /// Errors that retrying cannot fix: the configuration disagrees with the
    /// store. The node stops on them at start instead of serving.
    static func isConfigurationError(_ error: any Error) -> Bool {
        switch error {
        case let error as StoreError: [.migrationOrder, .migrationConflict].contains(error.code)
        case let error as NodeError: error.code == "binding_class_missing"
        default: false
        }
    }

    /// Whole milliseconds of `duration`.
    static func milliseconds(_ duration: Duration) -> Int64 {
        let (seconds, attoseconds) = duration.components
        return seconds * 1000 + attoseconds / 1_000_000_000_000_000
    }
}

/// Turns health to 503 as soon as shutdown begins (it is listed last, so it
/// is the first service the group stops).
struct DrainService: Service {
    let routes: NodeRoutes
    func run() async throws {
        try? await gracefulShutdown()
        routes.startDraining()
    }
}

/// The binary's version, reported in membership and `/admin/members`.
public enum BuildInfo {
    public static let version = "0.1.0"
}
