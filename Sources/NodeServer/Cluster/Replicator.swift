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
/// A replica that refuses connections (its process is gone) is skipped for a
/// while and its copies go to the next candidate on the ring, the node that
/// replaces it when membership drops it; a restarted replica imports before it
/// serves, and its import turns copies back to it. A replica that does not
/// answer in time is not skipped: it may be only slow or frozen and still
/// first in line to stand in for the owner, so copying past it would leave it
/// stale. Those hits are not acknowledged (the copy's outcome is unknown) and
/// the replica is marked for a resync, which sends it the current state of
/// every counter it should hold.
final class Replicator: ReplicaSink {
    struct Settings: Sendable {
        var timeout: Duration = .seconds(1)
        /// How long a replica that failed is passed over.
        var downFor: Duration = .seconds(1)
        var maxBatchEvents = 2000
    }

    typealias Completion = @Sendable (CopyOutcome) -> Void

    private struct Item {
        var copy: ReplicaCopy
        var remaining: [String]
        var completion: Completion
        /// Sent again to the same replica after its connection dropped.
        var resent = false
    }

    /// Why a batch did not commit, as far as this node can tell.
    private enum Failure: Error {
        /// The replica answered that it refuses the copy.
        case refused(String)
        /// Nothing listens at the replica's address: its process is gone.
        case gone(String)
        /// The connection dropped: the replica may or may not have the copy.
        case dropped(String)
        /// No answer in time, or an unexpected one: it may have the copy.
        case unknown(String)
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

    /// `node` answered an import request: copies go to it again.
    func markUp(_ node: String) {
        state.withLock { _ = $0.downUntil.removeValue(forKey: node) }
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
                                     events: items.flatMap(\.copy.events), states: items.map(\.copy.states),
                                     fences: Set(items.flatMap(\.copy.fences)).sorted())
        let started = NIODeadline.now()
        guard let address = addressOf(target) else {
            return finish(items, to: target, result: .failure(.gone("\(target) is not a known member")), started: started)
        }
        batches.increment()
        peer.request(to: address, payload: PeerMessage.replicate(batch).buffer, timeout: settings.timeout) { [self] result in
            let outcome: Result<Void, Failure>
            switch result {
            case .failure(let error):
                let peerError = error as? PeerError
                let message = peerError?.message ?? "\(error)"
                switch peerError?.code {
                case .connectFailed?: outcome = .failure(.gone(message))
                case .connectionClosed?: outcome = .failure(.dropped(message))
                default: outcome = .failure(.unknown(message))
                }
            case .success(let reply):
                switch try? PeerMessage(decoding: reply) {
                case .replicated(let id) where id == batch.requestID:
                    copiedEvents.increment(by: Int64(batch.events.count))
                    outcome = .success(())
                case .problem(_, let code, let detail) where code == "replica-refused":
                    outcome = .failure(.refused(detail))
                case .problem(let status, let code, let detail):
                    outcome = .failure(.unknown("\(status) \(code): \(detail)"))
                default:
                    outcome = .failure(.unknown("\(target) sent a malformed answer to a copy"))
                }
            }
            finish(items, to: target, result: outcome, started: started)
        }
    }

    private func finish(_ items: [Item], to target: String, result: Result<Void, Failure>, started: NIODeadline) {
        lag.set(Double((NIODeadline.now() - started).nanoseconds) / 1e9)
        // Items to send again: to the same replica (dropped once) or the next candidate (gone).
        var again: [Item] = []
        switch result {
        case .success:
            for item in items { item.completion(.committed) }
        case .failure(.refused(let reason)):
            for item in items { item.completion(.refused(by: target, reason: reason)) }
        case .failure(.unknown(let reason)):
            logger.warning("a replica did not confirm a copy; those hits are not acknowledged",
                           metadata: ["replica": "\(target)", "error": "\(reason)"])
            state.withLock { _ = $0.needsResync.insert(target) }
            for item in items { item.completion(.noReplica(reason: "\(target) did not confirm the copy: \(reason)")) }
        case .failure(.dropped(let reason)):
            for var item in items {
                if item.resent {
                    state.withLock { _ = $0.needsResync.insert(target) }
                    item.completion(.noReplica(reason: "\(target): \(reason)"))
                } else {
                    item.resent = true
                    again.append(item)
                }
            }
        case .failure(.gone(let reason)):
            logger.warning("replica unreachable; copying to the next node", metadata: ["replica": "\(target)", "error": "\(reason)"])
            state.withLock { state in
                state.downUntil[target] = .now() + TimeAmount(settings.downFor)
                state.needsResync.insert(target)
            }
            for var item in items {
                item.remaining.removeFirst()
                item.resent = false
                if item.remaining.isEmpty {
                    item.completion(.noReplica(reason: "\(target): \(reason)"))
                } else {
                    failovers.increment()
                    again.append(item)
                }
            }
        }
        let next: [Item]? = state.withLock { state in
            state.lanes[target]?.inFlight = false
            guard state.lanes[target] != nil else { return nil }
            return Self.take(&state.lanes[target]!, settings: settings)
        }
        for item in again { enqueue(item) }
        if let next { transmit(next, to: target) }
    }
}
