import Membership

/// A deterministic discrete-event simulation of `SWIMInstance`s: a fake
/// clock, an in-memory network with seeded loss and delay, and a time-ordered
/// event queue. It plays the shell's part: it executes every directive,
/// turning `.sendPing` / `.sendPingRequest` timeouts into timer events and
/// `.scheduleTick` into tick events, and sends every message through the
/// binary codec.
///
/// Faults are events too, so they interleave deterministically: `kill`
/// (the process is gone), `restart` (a fresh process with the same id),
/// `pause` (SIGSTOP: nothing is processed, messages and timers queue up and
/// are handled at resume), `isolate` and `partition` (every message across
/// the cut is lost), `leave` (graceful), and `setNetwork` (loss, delay and
/// reordering change at a given time).
///
/// Layers above membership (placement, forwarding) ride on the same clock
/// and network: an ``observer`` hears what each node's shell would hear, and
/// ``send(from:to:_:)`` and ``arrive(at:on:_:)`` put their messages and
/// requests under the same faults as SWIM's.
final class SimulatedCluster {
    struct Network {
        /// Probability that any one message is lost.
        var lossRate = 0.0
        /// One-way delay, uniform in `minDelay...maxDelay` ms.
        var minDelay: Int64 = 1
        var maxDelay: Int64 = 5
        /// Probability that a message straggles: it takes an extra
        /// `0...stragglerDelay` ms, so it arrives well after later messages.
        var stragglerRate = 0.0
        var stragglerDelay: Int64 = 0
    }

    /// Timers carry the `life` of the process that armed them: a restarted
    /// node does not get its previous process's timers.
    enum Event {
        case start(node: String)
        case restart(node: String, incarnation: Incarnation)
        case deliver(from: String, to: String, payload: Payload)
        case tick(node: String, life: Int)
        case pingTimeout(node: String, life: Int, target: String, sequence: UInt64)
        case indirectTimeout(node: String, life: Int, target: String, sequence: UInt64)
        case kill(node: String)
        case pause(node: String, until: Int64)
        case leave(node: String)
        /// A layer's message between two nodes, on the SWIM network.
        case message(from: String, to: String, action: () -> Void)
        /// A request reaching `node` from outside the cluster.
        case arrival(node: String, action: () -> Void)
        /// Something outside every node (a client deciding where to send).
        case external(action: () -> Void)

        var node: String {
            switch self {
            case .start(let node), .restart(let node, _), .tick(let node, _), .pingTimeout(let node, _, _, _),
                .indirectTimeout(let node, _, _, _), .kill(let node), .pause(let node, _), .leave(let node),
                .arrival(let node, _):
                node
            case .deliver(_, let to, _), .message(_, let to, _):
                to
            case .external:
                ""
            }
        }
    }

    /// A SWIM message in flight: its bytes, or the value itself when the
    /// simulation skips the codec.
    enum Payload {
        case encoded([UInt8])
        case decoded(SWIMMessage)
    }

    /// A class so that handling an event does not copy the whole instance.
    final class Node {
        var swim: SWIMInstance
        let seeds: [String]
        let settings: SWIMSettings
        let randomSeed: UInt64
        /// Counts (re)starts; 0 until the first start.
        var life: Int
        var killed = false
        var pausedUntil: Int64 = .min

        init(swim: SWIMInstance, seeds: [String], settings: SWIMSettings, randomSeed: UInt64, life: Int = 0) {
            self.swim = swim
            self.seeds = seeds
            self.settings = settings
            self.randomSeed = randomSeed
            self.life = life
        }

        /// Started and not killed: the process exists (it may be paused).
        var isRunning: Bool { self.life > 0 && !self.killed }
    }

    /// A cut between `side` and every other node, in force in `from..<until`.
    struct Cut {
        var side: Set<String>
        var from: Int64
        var until: Int64
    }

    struct ObservedChange {
        var time: Int64
        var observer: String
        var change: MemberChange
    }

    let ids: [String]
    private(set) var now: Int64 = 0
    private(set) var nodes: [String: Node] = [:]
    /// Every status change any node reported, in the order they happened.
    private(set) var changes: [ObservedChange] = []
    private(set) var messagesSent = 0
    private(set) var messagesLost = 0
    private(set) var decodeFailures = 0
    /// Told what each node's shell would hear; see ``NodeUpdate``.
    weak var observer: (any SimulatedClusterObserver)?
    private var queue = EventQueue<Event>()
    private var random: SplitMix64
    /// The network in force now, and the ones that take over later, by time.
    private(set) var network: Network
    private var laterNetworks: [(from: Int64, network: Network)] = []
    private var cuts: [Cut] = []
    private let encodesMessages: Bool

