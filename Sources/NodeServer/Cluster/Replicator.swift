import Logging
import NIOCore
import PeerTransport
import Placement
import Prometheus
import Synchronization

/// Sends copies of admitted hits to their replicas (DESIGN §6, `replicas = 2`),
/// batched per replica like the forwarder: one batch in flight per replica,
/// everything that arrives meanwhile leaves together as the next one, so a
/// replica commits in the order copies were made.
///
/// A replica that cannot be reached (refused, closed, timed out) is skipped
/// for a while and its copies go to the next candidate on the ring, the node
/// that replaces it when membership drops it; the skipped replica is marked
/// for a resync, which sends it the current state of every counter it should
/// hold once it answers again.
final class Replicator: ReplicaSink {
    struct Settings: Sendable {
        var timeout: Duration = .milliseconds(500)
        /// How long a replica that failed is passed over.
        var downFor: Duration = .seconds(1)
        var maxBatchEvents = 2000
    }

    typealias Completion = @Sendable (CopyOutcome) -> Void

    private struct Item {
        var copy: ReplicaCopy
        var remaining: [String]
        var completion: Completion
    }

    private struct Lane {
        var pending: [Item] = []
        var inFlight = false
    }

    private struct State {
        var lanes: [String: Lane] = [:]
        var downUntil: [String: NIODeadline] = [:]
        var needsResync: Set<String> = []
    }

    private let state = Mutex(State())
    private let nextRequestID = Atomic<UInt64>(1)
    private let nodeID: String
    private let peer: PeerService
    private let settings: Settings
    private let logger: Logger
    private let addressOf: @Sendable (String) -> PeerAddress?
    private let view: @Sendable () -> PlacementView
    private let batches: Prometheus.Counter
    private let copiedEvents: Prometheus.Counter
    private let failovers: Prometheus.Counter
    let lag: Prometheus.Gauge

    init(nodeID: String, peer: PeerService, settings: Settings = Settings(), registry: PrometheusCollectorRegistry,
         logger: Logger, addressOf: @escaping @Sendable (String) -> PeerAddress?, view: @escaping @Sendable () -> PlacementView) {
        self.nodeID = nodeID
        self.peer = peer
        self.settings = settings
        self.logger = logger
        self.addressOf = addressOf
        self.view = view
        batches = registry.makeCounter(
            descriptor: MetricNameDescriptor(namespace: "rate_limit", metricName: "replication_batches", unitName: "total",
                                             helpText: "Batches of admitted hits copied to replicas"),
            labels: [("node", nodeID)])
        copiedEvents = registry.makeCounter(
            descriptor: MetricNameDescriptor(namespace: "rate_limit", metricName: "replicated_events", unitName: "total",
                                             helpText: "Admitted hits copied to a replica and committed there"),
            labels: [("node", nodeID)])
        failovers = registry.makeCounter(
            descriptor: MetricNameDescriptor(namespace: "rate_limit", metricName: "replica_failovers", unitName: "total",
                                             helpText: "Copies sent to the next candidate because a replica was unreachable"),
            labels: [("node", nodeID)])
        lag = registry.makeGauge(
            descriptor: MetricNameDescriptor(namespace: "rate_limit", metricName: "replication_lag", unitName: "seconds",
                                             helpText: "Time from sending the latest batch of copies to its replica until the replica answered"),
            labels: [("node", nodeID)])
    }

    // MARK: ReplicaSink

    func candidates(namespace: String, key: String, skipping: [String]) -> [String] {
        let ring = view().ring
        var nodes = ring.replicas(namespace: namespace, key: key, count: ring.nodes.count)
        nodes.removeAll { $0 == nodeID || skipping.contains($0) }
        return nodes
    }

    func send(_ copy: ReplicaCopy, to candidates: [String], completion: @escaping Completion) {
        enqueue(Item(copy: copy, remaining: candidates, completion: completion))
    }

