import Config
import LimiterCore
import Logging
import Membership
import NIOCore
import NIOPosix
import PeerTransport
import Placement
import ServiceLifecycle
import Synchronization

/// A node's place in the cluster: the mutual-TLS peer endpoint, SWIM
/// membership, the agreed-placement view over the alive nodes, and
/// forwarding of checks to their owners (DESIGN §6).
final class ClusterNode: OwnerLookup, ClusterStatus {
    let nodeID: String
    let peer: PeerService
    let shell: MembershipShell
    let forwarder: Forwarder
    let engine: LimiterEngine
    let versions: RuleVersions
    let deployments: NodeDeployments
    let view: ClusterView
    /// Copies admitted hits to replicas; nil in single-copy mode (`replicas = 1`).
    let replicator: Replicator?
    let importer = Importer()
    /// Set once shutdown began handing this node's keys off: it decides nothing more.
    let leaving = Atomic<Bool>(false)
    /// Copies of each admitted hit, the decider's included (`replicas`).
    let replicas: Int
    private let replies = ReplyCache()
    private let rejections: PeerRejectionMetrics
    let logger: Logger

    var services: [any Service] {
        [PeerServiceRunner(peer: peer), shell, DeploymentSync(node: self, peer: peer, deployments: deployments, logger: logger),
         ReplicationService(node: self)]
    }

    /// A cluster node when the topology lists more than this node; nil for
    /// a node running alone, which needs no certificates or peer port.
    static func make(config: ResolvedConfig, spec: NodeSpec, engine: LimiterEngine, deployments: NodeDeployments,
                     group: any EventLoopGroup, logger: Logger) async throws -> ClusterNode? {
        guard let topology = config.topology, topology.nodes.count > 1 || topology.coordinator != nil else { return nil }
        let tls: PeerTLS
        do {
            tls = try PeerTLS(certsDirectory: topology.certsDir, environment: config.environment, nodeID: spec.id)
        } catch {
            throw NodeError(code: "certificates", message:
                "node \(spec.id): \(error.message) (make them with `ratelimit certs init --env \(config.environment)`)")
        }
        let node = ClusterNode(config: config, topology: topology, spec: spec, engine: engine, deployments: deployments,
                               tls: tls, group: group, logger: logger)
        do {
            _ = try await node.peer.bind()
        } catch {
            throw NodeError(code: "bind_failed", message: "cannot listen on peer port \(spec.host):\(spec.peerPort) for node \(spec.id): \(error.message)")
        }
        return node
    }

