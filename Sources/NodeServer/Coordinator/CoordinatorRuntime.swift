import Config
import CoordinatorStore
import Foundation
import Synchronization
import Logging
import Membership
import NIOCore
import NIOPosix
import NIOSSL
import PeerTransport
import Placement
import ServiceLifecycle

/// The coordinator process (`ratelimit coordinator --env E`, DESIGN §7): its
/// journal, the HTTP admin API at the topology's `[coordinator]` address, a
/// gossip member with role `coordinator` (it owns no keys), the rollout
/// loop and the alert sender, run as one `ServiceGroup`.
public final class CoordinatorRuntime: Sendable {
    public let httpPort: Int
    public let journalPath: String
    let services: [any Service]
    let logger: Logger

    private init(httpPort: Int, journalPath: String, services: [any Service], logger: Logger) {
        self.httpPort = httpPort
        self.journalPath = journalPath
        self.services = services
        self.logger = logger
    }

    public static func start(config: ResolvedConfig, logger: Logger) async throws -> CoordinatorRuntime {
        guard let topology = config.topology, let endpoint = topology.coordinator else {
            throw NodeError(code: "no_coordinator", message: "\(config.topologyFile) has no [coordinator] table: nowhere to run the coordinator")
        }
        guard let token = config.runtime.adminToken, !token.isEmpty else {
            throw NodeError(code: "admin_token", message: "ADMIN_TOKEN is not set: the coordinator's admin API needs it (export ADMIN_TOKEN=...)")
        }
        let directory = config.baseDirectory + "/cluster/data/\(config.environment)/coordinator"
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw NodeError(code: "data_dir", message: "cannot create the coordinator's directory \(directory): \(error.localizedDescription)")
        }
        let journalPath = directory + "/journal.sqlite"
        let journal: CoordinatorJournal
        do {
            journal = try CoordinatorJournal(path: journalPath)
        } catch {
            throw NodeError(code: error.code.rawValue, message: error.message)
        }
        let tls: PeerTLS
        do {
            tls = try PeerTLS(certsDirectory: topology.certsDir, environment: config.environment, nodeID: "coordinator")
        } catch {
            throw NodeError(code: "certificates", message:
                "coordinator: \(error.message) (make them with `ratelimit certs init --env \(config.environment)`)")
        }
        let group = MultiThreadedEventLoopGroup.singleton
        let inbox = CoordinatorInbox()
        let peer = PeerService(localID: "coordinator", environment: config.environment, host: endpoint.host, port: endpoint.peerPort,
                               tls: tls, responder: { from, payload, reply in inbox.handle(from: from, payload: payload, reply: reply) },
                               logger: logger, eventLoopGroup: group)
        do {
            _ = try await peer.bind()
        } catch {
            throw NodeError(code: "bind_failed", message: "cannot listen on peer port \(endpoint.host):\(endpoint.peerPort) for the coordinator: \(error.message)")
        }
        let myself = MemberMetadata(id: "coordinator", peerAddress: HostPort(host: endpoint.host, port: endpoint.peerPort),
                                    httpAddress: HostPort(host: endpoint.host, port: endpoint.httpPort), build: BuildInfo.version,
                                    role: .coordinator)
        let seeds = topology.nodes.map { node in
            MemberMetadata(id: node.id, peerAddress: HostPort(host: node.host, port: node.peerPort),
                           httpAddress: HostPort(host: node.host, port: node.httpPort), build: BuildInfo.version)
        }
        let wallMs = SystemClock().nowMs()
        let instance = SWIMInstance(myself: myself, incarnation: Incarnation(wallMs),
                                    randomSeed: UInt64(truncatingIfNeeded: wallMs) ^ StableHash.hash64("coordinator"))
        let shell = MembershipShell(instance: instance, seeds: seeds, peer: peer, eventLoop: group.next(), logger: logger) { _ in }