    /// Replicas that missed copies and need a resync.
    func takeResyncTargets() -> Set<String> {
        state.withLock { state in
            let now = NIODeadline.now()
            let ready = state.needsResync.filter { (state.downUntil[$0] ?? .distantPast) <= now }
            state.needsResync.subtract(ready)
            return ready
        }
    }

    /// Marks `nodes` for a resync (membership changed).
    func markForResync(_ nodes: some Sequence<String>) {
        state.withLock { $0.needsResync.formUnion(nodes) }
    }

    // MARK: Lanes

    private func enqueue(_ item: Item) {
        var item = item
        let next: (String, [Item])? = state.withLock { state in
            let now = NIODeadline.now()
            // Pass over replicas that failed a moment ago, unless none is left.
            while item.remaining.count > 1, let until = state.downUntil[item.remaining[0]], until > now {
                item.remaining.removeFirst()
            }
            let target = item.remaining[0]
            state.lanes[target, default: Lane()].pending.append(item)
            return Self.take(&state.lanes[target]!, settings: settings).map { (target, $0) }
        }
        if let (target, items) = next { transmit(items, to: target) }
    }

    private static func take(_ lane: inout Lane, settings: Settings) -> [Item]? {
        guard !lane.inFlight, !lane.pending.isEmpty else { return nil }
        var taken: [Item] = []
        var events = 0
        while let first = lane.pending.first, taken.isEmpty || events + first.copy.events.count <= settings.maxBatchEvents {
            taken.append(first)
            events += first.copy.events.count
            lane.pending.removeFirst()
        }
        lane.inFlight = true
        return taken
    }

    private func transmit(_ items: [Item], to target: String) {
        let batch = ReplicationBatch(requestID: nextRequestID.wrappingAdd(1, ordering: .relaxed).oldValue,
                                     events: items.flatMap(\.copy.events), states: items.map(\.copy.states))
        let started = NIODeadline.now()
        guard let address = addressOf(target) else {
            return finish(items, to: target, result: .failure(.unavailable("\(target) is not a known member")), started: started)
        }
        batches.increment()
        peer.request(to: address, payload: PeerMessage.replicate(batch).buffer, timeout: settings.timeout).whenComplete { [self] result in
            let outcome: Result<Void, APIProblem>
            switch result {
            case .failure(let error):
                outcome = .failure(.unavailable((error as? PeerError)?.message ?? "\(error)"))
            case .success(let reply):
                switch try? PeerMessage(decoding: reply) {
                case .replicated(let id) where id == batch.requestID:
                    copiedEvents.increment(by: Int64(batch.events.count))
                    outcome = .success(())
                case .problem(let status, let code, let detail):
                    outcome = .failure(APIProblem(status: status, code: code, title: "Replica refused", detail: detail))
                default:
                    outcome = .failure(.unavailable("\(target) sent a malformed answer to a copy"))
                }
            }
            finish(items, to: target, result: outcome, started: started)
        }
    }

    private func finish(_ items: [Item], to target: String, result: Result<Void, APIProblem>, started: NIODeadline) {
        lag.set(Double((NIODeadline.now() - started).nanoseconds) / 1e9)
        switch result {
        case .success:
            for item in items { item.completion(.committed) }
        case .failure(let problem) where problem.code == "replica-refused":
            for item in items { item.completion(.refused(by: target, reason: problem.detail)) }
        case .failure(let problem):
            logger.warning("replica unreachable; copying to the next node", metadata: ["replica": "\(target)", "error": "\(problem.detail)"])
            state.withLock { state in
                state.downUntil[target] = .now() + TimeAmount(settings.downFor)
                state.needsResync.insert(target)
            }
            for var item in items {
                item.remaining.removeFirst()
                if item.remaining.isEmpty {
                    item.completion(.noReplica(reason: "\(target): \(problem.detail)"))
                } else {
                    failovers.increment()
                    enqueue(item)
                }
            }
        }
        let next: [Item]? = state.withLock { state in
            state.lanes[target]?.inFlight = false
            guard state.lanes[target] != nil else { return nil }
            return Self.take(&state.lanes[target]!, settings: settings)
        }
        if let next { transmit(next, to: target) }
    }
}
