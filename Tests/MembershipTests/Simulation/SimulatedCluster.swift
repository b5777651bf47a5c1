import Membership

/// A deterministic discrete-event simulation of `SWIMInstance`s: a fake
/// clock, an in-memory network with seeded loss and delay, and a time-ordered
/// event queue. It plays the shell's part: it executes every directive,
/// turning `.sendPing` / `.sendPingRequest` timeouts into timer events and
/// `.scheduleTick` into tick events, and sends every message through the
/// binary codec.
///
/// Faults are events too, so they interleave deterministically: `kill`
/// (the process is gone), `pause` (SIGSTOP: nothing is processed, messages
/// and timers queue up and are handled at resume), `isolate` (a partition:
/// every message to or from the node is lost), `leave` (graceful).
final class SimulatedCluster {
    struct Network {
        /// Probability that any one message is lost.
        var lossRate = 0.0
        /// One-way delay, uniform in `minDelay...maxDelay` ms.
        var minDelay: Int64 = 1
        var maxDelay: Int64 = 5
    }

    enum Event {
        case start(node: String, seeds: [String])
        case deliver(from: String, to: String, bytes: [UInt8])
        case tick(node: String)
        case pingTimeout(node: String, target: String, sequence: UInt64)
        case indirectTimeout(node: String, target: String, sequence: UInt64)
        case kill(node: String)
        case pause(node: String, until: Int64)
        case isolate(node: String, until: Int64)
        case leave(node: String)

        var node: String {
            switch self {
            case .start(let node, _), .tick(let node), .pingTimeout(let node, _, _), .indirectTimeout(let node, _, _),
                .kill(let node), .pause(let node, _), .isolate(let node, _), .leave(let node):
                node
            case .deliver(_, let to, _):
                to
            }
        }
    }

    struct Node {
        var swim: SWIMInstance
        var killed = false
        var pausedUntil: Int64 = .min
        var isolatedUntil: Int64 = .min
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
    private var queue = EventQueue<Event>()
    private var random: SplitMix64
    private let network: Network

    /// `nodeCount` nodes `n1...nN`; `n1` starts alone at time 0, the others
    /// join through it as seed at random times in `0...startSpread`.
    init(
        nodeCount: Int,
        seed: UInt64,
        network: Network = Network(),
        settings: SWIMSettings = SWIMSettings(),
        startSpread: Int64 = 500
    ) {
        self.random = SplitMix64(seed: seed)
        self.network = network
        self.ids = (1...nodeCount).map { "n\($0)" }
        for (index, id) in self.ids.enumerated() {
            let swim = SWIMInstance(
                myself: Fixtures.metadata(id),
                settings: settings,
                randomSeed: seed &* 1_000_003 &+ UInt64(index)
            )
            self.nodes[id] = Node(swim: swim)
            let startAt = index == 0 ? 0 : Int64.random(in: 0...startSpread, using: &self.random)
            self.queue.push(.start(node: id, seeds: index == 0 ? [] : [self.ids[0]]), at: startAt)
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
        self.queue.push(.isolate(node: id, until: time + duration), at: time)
    }

    func leave(_ id: String, at time: Int64) {
        self.queue.push(.leave(node: id), at: time)
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
        let id = event.node
        guard let node = self.nodes[id], !node.killed else { return }
        if node.pausedUntil > time {
            // SIGSTOP: the event waits in the socket buffer / timer wheel.
            self.queue.push(event, at: node.pausedUntil)
            return
        }
        var directives: [SWIMDirective] = []
        switch event {
        case .start(_, let seeds):
            directives = self.nodes[id]!.swim.onJoin(seeds: seeds.map { Fixtures.metadata($0) }, now: time)
        case .deliver(let from, _, let bytes):
            guard !self.isIsolated(from) && !self.isIsolated(id) else {
                self.messagesLost += 1
                return
            }
            guard let message = try? SWIMMessage(decoding: bytes) else {
                self.decodeFailures += 1
                return
            }
            directives = self.nodes[id]!.swim.onMessage(message, from: from, now: time)
        case .tick:
            directives = self.nodes[id]!.swim.onPeriodicTick(now: time)
        case .pingTimeout(_, let target, let sequence):
            directives = self.nodes[id]!.swim.onPingResponse(.timeout(target: target), sequence: sequence, now: time)
        case .indirectTimeout(_, let target, let sequence):
            directives = self.nodes[id]!.swim.onIndirectPingResponse(
                .timeout(target: target),
                sequence: sequence,
                now: time
            )
        case .kill:
            self.nodes[id]!.killed = true
        case .pause(_, let until):
            self.nodes[id]!.pausedUntil = until
        case .isolate(_, let until):
            self.nodes[id]!.isolatedUntil = until
        case .leave:
            directives = self.nodes[id]!.swim.leave(now: time)
        }
        self.execute(directives, for: id)
    }

    /// The shell's job: timers, messages, change notifications.
    private func execute(_ directives: [SWIMDirective], for id: String) {
        for directive in directives {
            switch directive {
            case .sendPing(let to, _, let timeout, let sequence):
                self.queue.push(.pingTimeout(node: id, target: to.id, sequence: sequence), at: self.now + timeout)
            case .sendPingRequest(_, let target, _, let timeout, let sequence):
                self.queue.push(
                    .indirectTimeout(node: id, target: target.id, sequence: sequence),
                    at: self.now + timeout
                )
            case .scheduleTick(let after):
                self.queue.push(.tick(node: id), at: self.now + after)
            case .memberChanged(let change):
                self.changes.append(ObservedChange(time: self.now, observer: id, change: change))
            case .sendAck, .sendNack, .sendGossip, .sendPushPull, .sendPushPullResponse, .sendLeave,
                .memberRemoved, .log:
                break
            }
            for (recipient, message) in directive.outbound {
                self.send(message, from: id, to: recipient.id)
            }
        }
    }

    private func send(_ message: SWIMMessage, from: String, to: String) {
        self.messagesSent += 1
        let lost = self.network.lossRate > 0 && Double.random(in: 0..<1, using: &self.random) < self.network.lossRate
        guard !lost, !self.isIsolated(from), !self.isIsolated(to) else {
            self.messagesLost += 1
            return
        }
        let delay = Int64.random(in: self.network.minDelay...self.network.maxDelay, using: &self.random)
        self.queue.push(.deliver(from: from, to: to, bytes: message.encode()), at: self.now + delay)
    }

    private func isIsolated(_ id: String) -> Bool {
        (self.nodes[id]?.isolatedUntil ?? .min) > self.now
    }

    // MARK: Views

    /// How `observer` currently sees `id`.
    func status(of id: String, seenBy observer: String) -> MemberStatus? {
        self.nodes[observer]?.swim.member(id: id)?.status
    }

    func instance(_ id: String) -> SWIMInstance {
        self.nodes[id]!.swim
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