    private init(config: ResolvedConfig, topology: ClusterTopology, spec: NodeSpec, engine: LimiterEngine,
                 deployments: NodeDeployments, tls: PeerTLS, group: any EventLoopGroup, logger: Logger) {
        nodeID = spec.id
        self.engine = engine
        self.deployments = deployments
        let versions = deployments.versions
        self.versions = versions
        self.logger = logger
        let view = ClusterView(selfID: spec.id, topology: topology, logger: logger)
        self.view = view
        replicas = topology.replicas
        let inbox = PeerInbox()
        let rejections = PeerRejectionMetrics(registry: versions.metrics.registry, node: spec.id)
        self.rejections = rejections
        peer = PeerService(localID: spec.id, environment: config.environment, host: spec.host, port: spec.peerPort, tls: tls,
                           responder: { from, payload, reply in inbox.handle(from: from, payload: payload, reply: reply) },
                           onRejected: { rejections.record($0) }, logger: logger, eventLoopGroup: group)
        let myself = MemberMetadata(id: spec.id, peerAddress: HostPort(host: spec.host, port: spec.peerPort),
                                    httpAddress: HostPort(host: spec.host, port: spec.httpPort), build: BuildInfo.version)
        var seeds = topology.nodes.filter { $0.id != spec.id }.map { node in
            MemberMetadata(id: node.id, peerAddress: HostPort(host: node.host, port: node.peerPort),
                           httpAddress: HostPort(host: node.host, port: node.httpPort), build: BuildInfo.version)
        }
        if let coordinator = topology.coordinator {
            seeds.append(MemberMetadata(id: "coordinator", peerAddress: HostPort(host: coordinator.host, port: coordinator.peerPort),
                                        httpAddress: HostPort(host: coordinator.host, port: coordinator.httpPort),
                                        build: BuildInfo.version, role: .coordinator))
        }
        // A restarted node must outrank its own earlier life in everyone's
        // view (SWIM refutation), so its incarnation starts at the wall
        // clock; protocol timeouts use the monotonic clock (MembershipShell).
        let wallMs = SystemClock().nowMs()
        let instance = SWIMInstance(myself: myself, incarnation: Incarnation(wallMs),
                                    randomSeed: UInt64(truncatingIfNeeded: wallMs) ^ StableHash.hash64(spec.id))
        let metrics = versions.metrics
        shell = MembershipShell(instance: instance, seeds: seeds, peer: peer, eventLoop: group.next(), logger: logger) { update in
            view.update(update)
            var counts: [String: Int] = [:]
            for member in update.members { counts[member.status.name, default: 0] += 1 }
            metrics.setMembers(counts)
        }
        var forwarding = Forwarder.Settings()
        forwarding.window = .microseconds(topology.forwardWindowMicros)
        forwarder = Forwarder(peer: peer, settings: forwarding, eventLoops: group, registry: versions.metrics.registry,
                              node: spec.id, logger: logger, addressOf: { view.address(of: $0) }, epoch: { view.current.epoch })
        let replicator = topology.replicas >= 2
            ? Replicator(nodeID: spec.id, peer: peer, registry: versions.metrics.registry, logger: logger,
                         addressOf: { view.address(of: $0) }, view: { view.current })
            : nil
        self.replicator = replicator
        let importer = importer
        if let replicator {
            engine.replicas.withLock { $0 = replicator }
            let previous = Mutex<Set<String>>([])
            view.onChange { [engine] placement in
                // A new ring changes who should hold which copies.
                replicator.markForResync(placement.ring.nodes.filter { $0 != spec.id })
                let now = Set(placement.ring.nodes)
                let before = previous.withLock { previous in
                    defer { previous = now }
                    return previous
                }
                // A node that left the ring has its keys decided elsewhere
                // meanwhile: its copies are refused until it imports.
                let left = before.subtracting(now)
                if !left.isEmpty { engine.fence(left) }
            }
        }
        engine.onFenced.withLock { $0 = { by in
            logger.warning("a replica refused this node's copy; importing before deciding again", metadata: ["replica": "\(by)"])
            importer.request()
        } }
        inbox.attach(self)
    }

    // MARK: OwnerLookup, ClusterStatus

    var placementView: PlacementView { view.current }

    var serving: ClusterServing {
        let view = view.current
        let reason: String? = if !view.isSettled {
            "joining: no full membership exchange with a peer yet, so placement is not agreed"
        } else if importer.isImporting {
            "importing: taking the counters of its keys from its peers before deciding them"
        } else {
            nil
        }
        return ClusterServing(members: view.memberCount, notServingReason: reason)
    }

    /// Whether this node may decide keys now (no import running).
    var isDeciding: Bool { !importer.isImporting && !leaving.load(ordering: .relaxed) }

    var failoverEnabled: Bool { replicas >= 2 }

    func members() -> [MemberSummary] {
        let ring = view.current.ring
        return shell.members.map { member in
            MemberSummary(id: member.id, address: member.metadata.peerAddress.description,
                          httpAddress: member.metadata.httpAddress.description, status: member.status.name,
                          incarnation: member.incarnation, build: member.metadata.build,
                          role: member.metadata.role.description,
                          ringShare: ring.contains(member.id) ? ring.share(of: member.id) : 0)
        }
    }

    func placement(namespace: String, key: String, replicas: Int) -> [String] {
        view.current.replicas(namespace: namespace, key: key, count: max(1, replicas))
    }

    // MARK: Inbound

