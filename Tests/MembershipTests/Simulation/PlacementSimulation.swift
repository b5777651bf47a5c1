import Membership
import Placement

/// Membership, placement and forwarding together on the simulated cluster.
///
/// Each node keeps a `PlacementView` rebuilt from its own SWIM instance's alive node members
/// whenever the instance reports a membership change, settled once the node has handled a
/// SWIM message from a peer. Clients send checks for a small key set to random live nodes,
/// and each node does what the NodeServer shell does: decide locally when `route` says so,
/// or forward the check with its epoch to the owner, which `accept`s it or refuses with its
/// hint, after which the sender follows its `ForwardAttempt`. Forwarded checks and replies
/// travel on the cluster's network, so they are lost, delayed, reordered and cut exactly as
/// SWIM's messages are.
///
/// Every decision is recorded with the decider's view at that moment, so the invariants
/// (`PlacementSimulation+Invariants.swift`) judge recorded facts, not the code under test.
final class PlacementSimulation: SimulatedClusterObserver {
    /// One decision on a check: who decided it, and what the decider's view said then.
    struct Decision: CustomStringConvertible {
        enum Path: CustomStringConvertible {
            /// The node the client reached owned the key.
            case entry
            /// The owner decided a forwarded check, after `hops` forwards.
            case forwarded(hops: Int)
            /// A refusal came back and the sender's view had meanwhile given it the key.
            case rerouted

            var description: String {
                switch self {
                case .entry: "at entry"
                case .forwarded(let hops): "forwarded \(hops)x"
                case .rerouted: "back at the sender"
                }
            }
        }

        var time: Int64
        var check: Int
        var key: String
        var decider: String
        var epoch: UInt64
        /// The owner of the key under the decider's own ring.
        var owner: String?
        var settled: Bool
        var path: Path

        var description: String {
            "check \(check) for \(key) decided by \(decider) \(path) at \(time) ms, "
                + "epoch \(PlacementView.format(epoch: epoch)), its ring owner \(owner ?? "none")"
                + (settled ? "" : ", UNSETTLED")
        }
    }

    /// What became of the checks.
    struct Counts {
        var checks = 0
        var decided = 0
        var forwards = 0
        var refusals = 0
        var reroutedLocally = 0
        /// `route` said unavailable because the entry node was not settled yet.
        var unsettled = 0
        var unavailable = 0
        /// The retry policy gave up (placement not agreed).
        var notAgreed = 0
        var timedOut = 0
    }

    /// A check the entry node forwarded and still waits on. A reply that comes more than
    /// `forwardTimeout` after the last forward is too late: the check has failed.
    private struct Pending {
        var entry: String
        var attempt: ForwardAttempt
        var sentAt: Int64
    }

    static let namespace = "api"

    let cluster: SimulatedCluster
    let keys: [String]
    /// How long a sender waits for the owner's answer before failing the check.
    let forwardTimeout: Int64
    private(set) var views: [String: PlacementView] = [:] {
        didSet { viewChangedAt = cluster.now }
    }
    /// The nodes whose current process has settled: the common case of the observer.
    private var settledNodes: Set<String> = []
    /// When any node's view last changed.
    private(set) var viewChangedAt: Int64 = 0
    /// Every view change, for debugging a failing seed.
    private(set) var viewLog: [(time: Int64, view: PlacementView)] = []
    private(set) var decisions: [Decision] = []
    private(set) var counts = Counts()
    /// The first few reasons the retry policy gave for failing.
    private(set) var failureReasons: [String] = []
    private var pending: [Int: Pending] = [:]
    private var nextCheck = 0
    private var random: SplitMix64
    private let rings: RingCache

    init(
        nodeCount: Int,
        seed: UInt64,
        network: SimulatedCluster.Network = .init(),
        keyCount: Int = 50,
        forwardTimeout: Int64 = 500,
        rings: RingCache = RingCache()
    ) {
        let ids = (1...nodeCount).map { "n\($0)" }
        self.cluster = SimulatedCluster(
            nodeCount: nodeCount,
            seed: seed,
            network: network,
            seeds: ids,
            encodesMessages: false
        )
        self.keys = (0..<keyCount).map { "k\($0)" }
        self.forwardTimeout = forwardTimeout
        self.random = SplitMix64(seed: seed ^ 0x5EED_C11E_0000_0000)
        self.rings = rings
        self.cluster.observer = self
    }