    /// `nodeCount` nodes `n1...nN`; `n1` starts at time 0, the others at
    /// random times in `0...startSpread`. With `seeds` nil, `n1` starts alone
    /// and the others join through it; otherwise every node (and every
    /// restart) is given `seeds`, so a node left alone by a partition can
    /// find the others again. With `encodesMessages` false, messages skip
    /// the codec (which the SWIM simulations cover) to save time.
    init(
        nodeCount: Int,
        seed: UInt64,
        network: Network = Network(),
        settings: SWIMSettings = SWIMSettings(),
        startSpread: Int64 = 500,
        seeds: [String]? = nil,
        encodesMessages: Bool = true
    ) {
        self.encodesMessages = encodesMessages
        self.random = SplitMix64(seed: seed)
        self.network = network
        self.ids = (1...nodeCount).map { "n\($0)" }
        for (index, id) in self.ids.enumerated() {
            let randomSeed = seed &* 1_000_003 &+ UInt64(index)
            let swim = SWIMInstance(myself: Fixtures.metadata(id), settings: settings, randomSeed: randomSeed)
            let nodeSeeds = seeds ?? (index == 0 ? [] : [self.ids[0]])
            self.nodes[id] = Node(swim: swim, seeds: nodeSeeds, settings: settings, randomSeed: randomSeed)
            let startAt = index == 0 ? 0 : Int64.random(in: 0...startSpread, using: &self.random)
            self.queue.push(.start(node: id), at: startAt)
        }
    }

    // MARK: Faults

    func kill(_ id: String, at time: Int64) {
        self.queue.push(.kill(node: id), at: time)
    }

    func pause(_ id: String, at time: Int64, for duration: Int64) {
        self.queue.push(.pause(node: id, until: time + duration), at: time)
    }

    func isolate(_ id: String, at time: Int64, for duration: Int64) {
        self.partition([id], at: time, for: duration)
    }

    /// Cuts every link between `side` and the other nodes; messages already
    /// in flight across the cut are lost when they arrive during it.
    func partition(_ side: Set<String>, at time: Int64, for duration: Int64) {
        precondition(duration > 0, "partition \(side.sorted()) at \(time): duration must be positive, got \(duration)")
        self.cuts.append(Cut(side: side, from: time, until: time + duration))
    }

    func leave(_ id: String, at time: Int64) {
        self.queue.push(.leave(node: id), at: time)
    }

    /// A fresh process for `id` (killing the current one if it runs): new
    /// instance at `incarnation`, its previous timers gone, joining its seeds.
    func restart(_ id: String, at time: Int64, incarnation: Incarnation = 0) {
        self.queue.push(.restart(node: id, incarnation: incarnation), at: time)
    }

    /// Messages sent from `time` on use `network`.
    func setNetwork(_ network: Network, from time: Int64) {
        precondition(time > self.now, "setNetwork at \(time) ms, but the simulation is already at \(self.now) ms")
        self.laterNetworks.append((time, network))
        self.laterNetworks.sort { $0.from < $1.from }
    }

    // MARK: Layers on top

    /// Sends a layer's message over the simulated network, with the same
    /// loss, delay and cuts as SWIM's; `deliver` runs on `to` if it arrives.
    func send(from: String, to: String, _ deliver: @escaping () -> Void) {
        guard let delay = self.transit(from: from, to: to) else { return }
        self.queue.push(.message(from: from, to: to, action: deliver), at: self.now + delay)
    }

    /// A request from outside the cluster reaching `id` at `time`: lost if no
    /// process runs there then, queued while it is paused.
    func arrive(at time: Int64, on id: String, _ action: @escaping () -> Void) {
        self.queue.push(.arrival(node: id, action: action), at: time)
    }

    /// Runs `action` at `time` whatever state the nodes are in.
    func external(at time: Int64, _ action: @escaping () -> Void) {
        self.queue.push(.external(action: action), at: time)
    }

    // MARK: Running

    /// Processes every event up to and including `end`.
    func run(until end: Int64) {
        while let next = self.queue.nextTime, next <= end {
            let (time, event) = self.queue.pop()!
            self.process(event, at: time)
        }
        self.now = end
    }