    /// A peer's message, on its connection's event loop.
    func handle(from sender: String, payload: ByteBuffer, reply: PeerReply) {
        let message: PeerMessage
        do {
            message = try PeerMessage(decoding: payload)
        } catch {
            rejections.record(.malformedMessage)
            logger.warning("dropping malformed peer message", metadata: ["from": "\(sender)", "error": "\(error)"])
            return reply(PeerMessage.problem(status: 400, code: "malformed-peer-message", detail: "\(error)").buffer)
        }
        switch message {
        case .swim(let swim):
            shell.receive(swim, from: sender)
            reply(nil)
        case .checkBatch(let batch):
            let key = ReplyCache.Key(sender: sender, requestID: batch.requestID)
            guard replies.begin(key, reply: reply) else { return rejections.record(.replayed) }
            decideForwarded(batch) { [replies] answer in
                let buffer = answer.buffer
                reply(buffer)
                replies.finish(key, answer: buffer)
            }
        case .deploymentPush(let state):
            // Persisting blocks on the store: off the event loop.
            let deployments = deployments
            NIOThreadPool.singleton.submit { work in
                guard case .active = work else {
                    return reply(PeerMessage.problem(status: 503, code: "shutting-down", detail: "\(self.nodeID) is stopping").buffer)
                }
                do throws(NodeError) {
                    let served = try deployments.apply(state, at: SystemClock().nowMs())
                    reply(PeerMessage.deploymentStatus(served).buffer)
                } catch {
                    reply(PeerMessage.problem(status: 500, code: error.code, detail: error.message).buffer)
                }
            }
        case .deploymentPull(let epoch):
            let current = deployments.current
            reply((current.deployment.epoch > epoch ? PeerMessage.deploymentPush(current) : .deploymentStatus(current.deployment)).buffer)
        case .replicate(let batch):
            handleCopy(batch, from: sender, reply: reply)
        case .pull(let nodes, let after):
            handlePull(nodes: nodes, after: after, from: sender, reply: reply)
        case .checkResults, .problem, .deploymentStatus, .replicated, .pulled:
            rejections.record(.malformedMessage)
            reply(PeerMessage.problem(status: 400, code: "unexpected-peer-message", detail: "not a request").buffer)
        case .unsupported(let type, let version):
            reply(PeerMessage.problem(status: 501, code: "unsupported-peer-message",
                                      detail: "\(nodeID) does not know message type \(type) of protocol version \(version)").buffer)
        }
    }

    /// Decides the forwarded checks this node owns under its own view, and
    /// disowns the rest. They are validated again: a peer is authenticated,
    /// not infallible.
    private func decideForwarded(_ batch: ForwardedBatch, completion: @escaping @Sendable (PeerMessage) -> Void) {
        let placement = view.current
        var items = [ForwardedResults.Item?](repeating: nil, count: batch.checks.count)
        var decide: [LimiterEngine.ResolvedCheck] = []
        var decideIndices: [Int] = []
        decide.reserveCapacity(batch.checks.count)
        decideIndices.reserveCapacity(batch.checks.count)
        // The checks of a batch mostly share a version and a rule: each is
        // looked up again only when it differs from the previous check's.
        var versionLookup: (name: String, found: InstalledVersion?)?
        var ruleLookup: (name: String, found: Rule?)?
        for index in batch.checks.indices {
            // Read in place, field by field: a copy of the whole check would
            // retain every string it holds.
            let request = batch.checks[index].request
            if versionLookup?.name != batch.checks[index].version {
                let version = batch.checks[index].version
                versionLookup = (version, versions.installed(version))
                ruleLookup = nil
            }
            guard let version = versionLookup?.found else {
                items[index] = .refused(status: 503, code: "version-not-installed",
                                        detail: "rule-set version \(batch.checks[index].version) is not installed on \(nodeID) yet")
                continue
            }
            if ruleLookup?.name != request.rule { ruleLookup = (request.rule, version.ruleSet.rules[request.rule]) }
            guard let rule = ruleLookup?.found else {
                items[index] = .refused(status: 422, code: "unknown-rule",
                                        detail: "rule \"\(request.rule)\" is not in version \(batch.checks[index].version) on \(nodeID)")
                continue
            }
            guard !request.key.isEmpty, request.key.utf8.count <= CheckRequest.maxKeyBytes else {
                items[index] = .refused(status: 422, code: "invalid-field", detail: "key: must be 1 to \(CheckRequest.maxKeyBytes) bytes")
                continue
            }
            let verdict: PlacementView.FailoverVerdict
            if batch.checks[index].unreachable.isEmpty || replicas < 2 {
                switch placement.accept(namespace: rule.namespaceID, key: request.key, senderEpoch: batch.epoch) {
                case .decide: verdict = .decide(standingInFor: [])
                case .notMine(let owner, let epoch): verdict = .notMine(owner: owner, epoch: epoch)
                }
            } else {
                verdict = placement.acceptFailover(namespace: rule.namespaceID, key: request.key,
                                                   unreachable: batch.checks[index].unreachable)
            }
            switch verdict {
            case .decide(let standingInFor):
                guard isDeciding else {
                    items[index] = leaving.load(ordering: .relaxed)
                        ? .refused(status: 503, code: "shutting-down", detail: "\(nodeID) is handing its keys off and stopping")
                        : .refused(status: 503, code: "owner-importing", detail: "\(nodeID) is importing the counters of its keys")
                    continue
                }
                decide.append(LimiterEngine.ResolvedCheck(request: request, rule: rule, version: batch.checks[index].version,
                                                          standingInFor: standingInFor))
                decideIndices.append(index)
            case .notMine(let owner, _):
                items[index] = .notMine(owner: owner)
            }
        }
        let decidedIndices = decideIndices
        let finish: @Sendable ([ForwardedResults.Item?], Result<[CheckResult], APIProblem>) -> Void = { items, decided in
            switch decided {
            case .failure(let problem):
                completion(.problem(status: problem.status, code: problem.code, detail: problem.detail))
            case .success(let results):
                // Every index is either refused or disowned above, or decided here.
                var answers: [ForwardedResults.Item] = []
                answers.reserveCapacity(items.count)
                var decided = 0
                for index in items.indices {
                    if decided < decidedIndices.count, decidedIndices[decided] == index {
                        answers.append(.decided(results[decided]))
                        decided += 1
                    } else {
                        answers.append(items[index]!)
                    }
                }
                completion(.checkResults(ForwardedResults(requestID: batch.requestID, epoch: placement.epoch, items: answers,
                                                           readerVersion: batch.senderVersion)))
            }
        }
        if decide.isEmpty { return finish(items, .success([])) }
        let pending = items
        // The batch is whole: when the commit thread is idle, commit it on this
        // loop and answer from here (BENCHMARKS.md, 2026-12-01 00:03 UTC). The
        // loop waits for the fsync meanwhile, as the batch's answer does anyway.
        if case .done(let result) = engine.check(decide, commitHereIfIdle: true, onCommit: { finish(pending, $0) }) {
            finish(items, result)
        }
    }
}

