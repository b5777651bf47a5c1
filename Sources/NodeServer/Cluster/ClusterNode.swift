import Config
import Logging
import Membership
import NIOCore
import PeerTransport
import Placement
import ServiceLifecycle
import Synchronization

/// A node's place in the cluster: the mutual-TLS peer endpoint, SWIM
/// membership, the hash ring over the active nodes, and forwarding of
/// checks to their owners (DESIGN §6).
final class ClusterNode: OwnerLookup, CheckForwarding, ClusterStatus {
    let nodeID: String
    let peer: PeerService
    let queue: WorkQueue
    let shell: MembershipShell
    let forwarder: Forwarder
    private let engine: LimiterEngine
    private let view: ClusterView
    private let logger: Logger

    var services: [any Service] { [queue, PeerServiceRunner(peer: peer), shell] }

    /// A cluster node when the topology lists more than this node; nil for
    /// a node running alone, which needs no certificates or peer port.
    static func make(config: ResolvedConfig, spec: NodeSpec, engine: LimiterEngine, group: any EventLoopGroup,
                     logger: Logger) async throws -> ClusterNode? {
        guard let topology = config.topology, topology.nodes.count > 1 else { return nil }
        let tls: PeerTLS
        do {
            tls = try PeerTLS(certsDirectory: topology.certsDir, environment: config.environment, nodeID: spec.id)
        } catch {
            throw NodeError(code: "certificates", message:
                "node \(spec.id): \(error.message) (make them with `ratelimit certs init --env \(config.environment)`)")
        }
        let node = ClusterNode(config: config, topology: topology, spec: spec, engine: engine, tls: tls, group: group, logger: logger)
        do {
            _ = try await node.peer.bind()
        } catch {
            throw NodeError(code: "bind_failed", message: "cannot listen on peer port \(spec.host):\(spec.peerPort) for node \(spec.id): \(error.message)")
        }
        return node
    }

    private init(config: ResolvedConfig, topology: ClusterTopology, spec: NodeSpec, engine: LimiterEngine, tls: PeerTLS,
                 group: any EventLoopGroup, logger: Logger) {
        nodeID = spec.id
        self.engine = engine
        self.logger = logger
        let view = ClusterView(selfID: spec.id, topology: topology, logger: logger)
        self.view = view
        queue = WorkQueue()
        let inbox = PeerInbox()
        peer = PeerService(localID: spec.id, environment: config.environment, host: spec.host, port: spec.peerPort, tls: tls,
                           handler: { from, payload in await inbox.handle(from: from, payload: payload) },
                           logger: logger, eventLoopGroup: group)
        let myself = MemberMetadata(id: spec.id, peerAddress: HostPort(host: spec.host, port: spec.peerPort),
                                    httpAddress: HostPort(host: spec.host, port: spec.httpPort), build: BuildInfo.version)
        let seeds = topology.nodes.filter { $0.id != spec.id }.map { node in
            MemberMetadata(id: node.id, peerAddress: HostPort(host: node.host, port: node.peerPort),
                           httpAddress: HostPort(host: node.host, port: node.httpPort), build: BuildInfo.version)
        }
        // A restarted node must outrank its own earlier life in everyone's
        // view (SWIM refutation), so its incarnation starts at the clock.
        let clock = SystemClock()
        let instance = SWIMInstance(myself: myself, incarnation: Incarnation(clock.nowMs()),
                                    randomSeed: UInt64(truncatingIfNeeded: clock.nowMs()) ^ StableHash.hash64(spec.id))
        shell = MembershipShell(instance: instance, seeds: seeds, peer: peer, queue: queue, clock: clock, logger: logger) { active in
            view.update(active: active)
        }
        forwarder = Forwarder(peer: peer, registry: engine.metrics.registry, node: spec.id, logger: logger) { id in
            view.address(of: id)
        }
        inbox.attach(self)
    }

    // MARK: OwnerLookup, CheckForwarding

    func owner(namespace: String, key: String) -> String? {
        view.ring.withLock { $0.owner(namespace: namespace, key: key) }
    }

    func forward(_ requests: [CheckRequest], to owner: String,
                 completion: @escaping @Sendable (Result<[CheckResult], APIProblem>) -> Void) {
        forwarder.forward(requests, to: owner, completion: completion)
    }

    // MARK: ClusterStatus