    /// Runs until `condition` holds at one of the checks made every
    /// `interval` ms, or until `deadline`. Returns the time of the first
    /// successful check.
    func run(until deadline: Int64, checkingEvery interval: Int64 = 50, until condition: (SimulatedCluster) -> Bool)
        -> Int64?
    {
        var checkAt = self.now
        while checkAt <= deadline {
            self.run(until: checkAt)
            if condition(self) { return checkAt }
            checkAt += interval
        }
        return nil
    }

    private func process(_ event: Event, at time: Int64) {
        self.now = time
        while let next = self.laterNetworks.first, next.from <= time {
            self.network = next.network
            self.laterNetworks.removeFirst()
        }
        let id = event.node
        switch event {
        case .restart(_, let incarnation):
            self.replaceProcess(id, incarnation: incarnation)
            return
        case .external(let action):
            action()
            return
        default:
            break
        }
        guard let node = self.nodes[id], !node.killed else { return }
        if node.pausedUntil > time {
            // SIGSTOP: the event waits in the socket buffer / timer wheel.
            self.queue.push(event, at: node.pausedUntil)
            return
        }
        var update = NodeUpdate(node: id)
        var directives: [SWIMDirective] = []
        switch event {
        case .start:
            node.life = 1
            update.started = true
            directives = self.join(node)
        case .restart, .external:
            preconditionFailure("\(event) is handled above")
        case .deliver(let from, _, let payload):
            guard node.isRunning, !self.isCut(from, id) else {
                self.messagesLost += 1
                return
            }
            let message: SWIMMessage
            switch payload {
            case .decoded(let decoded):
                message = decoded
            case .encoded(let bytes):
                guard let decoded = try? SWIMMessage(decoding: bytes) else {
                    self.decodeFailures += 1
                    return
                }
                message = decoded
            }
            update.heardFrom = from
            directives = node.swim.onMessage(message, from: from, now: time)
        case .tick(_, let life):
            guard life == node.life else { return }
            directives = node.swim.onPeriodicTick(now: time)
        case .pingTimeout(_, let life, let target, let sequence):
            guard life == node.life else { return }
            directives = node.swim.onPingResponse(.timeout(target: target), sequence: sequence, now: time)
        case .indirectTimeout(_, let life, let target, let sequence):
            guard life == node.life else { return }
            directives = node.swim.onIndirectPingResponse(
                .timeout(target: target),
                sequence: sequence,
                now: time
            )
        case .kill:
            node.killed = true
        case .pause(_, let until):
            node.pausedUntil = until
        case .leave:
            directives = node.swim.leave(now: time)
        case .message(let from, _, let action):
            guard node.isRunning, !self.isCut(from, id) else { return }
            action()
        case .arrival(_, let action):
            guard node.isRunning else { return }
            action()
        }
        update.changes = self.execute(directives, for: id)
        if update.started || update.heardFrom != nil || !update.changes.isEmpty {
            self.observer?.cluster(self, didUpdate: update)
        }
    }

    /// Kills whatever runs as `id` and starts a fresh process in its place.
    private func replaceProcess(_ id: String, incarnation: Incarnation) {
        guard let old = self.nodes[id] else { preconditionFailure("restart of unknown node \(id)") }
        let swim = SWIMInstance(
            myself: Fixtures.metadata(id),
            settings: old.settings,
            incarnation: incarnation,
            randomSeed: old.randomSeed &+ UInt64(old.life) &* 7_919
        )
        let node = Node(swim: swim, seeds: old.seeds, settings: old.settings, randomSeed: old.randomSeed,
                        life: old.life + 1)
        self.nodes[id] = node
        let changes = self.execute(self.join(node), for: id)
        self.observer?.cluster(self, didUpdate: NodeUpdate(node: id, started: true, changes: changes))
    }

    private func join(_ node: Node) -> [SWIMDirective] {
        node.swim.onJoin(seeds: node.seeds.map { Fixtures.metadata($0) }, now: self.now)
    }