/// The agreed-placement view over the alive nodes and where to reach each
/// peer, replaced on every membership update in the order they happen.
final class ClusterView: Sendable {
    private let view: Mutex<PlacementView>
    private let addresses: Mutex<[String: PeerAddress]>
    /// When each node on the ring came onto it (monotonic).
    private let onRing = Mutex<[String: NIODeadline]>([:])
    private let observers = Mutex<[@Sendable (PlacementView) -> Void]>([])
    private let logger: Logger

    init(selfID: String, topology: ClusterTopology, logger: Logger) {
        view = Mutex(.unsettled(selfID: selfID))
        var known: [String: PeerAddress] = [:]
        for node in topology.nodes { known[node.id] = PeerAddress(id: node.id, host: node.host, port: node.peerPort) }
        addresses = Mutex(known)
        self.logger = logger
    }

    var current: PlacementView { view.withLock { $0 } }

    func address(of id: String) -> PeerAddress? { addresses.withLock { $0[id] } }

    /// Since when `id` has been on this node's ring; nil when it is not.
    func onRingSince(_ id: String) -> NIODeadline? { onRing.withLock { $0[id] } }

    /// Calls `observer` with every new view, after it is in place.
    func onChange(_ observer: @escaping @Sendable (PlacementView) -> Void) {
        observers.withLock { $0.append(observer) }
    }

    func update(_ update: MembershipShell.Update) {
        let nodes = update.members.filter { $0.metadata.role == .node }
        addresses.withLock { addresses in
            for member in nodes {
                addresses[member.id] = PeerAddress(id: member.id, host: member.metadata.peerAddress.host,
                                                   port: member.metadata.peerAddress.port)
            }
        }
        let alive = nodes.filter { $0.status.isAlive }.map(\.id)
        let updated = view.withLock { view in
            let next = PlacementView(selfID: view.selfID, aliveNodes: alive, settled: update.settled)
            defer { view = next }
            return next == view ? nil : next
        }
        if let updated {
            onRing.withLock { since in
                let now = NIODeadline.now()
                since = since.filter { updated.ring.contains($0.key) }
                for node in updated.ring.nodes where since[node] == nil { since[node] = now }
            }
            for observer in observers.withLock({ $0 }) { observer(updated) }
            logger.info("placement changed", metadata: [
                "epoch": "\(updated.epoch)", "settled": "\(updated.isSettled)", "nodes": "\(updated.ring.nodes.joined(separator: ","))",
            ])
        }
    }
}

/// Lets the peer responder, created before the node it calls, reach it.
final class PeerInbox: Sendable {
    private let node = Mutex<ClusterNode?>(nil)

    func attach(_ node: ClusterNode) { self.node.withLock { $0 = node } }

    func handle(from sender: String, payload: ByteBuffer, reply: PeerReply) {
        guard let node = node.withLock({ $0 }) else { return reply(nil) }
        node.handle(from: sender, payload: payload, reply: reply)
    }
}

/// Serves the peer port for the service group; shutdown closes it.
struct PeerServiceRunner: Service {
    let peer: PeerService
    func run() async throws {
        try await cancelWhenGracefulShutdown { try await peer.run() }
    }
}