        var alertTarget: AlertSender.Target?
        var alertTLS: NIOSSLContext?
        if let url = config.runtime.alertWebhookURL, !url.isEmpty {
            switch AlertSender.Target.parse(url: url, token: config.runtime.monitoringToken ?? "") {
            case .success(let target): alertTarget = target
            case .failure(let error): throw NodeError(code: "alert_webhook_url", message: error.description)
            }
            if alertTarget?.https == true {
                switch AlertSender.makeTLSContext(environment: ProcessInfo.processInfo.environment) {
                case .success(let context): alertTLS = context
                case .failure(let error): throw NodeError(code: "alert_webhook_tls", message: error.description)
                }
            }
        }
        let alerts = AlertSender(target: alertTarget, tls: alertTLS, logger: logger)
        var stagingGate: StagingGate?
        if config.environment == "production" {
            let staging: ClusterTopology?
            do {
                staging = try ConfigLoader.topology(environment: "staging", baseDirectory: config.baseDirectory)
            } catch {
                throw NodeError(code: "staging_topology", message: error.problems.map(\.message).joined(separator: "; "))
            }
            guard let stagingCoordinator = staging?.coordinator else {
                throw NodeError(code: "staging_topology", message:
                    "production deploys ask the staging coordinator, but cluster/staging.toml has no [coordinator]")
            }
            stagingGate = StagingGate(host: stagingCoordinator.host, port: stagingCoordinator.httpPort, token: token)
        }
        let pusher = DeploymentPusher(peer: peer, nodes: topology.nodes.map { PeerAddress(id: $0.id, host: $0.host, port: $0.peerPort) })
        let coordinator: Coordinator
        do {
            coordinator = try Coordinator(config: config, journal: journal, pusher: pusher, alerts: alerts, stagingGate: stagingGate,
                                          members: { shell.members }, logger: logger)
        } catch let error as JournalError {
            throw NodeError(code: error.code.rawValue, message: error.message)
        }
        inbox.attach(coordinator: coordinator, shell: shell)
        let routes = CoordinatorRoutes(coordinator: coordinator, adminToken: token, environment: config.environment)
        let http: HTTPServer
        do {
            http = try await HTTPServer(host: endpoint.host, port: endpoint.httpPort, responder: routes, group: group, logger: logger)
        } catch {
            throw NodeError(code: "bind_failed", message: "cannot listen on http \(endpoint.host):\(endpoint.httpPort) for the coordinator: \(error)")
        }
        let loop = RolloutLoop(coordinator: coordinator, interval: .seconds(config.monitoring.scrapeIntervalSeconds))
        return CoordinatorRuntime(httpPort: http.port, journalPath: journalPath,
                                  services: [PeerServiceRunner(peer: peer), shell, alerts, loop, http], logger: logger)
    }

    /// Serves until SIGTERM or SIGINT.
    public func run() async throws {
        let group = ServiceGroup(configuration: .init(
            services: services.map { .init(service: $0) },
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger
        ))
        try await group.run()
    }
}

/// Resumes a journalled rollout, then evaluates every scrape interval.
struct RolloutLoop: Service {
    let coordinator: Coordinator
    let interval: Duration

    func run() async throws {
        try? await cancelWhenGracefulShutdown {
            await coordinator.resume()
            while true {
                // Every scrape interval, and at the end of a rollout step, so a
                // step is judged when its hold ends rather than at the next scrape.
                try await Task.sleep(for: await coordinator.nextTick(interval: interval))
                await coordinator.tick()
            }
        }
    }
}

/// The coordinator's peer endpoint: membership gossip, and deployment pulls
/// from nodes that are behind.
final class CoordinatorInbox: Sendable {
    private struct Parts {
        var coordinator: Coordinator
        var shell: MembershipShell
    }

    private let parts = Mutex<Parts?>(nil)

    func attach(coordinator: Coordinator, shell: MembershipShell) {
        parts.withLock { $0 = Parts(coordinator: coordinator, shell: shell) }
    }

    func handle(from sender: String, payload: ByteBuffer, reply: PeerReply) {
        guard let parts = parts.withLock({ $0 }) else { return reply(nil) }
        switch try? PeerMessage(decoding: payload) {
        case .swim(let message)?:
            parts.shell.receive(message, from: sender)
            reply(nil)
        case .deploymentPull(let epoch)?:
            let current = parts.coordinator.published.withLock { $0 }
            reply((current.deployment.epoch > epoch ? PeerMessage.deploymentPush(current) : .deploymentStatus(current.deployment)).buffer)
        default:
            reply(PeerMessage.problem(status: 400, code: "unexpected-peer-message", detail: "the coordinator answers gossip and pulls only").buffer)
        }
    }
}