    /// The shell's job: timers, messages, change notifications. Returns the
    /// membership changes the directives reported.
    private func execute(_ directives: [SWIMDirective], for id: String) -> [MemberChange] {
        let life = self.nodes[id]!.life
        var changes: [MemberChange] = []
        for directive in directives {
            switch directive {
            case .sendPing(let to, _, let timeout, let sequence):
                self.queue.push(
                    .pingTimeout(node: id, life: life, target: to.id, sequence: sequence),
                    at: self.now + timeout
                )
            case .sendPingRequest(_, let target, _, let timeout, let sequence):
                self.queue.push(
                    .indirectTimeout(node: id, life: life, target: target.id, sequence: sequence),
                    at: self.now + timeout
                )
            case .scheduleTick(let after):
                self.queue.push(.tick(node: id, life: life), at: self.now + after)
            case .memberChanged(let change):
                self.changes.append(ObservedChange(time: self.now, observer: id, change: change))
                changes.append(change)
            case .sendAck, .sendNack, .sendGossip, .sendPushPull, .sendPushPullResponse, .sendLeave,
                .memberRemoved, .log:
                break
            }
            for (recipient, message) in directive.outbound {
                self.send(message, from: id, to: recipient.id)
            }
        }
        return changes
    }

    private func send(_ message: SWIMMessage, from: String, to: String) {
        self.messagesSent += 1
        guard let delay = self.transit(from: from, to: to) else {
            self.messagesLost += 1
            return
        }
        let payload: Payload = self.encodesMessages ? .encoded(message.encode()) : .decoded(message)
        self.queue.push(.deliver(from: from, to: to, payload: payload), at: self.now + delay)
    }

    /// The delay of a message sent now, or nil if it is lost on the way out.
    /// Draws from the generator in the same order for every message, and
    /// only for the features in use, so seeds replay across versions.
    private func transit(from: String, to: String) -> Int64? {
        let network = self.network
        let lost = network.lossRate > 0 && Double.random(in: 0..<1, using: &self.random) < network.lossRate
        guard !lost, !self.isCut(from, to) else { return nil }
        var delay = Int64.random(in: network.minDelay...network.maxDelay, using: &self.random)
        if network.stragglerRate > 0, Double.random(in: 0..<1, using: &self.random) < network.stragglerRate {
            delay += Int64.random(in: 0...network.stragglerDelay, using: &self.random)
        }
        return delay
    }

    /// Whether a cut separates `a` and `b` now.
    func isCut(_ a: String, _ b: String) -> Bool {
        for cut in self.cuts where cut.from <= self.now && self.now < cut.until {
            if cut.side.contains(a) != cut.side.contains(b) { return true }
        }
        return false
    }

    // MARK: Views

    /// How `observer` currently sees `id`.
    func status(of id: String, seenBy observer: String) -> MemberStatus? {
        self.nodes[observer]?.swim.member(id: id)?.status
    }

    func instance(_ id: String) -> SWIMInstance {
        self.nodes[id]!.swim
    }

    /// Whether a process runs as `id` (started, not killed; maybe paused).
    func isRunning(_ id: String) -> Bool {
        self.nodes[id]?.isRunning ?? false
    }

    /// Whether a process runs as `id` and handles events now (not paused).
    func isResponsive(_ id: String) -> Bool {
        guard let node = self.nodes[id] else { return false }
        return node.isRunning && node.pausedUntil <= self.now
    }

    /// Every node in `observers` sees every node in `subjects` as `.alive`.
    func everyoneSeesAlive(_ subjects: [String]? = nil, observers: [String]? = nil) -> Bool {
        let subjects = subjects ?? self.ids
        return (observers ?? self.ids).allSatisfy { observer in
            subjects.allSatisfy { self.status(of: $0, seenBy: observer)?.isAlive == true }
        }
    }

    /// The changes observed about `id` that satisfy `predicate`.
    func changes(about id: String, where predicate: (MemberStatus) -> Bool) -> [ObservedChange] {
        self.changes.filter { $0.change.member.id == id && predicate($0.change.to) }
    }

    /// Every change to dead or left, about anyone, observed by anyone.
    var departures: [ObservedChange] {
        self.changes.filter { !$0.change.to.isActive }
    }
}

/// What a node's shell hears from one event, told to the layers above SWIM.
struct NodeUpdate {
    var node: String
    /// A fresh process started: whatever a layer kept for the node is gone.
    var started = false
    /// The peer whose SWIM message the node just handled, if it was one.
    var heardFrom: String?
    /// The membership changes the node's instance reported.
    var changes: [MemberChange] = []
}

/// A layer riding on the simulated SWIM nodes (placement, forwarding).
protocol SimulatedClusterObserver: AnyObject {
    func cluster(_ cluster: SimulatedCluster, didUpdate update: NodeUpdate)
}