    // MARK: Clients

    /// Clients send one check every `1...2 * meanGap` ms in `from..<until`, each for a random
    /// key to a random node that runs at that moment (a check that reaches a paused node
    /// waits in its socket buffer until it resumes).
    func clients(from: Int64, until: Int64, meanGap: Int64) {
        precondition(meanGap >= 1, "clients: meanGap must be at least 1 ms, got \(meanGap)")
        guard from < until else { return }
        cluster.external(at: from) { [unowned self] in
            let running = self.cluster.ids.filter { self.cluster.isRunning($0) }
            if let entry = running.randomElement(using: &self.random) {
                let key = self.keys.randomElement(using: &self.random)!
                let check = self.nextCheck
                self.nextCheck += 1
                if self.cluster.isResponsive(entry) {
                    self.receive(check: check, key: key, at: entry)
                } else {
                    self.cluster.arrive(at: self.cluster.now, on: entry) { [unowned self] in
                        self.receive(check: check, key: key, at: entry)
                    }
                }
            }
            self.clients(from: from + Int64.random(in: 1...2 * meanGap, using: &self.random), until: until, meanGap: meanGap)
        }
    }

    // MARK: Checks

    private func receive(check: Int, key: String, at entry: String) {
        counts.checks += 1
        let view = views[entry]!
        switch view.route(namespace: Self.namespace, key: key) {
        case .local:
            decide(check, key, at: entry, path: .entry)
        case .forward(let owner, let epoch):
            let attempt = ForwardAttempt(namespace: Self.namespace, key: key, to: owner)
            pending[check] = Pending(entry: entry, attempt: attempt, sentAt: cluster.now)
            forward(check, key, from: entry, to: owner, epoch: epoch, hop: 1)
        case .unavailable:
            if view.isSettled { counts.unavailable += 1 } else { counts.unsettled += 1 }
        }
    }

    private func forward(_ check: Int, _ key: String, from sender: String, to owner: String, epoch: UInt64, hop: Int) {
        counts.forwards += 1
        cluster.send(from: sender, to: owner) { [unowned self] in
            self.onForward(check, key, from: sender, at: owner, senderEpoch: epoch, hop: hop)
        }
    }

    /// The check the entry node waits on for this hop's reply, if the reply is in time.
    /// Timeouts are detected lazily, when the reply comes or at the end, not by a timer
    /// per forward: there is no retry on timeout, so the outcome is the same.
    private func awaiting(_ check: Int, hop: Int) -> Pending? {
        guard let waiting = pending[check], waiting.attempt.hops == hop else { return nil }
        guard cluster.now - waiting.sentAt <= forwardTimeout else {
            pending[check] = nil
            counts.timedOut += 1
            return nil
        }
        return waiting
    }

    /// Forwarded checks still waiting; every one of them has timed out once the run ends.
    var unanswered: Int { pending.count }

    /// The owner's side: decide under its own view, or refuse with its hint and epoch.
    private func onForward(_ check: Int, _ key: String, from sender: String, at owner: String, senderEpoch: UInt64, hop: Int) {
        switch views[owner]!.accept(namespace: Self.namespace, key: key, senderEpoch: senderEpoch) {
        case .decide:
            decide(check, key, at: owner, path: .forwarded(hops: hop))
            cluster.send(from: owner, to: sender) { [unowned self] in
                if self.awaiting(check, hop: hop) != nil { self.pending[check] = nil }
            }
        case .notMine(let hint, let epoch):
            counts.refusals += 1
            cluster.send(from: owner, to: sender) { [unowned self] in
                self.onNotMine(check, hop: hop, from: owner, hint: hint, epoch: epoch)
            }
        }
    }