    func members() -> [MemberSummary] {
        let ring = view.ring.withLock { $0 }
        return shell.members.map { member in
            MemberSummary(id: member.id, address: member.metadata.peerAddress.description,
                          httpAddress: member.metadata.httpAddress.description, status: member.status.name,
                          incarnation: member.incarnation, build: member.metadata.build,
                          role: member.metadata.role.description,
                          ringShare: ring.contains(member.id) ? ring.share(of: member.id) : 0)
        }
    }

    func placement(namespace: String, key: String, replicas: Int) -> [String] {
        view.ring.withLock { $0.replicas(namespace: namespace, key: key, count: max(1, replicas)) }
    }

    // MARK: Inbound

    func handle(from sender: String, payload: ByteBuffer) async -> ByteBuffer? {
        let message: PeerMessage
        do {
            message = try PeerMessage(decoding: payload)
        } catch {
            logger.warning("dropping malformed peer message", metadata: ["from": "\(sender)", "error": "\(error)"])
            return PeerMessage.problem(status: 400, code: "malformed-peer-message", detail: "\(error)").buffer
        }
        switch message {
        case .swim(let bytes):
            shell.receive(bytes, from: sender)
            return nil
        case .checkBatch(let requests):
            return await decideForwarded(requests).buffer
        case .checkResults, .problem:
            return PeerMessage.problem(status: 400, code: "unexpected-peer-message", detail: "not a request").buffer
        }
    }

    /// Decides checks another node forwarded because this node owns them.
    /// They are validated again: a peer is authenticated, not infallible.
    private func decideForwarded(_ requests: [CheckRequest]) async -> PeerMessage {
        let rules = engine.ruleSet.rules
        for request in requests {
            if rules[request.rule] == nil {
                return .problem(status: 422, code: "unknown-rule", detail: "rule \"\(request.rule)\" is not configured on \(nodeID)")
            }
            if request.key.isEmpty || request.key.utf8.count > CheckRequest.maxKeyBytes {
                return .problem(status: 422, code: "invalid-field", detail: "key: must be 1 to \(CheckRequest.maxKeyBytes) bytes")
            }
        }
        let result: Result<[CheckResult], APIProblem> = await withCheckedContinuation { continuation in
            let outcome = engine.check(requests) { continuation.resume(returning: $0) }
            if case .done(let result) = outcome { continuation.resume(returning: result) }
        }
        switch result {
        case .success(let results): return .checkResults(results)
        case .failure(let problem): return .problem(status: problem.status, code: problem.code, detail: problem.detail)
        }
    }
}

/// The ring over the active nodes and where to reach each peer, rebuilt
/// whenever membership reachability changes.
final class ClusterView: Sendable {
    let ring: Mutex<HashRing>
    private let addresses: Mutex<[String: PeerAddress]>
    private let logger: Logger

    init(selfID: String, topology: ClusterTopology, logger: Logger) {
        ring = Mutex(HashRing(nodes: [selfID]))
        var known: [String: PeerAddress] = [:]
        for node in topology.nodes { known[node.id] = PeerAddress(id: node.id, host: node.host, port: node.peerPort) }
        addresses = Mutex(known)
        self.logger = logger
    }

    func address(of id: String) -> PeerAddress? { addresses.withLock { $0[id] } }

    func update(active: [Member]) {
        let nodes = active.filter { $0.metadata.role == .node }
        addresses.withLock { addresses in
            for member in nodes {
                addresses[member.id] = PeerAddress(id: member.id, host: member.metadata.peerAddress.host,
                                                   port: member.metadata.peerAddress.port)
            }
        }
        let updated = HashRing(nodes: nodes.map(\.id))
        let changed = ring.withLock { ring in
            defer { ring = updated }
            return ring.nodes != updated.nodes
        }
        if changed { logger.info("ring changed", metadata: ["nodes": "\(updated.nodes.joined(separator: ","))"]) }
    }
}

/// Lets the peer handler, created before the node it calls, reach it.
final class PeerInbox: Sendable {
    private let node = Mutex<ClusterNode?>(nil)

    func attach(_ node: ClusterNode) { self.node.withLock { $0 = node } }

    func handle(from sender: String, payload: ByteBuffer) async -> ByteBuffer? {
        guard let node = node.withLock({ $0 }) else { return nil }
        return await node.handle(from: sender, payload: payload)
    }
}

/// Serves the peer port for the service group; shutdown closes it.
struct PeerServiceRunner: Service {
    let peer: PeerService
    func run() async throws {
        try await cancelWhenGracefulShutdown { try await peer.run() }
    }
}
