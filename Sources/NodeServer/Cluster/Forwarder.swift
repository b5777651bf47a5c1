import Logging
import NIOCore
import NIOPosix
import PeerTransport
import Prometheus
import Synchronization

/// Sends checks to their owners in batches (gubernator's peer batching).
///
/// Per owner, at most `maxInFlight` batches travel at once; checks that
/// arrive meanwhile wait and leave together as the next batch when one
/// returns, capped at `maxBatch`. A check that finds nothing in flight waits
/// up to `window` for others to join it when company is likely
/// (``ForwardWindow``); a lone check leaves at once.
///
/// Each batch carries a request id unique to this node and this node's
/// placement epoch. A batch whose connection dropped before the answer is
/// sent once more with the same id: the owner's reply cache answers a batch
/// it already decided without counting its hits again.
final class Forwarder: CheckForwarding {
    struct Settings: Sendable {
        /// One batch per owner at a time: everything that arrives during a
        /// round trip leaves as the next batch. Against two in flight, in
        /// alternating runs of 3 nodes through n1 on 2 cores: about 15 % more
        /// checks per second and 17 % less CPU per check (BENCHMARKS.md, 17:40).
        var maxInFlight = 1
        var maxBatch = 1000
        /// How long the first check of a batch may wait for company when
        /// nothing is in flight to its owner (`forward_window_us`); zero sends it at once.
        var window: Duration = .zero
        /// A frozen owner holds its checks this long before they fail over.
        var timeout: Duration = .seconds(1)
    }

    typealias Completion = @Sendable (Result<ForwardedAnswers, APIProblem>) -> Void
    private typealias BatchCompletion = @Sendable (Result<ForwardedResults, APIProblem>) -> Void

    /// One caller waiting on the lane: how many of the queued checks are
    /// its own (they are queued together, in order), and where their answers go.
    private struct Caller {
        var count: Int
        var completion: Completion
    }

    /// An owner's queue. The checks wait in their wire form, in the order
    /// their callers came, so a batch is the queue itself rather than a copy.
    private struct Lane {
        var checks: [ForwardedBatch.Check] = []
        var callers: [Caller] = []
        var inFlight = 0
        var window: ForwardWindow
    }

    private struct Batch {
        var checks: [ForwardedBatch.Check]
        var callers: [Caller]
    }

    private enum Next {
        case none
        case send(Batch)
        case wait
    }

    private let lanes = Mutex<[String: Lane]>([:])
    private let windowNanos: UInt64
    /// Where window timers run when a check arrives off any event loop.
    private let eventLoops: any EventLoopGroup
    /// Starts at a random value: an owner's reply cache is keyed by (sender,
    /// id), and a restarted sender counting from 1 again would be answered
    /// with the decisions of its previous life's batches.
    private let nextRequestID = Atomic<UInt64>(UInt64.random(in: 1...(UInt64.max / 2)))
    private let peer: PeerService
    private let settings: Settings
    private let logger: Logger
    private let addressOf: @Sendable (String) -> PeerAddress?
    private let epoch: @Sendable () -> UInt64
    /// Batches sent and the checks in them: their ratio is the mean batch size.
    private let batches: Prometheus.Counter
    private let forwardedChecks: Prometheus.Counter
    /// Windows that closed with company (`joined`) and with none (`alone`).
    private let windowsJoined: Prometheus.Counter
    private let windowsAlone: Prometheus.Counter