    /// The sender's side of a refusal; replies to a hop it no longer waits on are stale.
    private func onNotMine(_ check: Int, hop: Int, from responder: String, hint: String?, epoch: UInt64) {
        guard var waiting = awaiting(check, hop: hop) else { return }
        let view = views[waiting.entry]!
        let decision = waiting.attempt.onNotMine(from: responder, owner: hint, epoch: epoch, view: view)
        pending[check] = nil
        switch decision {
        case .retry(let next):
            waiting.sentAt = cluster.now
            pending[check] = waiting
            forward(check, waiting.attempt.key, from: waiting.entry, to: next, epoch: view.epoch, hop: hop + 1)
        case .decideLocally:
            counts.reroutedLocally += 1
            decide(check, waiting.attempt.key, at: waiting.entry, path: .rerouted)
        case .fail(let reason):
            counts.notAgreed += 1
            if failureReasons.count < 5 { failureReasons.append(reason) }
        }
    }

    /// Records the decision with what the decider's view says at this moment.
    private func decide(_ check: Int, _ key: String, at decider: String, path: Decision.Path) {
        let view = views[decider]!
        counts.decided += 1
        decisions.append(
            Decision(
                time: cluster.now,
                check: check,
                key: key,
                decider: decider,
                epoch: view.epoch,
                owner: view.ring.owner(namespace: Self.namespace, key: key),
                settled: view.isSettled,
                path: path
            )
        )
    }

    // MARK: Views

    /// The shell's reaction to membership: a fresh process starts unsettled with nothing in
    /// flight; a SWIM message from a peer settles it; a change rebuilds the ring.
    func cluster(_ cluster: SimulatedCluster, didUpdate update: NodeUpdate) {
        let id = update.node
        if !update.started, update.changes.isEmpty, settledNodes.contains(id) { return }
        var settled = views[id]?.isSettled ?? false
        if update.started {
            settled = false
            pending = pending.filter { $0.value.entry != id }
        }
        if update.heardFrom != nil { settled = true }
        if settled { settledNodes.insert(id) } else { settledNodes.remove(id) }
        guard let current = views[id], !update.started, update.changes.isEmpty else {
            rebuild(id, settled: settled)
            return
        }
        if current.isSettled != settled {
            views[id] = PlacementView(selfID: id, ring: current.ring, settled: settled)
            viewLog.append((cluster.now, views[id]!))
        }
    }

    private func rebuild(_ id: String, settled: Bool) {
        let alive = cluster.instance(id).aliveMembers.filter { $0.metadata.role == .node }.map(\.id)
        let view = PlacementView(selfID: id, ring: rings.ring(alive), settled: settled)
        if views[id] != view {
            views[id] = view
            viewLog.append((cluster.now, view))
        }
    }

    /// The nodes that should be on everyone's ring: running, and not leaving.
    var expectedMembers: [String] {
        cluster.ids.filter { cluster.isRunning($0) && !cluster.instance($0).isLeaving }.sorted()
    }

    /// Runs until every running node has agreed (``agreedView``), with no view changing at
    /// all, for `settleFor` ms since `start` or later, or until `deadline`. Returns when that
    /// agreement began, or nil if there was none by the deadline.
    func runUntilAgreed(after start: Int64, deadline: Int64, holding settleFor: Int64) -> Int64? {
        let agreed = { (self: PlacementSimulation) in
            self.agreedView != nil && self.cluster.now - max(start, self.viewChangedAt) >= settleFor
        }
        _ = cluster.run(until: deadline, checkingEvery: 100) { _ in agreed(self) }
        return agreed(self) ? max(start, viewChangedAt) : nil
    }

    /// The view every running node shares, if they are all settled on one epoch whose ring
    /// is exactly ``expectedMembers``.
    var agreedView: PlacementView? {
        let running = cluster.ids.filter { cluster.isRunning($0) }
        guard let first = running.first.flatMap({ views[$0] }) else { return nil }
        let expected = expectedMembers
        guard first.ring.nodes == expected else { return nil }
        let agreed = running.allSatisfy { id in
            guard let view = views[id] else { return false }
            return view.isSettled && view.epoch == first.epoch
        }
        return agreed ? first : nil
    }
}

/// Rings by member set: a run rebuilds views thousands of times over a handful of sets, and
/// building a ring (256 points per node) is the expensive part. Share one across runs.
final class RingCache {
    private var rings: [[String]: HashRing] = [:]

    init() {}

    func ring(_ nodes: [String]) -> HashRing {
        let sorted = nodes.sorted()
        if let ring = rings[sorted] { return ring }
        let ring = HashRing(nodes: sorted)
        rings[sorted] = ring
        return ring
    }
}
