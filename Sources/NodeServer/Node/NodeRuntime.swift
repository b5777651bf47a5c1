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
    /// directory or port at fault.
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
        let log = try openStore(config: config, spec: spec, durability: options.durability)
        let versions = RuleVersions(node: spec.id, stable: RuleSet(rules: config.rules), metrics: EngineMetrics(node: spec.id))
        let deployments = try NodeDeployments(versions: versions, log: log, logger: logger)
        let started = ContinuousClock.now
        let engine = try LimiterEngine(nodeID: spec.id, rules: versions.current.rules, log: log, clock: SystemClock())
        logger.info("store replayed", metadata: [
            "path": "\(log.path)", "keys": "\(engine.keyCount)", "elapsed": "\(ContinuousClock.now - started)",
            "snapshot_seq": "\(engine.restoration.snapshot.map { String($0.seq) } ?? "none")",
            "replayed_events": "\(engine.restoration.replayedEvents)",
        ])
        for skipped in engine.restoration.unreadableSnapshots {
            logger.error("snapshot skipped; rebuilt from an older one or from the events kept", metadata: [
                "path": "\(log.path)", "seq": "\(skipped.seq)", "problem": "\(skipped.problem)",
            ])
        }
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
        var services: [any Service] = [maintenance]
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

    static func openStore(config: ResolvedConfig, spec: NodeSpec, durability: Durability) throws -> EventLog {
        do {
            try FileManager.default.createDirectory(atPath: spec.dataDir, withIntermediateDirectories: true)
        } catch {
            throw NodeError(code: "data_dir", message: "cannot create data_dir \(spec.dataDir) of node \(spec.id): \(error.localizedDescription)")
        }
        let log = try EventLog(path: spec.dataDir + "/events.sqlite", durability: durability)
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
        return log
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