    init(peer: PeerService, settings: Settings = Settings(), eventLoops: any EventLoopGroup, registry: PrometheusCollectorRegistry,
         node: String, logger: Logger, addressOf: @escaping @Sendable (String) -> PeerAddress?, epoch: @escaping @Sendable () -> UInt64) {
        self.peer = peer
        self.settings = settings
        self.eventLoops = eventLoops
        windowNanos = UInt64(max(0, settings.window / .nanoseconds(1)))
        self.logger = logger
        self.addressOf = addressOf
        self.epoch = epoch
        batches = registry.makeCounter(
            descriptor: MetricNameDescriptor(namespace: "rate_limit", metricName: "forward_batches", unitName: "total",
                                             helpText: "Batches of checks forwarded to their owners"),
            labels: [("node", node)])
        forwardedChecks = registry.makeCounter(
            descriptor: MetricNameDescriptor(namespace: "rate_limit", metricName: "forwarded_checks", unitName: "total",
                                             helpText: "Checks forwarded to their owners"),
            labels: [("node", node)])
        let windows = MetricNameDescriptor(
            namespace: "rate_limit", metricName: "forward_windows", unitName: "total",
            helpText: "Forwarding windows (forward_window_us) by whether other checks joined the one that opened it")
        windowsJoined = registry.makeCounter(descriptor: windows, labels: [("node", node), ("result", "joined")])
        windowsAlone = registry.makeCounter(descriptor: windows, labels: [("node", node), ("result", "alone")])
    }

    func forward(_ checks: [LimiterEngine.ResolvedCheck], to owner: String, completion: @escaping Completion) {
        guard !checks.isEmpty else { return completion(.success(ForwardedAnswers(epoch: epoch(), items: []))) }
        let wire = checks.map(Self.wire)
        enqueue(count: checks.count, completion: completion, to: owner) { $0.append(contentsOf: wire) }
    }

    func forward(_ check: LimiterEngine.ResolvedCheck, to owner: String, completion: @escaping Completion) {
        var wire: ForwardedBatch.Check? = Self.wire(check)
        enqueue(count: 1, completion: completion, to: owner) { $0.append(wire.take()!) }
    }

    /// A check as it goes on the wire. Its `standingInFor` travels as the
    /// failover's unreachable list (CheckRouter.failover).
    private static func wire(_ check: LimiterEngine.ResolvedCheck) -> ForwardedBatch.Check {
        ForwardedBatch.Check(request: check.request, version: check.version, unreachable: check.standingInFor)
    }

    /// Queues a caller's `count` checks, which `queue` appends to the lane's
    /// checks (moving them in, under the lock), and sends or waits.
    private func enqueue(count: Int, completion: @escaping Completion, to owner: String,
                         queue: (inout [ForwardedBatch.Check]) -> Void) {
        let now = windowNanos > 0 ? NIODeadline.now().uptimeNanoseconds : 0
        let next: Next = lanes.withLock { lanes in
            // Mutated in place: a copy of the lane would copy its queue.
            Self.decide(&lanes[owner, default: Lane(window: ForwardWindow(lengthNanos: windowNanos))],
                        adding: Caller(count: count, completion: completion), queue: queue, at: now, settings: settings)
        }
        switch next {
        case .none:
            break
        case .send(let batch):
            send(batch, to: owner)
        case .wait:
            let loop = MultiThreadedEventLoopGroup.currentEventLoop ?? eventLoops.next()
            loop.scheduleTask(in: .nanoseconds(Int64(windowNanos))) { [self] in
                let (gathered, batch): (Int, Batch?) = lanes.withLock { lanes in
                    guard lanes[owner] != nil else { return (0, nil) }
                    let gathered = lanes[owner]!.window.close()
                    return (gathered, Self.takeBatch(&lanes[owner]!, settings: settings))
                }
                if gathered > 0 { (gathered > 1 ? windowsJoined : windowsAlone).increment() }
                if let batch { send(batch, to: owner) }
            }
        }
    }

    /// Queues `caller` and its checks on `lane` and says what to do next:
    /// send a batch, open a window (start its timer), or nothing (a batch is
    /// in flight or a window is open).
    private static func decide(_ lane: inout Lane, adding caller: Caller, queue: (inout [ForwardedBatch.Check]) -> Void,
                               at now: UInt64, settings: Settings) -> Next {
        queue(&lane.checks)
        lane.callers.append(caller)
        let idle = lane.inFlight < settings.maxInFlight
        let full = lane.checks.count >= settings.maxBatch
        if lane.window.arrival(at: now, idle: idle && !full) { return .wait }
        guard idle else { return .none }
        // An open window holds the batch until its timer fires, unless it is full.
        if lane.window.isOpen && !full { return .none }
        return takeBatch(&lane, settings: settings).map(Next.send) ?? .none
    }

    /// The next batch to send, if a slot is free: whole callers, at most
    /// `maxBatch` checks unless one caller alone has more.
    private static func takeBatch(_ lane: inout Lane, settings: Settings) -> Batch? {
        guard lane.inFlight < settings.maxInFlight, !lane.callers.isEmpty else { return nil }
        lane.inFlight += 1
        if lane.checks.count <= settings.maxBatch || lane.callers.count == 1 {
            // All that waits fits in one batch (the usual case): hand over the
            // queues themselves rather than copying their elements.
            var batch = Batch(checks: [], callers: [])
            batch.checks.reserveCapacity(lane.checks.count)
            batch.callers.reserveCapacity(lane.callers.count)
            swap(&batch.checks, &lane.checks)
            swap(&batch.callers, &lane.callers)
            return batch
        }
        var callers = 0
        var checks = 0
        for caller in lane.callers {
            guard callers == 0 || checks + caller.count <= settings.maxBatch else { break }
            callers += 1
            checks += caller.count
        }
        let batch = Batch(checks: Array(lane.checks[..<checks]), callers: Array(lane.callers[..<callers]))
        lane.checks.removeFirst(checks)
        lane.callers.removeFirst(callers)
        return batch
    }

    private func send(_ taken: Batch, to owner: String) {
        let callers = taken.callers
        let batch = ForwardedBatch(requestID: nextRequestID.wrappingAdd(1, ordering: .relaxed).oldValue, epoch: epoch(),
                                   checks: taken.checks)
        roundTrip(batch, to: owner, attempt: 1) { [self] result in
            var offset = 0
            for caller in callers {
                let count = caller.count
                caller.completion(result.map { ForwardedAnswers(epoch: $0.epoch, items: $0.items[offset..<offset + count]) })
                offset += count
            }
            let next: Batch? = lanes.withLock { lanes in
                guard lanes[owner] != nil else { return nil }
                lanes[owner]!.inFlight -= 1
                // What waited a round trip leaves now, window or not.
                return Self.takeBatch(&lanes[owner]!, settings: settings)
            }
            if let next { send(next, to: owner) }
        }
    }

    /// One batch to its owner and back, by callback on the peer connection's
    /// event loop: at most one task hop from the HTTP handler's loop to it.
    private func roundTrip(_ batch: ForwardedBatch, to owner: String, attempt: Int, completion: @escaping BatchCompletion) {
        guard let address = addressOf(owner) else {
            completion(.failure(APIProblem(status: 503, code: "owner-unreachable", title: "Owner unreachable",
                                           detail: "owner \(owner) of the key is not a known member")))
            return
        }
        if attempt == 1 {
            batches.increment()
            forwardedChecks.increment(by: Int64(batch.checks.count))
        }
        let logger = logger
        peer.request(to: address, payload: PeerMessage.checkBatch(batch).buffer, timeout: settings.timeout) { [self] result in
            switch result {
            case .failure(let error):
                let peerError = error as? PeerError
                // A dropped connection may have lost the request or only its
                // answer: the same id makes a second try safe.
                if attempt == 1, let code = peerError?.code, code == .connectionClosed || code == .connectFailed {
                    roundTrip(batch, to: owner, attempt: 2, completion: completion)
                    return
                }
                let message = peerError?.message ?? "\(error)"
                logger.warning("forwarding to the owner failed", metadata: ["owner": "\(owner)", "error": "\(message)"])
                completion(.failure(APIProblem(status: 503, code: "owner-unreachable", title: "Owner unreachable",
                                               detail: "owner \(owner) of the key is unreachable: \(message)")))
            case .success(let reply):
                switch try? PeerMessage(decoding: reply) {
                case .checkResults(let results) where results.items.count == batch.checks.count && results.requestID == batch.requestID:
                    completion(.success(results))
                case .problem(let status, let code, let detail):
                    completion(.failure(APIProblem(status: status, code: code, title: "Owner could not decide", detail: "\(owner): \(detail)")))
                default:
                    completion(.failure(.unavailable("owner \(owner) sent a malformed answer")))
                }
            }
        }
    }
}
