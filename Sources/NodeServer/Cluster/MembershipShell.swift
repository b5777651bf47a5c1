import Logging
import Membership
import NIOCore
import PeerTransport
import ServiceLifecycle
import Synchronization

/// The IO shell around the pure `SWIMInstance` (the instance/shell split of
/// apple/swift-cluster-membership): feeds it messages and timer events,
/// performs its directives over the mutual-TLS peer link, and publishes the
/// members whenever they change.
///
/// One owner: the instance lives on one event loop and every event (a
/// message, a timer, the start, the leave) is handled there, one at a time,
/// so changes are published in the order they happen. Timers are scheduled
/// tasks on that loop, cancelled when the node leaves. Protocol time is the
/// monotonic clock (`NIODeadline.now()`): a wall-clock step (NTP) cannot
/// shift a suspicion timeout.
final class MembershipShell: Service {
    /// What subscribers learn after every change, on the shell's loop, in order.
    struct Update: Sendable {
        var members: [Member]
        /// True once this node has exchanged full state with a peer, or
        /// waited `settleTimeout` without hearing from any seed (alone).
        var settled: Bool
    }

    struct Settings: Sendable {
        /// How long a starting node waits for a seed's full state before it
        /// decides it is alone and serves.
        var settleTimeout: TimeAmount = .seconds(2)
        var sendTimeout: Duration = .seconds(1)
    }

    private struct State {
        var instance: SWIMInstance
        var timers: [UInt64: Scheduled<Void>] = [:]
        var nextTimer: UInt64 = 0
        var settled = false
        var stopped = false
    }

    let eventLoop: any EventLoop
    private let state: NIOLoopBoundBox<State>
    private let published: Mutex<[Member]>
    private let peer: PeerService
    private let seeds: [MemberMetadata]
    private let settings: Settings
    private let logger: Logger
    private let onUpdate: @Sendable (Update) -> Void

    init(instance: SWIMInstance, seeds: [MemberMetadata], peer: PeerService, eventLoop: any EventLoop,
         settings: Settings = Settings(), logger: Logger, onUpdate: @escaping @Sendable (Update) -> Void) {
        self.eventLoop = eventLoop
        state = NIOLoopBoundBox.makeBoxSendingValue(State(instance: instance), eventLoop: eventLoop)
        published = Mutex(instance.members)
        self.seeds = seeds
        self.peer = peer
        self.settings = settings
        self.logger = logger
        self.onUpdate = onUpdate
    }

    /// Every member as last published, ourselves included.
    var members: [Member] { published.withLock { $0 } }

    /// Milliseconds on the monotonic clock: SWIM's only notion of time.
    static func monotonicMs() -> Int64 {
        Int64(NIODeadline.now().uptimeNanoseconds / 1_000_000)
    }

    func run() async throws {
        eventLoop.execute { [self] in
            perform(state.value.instance.onJoin(seeds: seeds, now: Self.monotonicMs()))
            publish()
            schedule(after: settings.settleTimeout) { shell in
                guard !shell.state.value.settled else { return }
                shell.logger.notice("no seed exchanged state within \(shell.settings.settleTimeout): serving with the members known so far")
                shell.state.value.settled = true
                shell.publish()
            }
        }
        try? await gracefulShutdown()
        await leave()
    }

    /// Tells every active member directly, waiting briefly for the sends, so
    /// peers move our keys at once instead of after a failure detection.
    private func leave() async {
        let sends: EventLoopFuture<Void> = eventLoop.flatSubmit { [self] in
            state.value.stopped = true
            for timer in state.value.timers.values { timer.cancel() }
            state.value.timers.removeAll()
            let directives = state.value.instance.leave(now: Self.monotonicMs())
            var futures: [EventLoopFuture<Void>] = []
            for directive in directives {
                for (recipient, message) in directive.outbound {
                    futures.append(peer.send(to: recipient.peerAddress(id: recipient.id), payload: PeerMessage.swim(message).buffer,
                                             timeout: .milliseconds(500)))
                }
            }
            return EventLoopFuture.whenAllComplete(futures, on: eventLoop).map { _ in }
        }
        try? await sends.get()
        logger.info("left the cluster")
    }

    /// A SWIM message from an authenticated peer; handled on the shell's loop.
    func receive(_ message: SWIMMessage, from sender: String) {
        eventLoop.execute { [self] in
            guard !state.value.stopped else { return }
            let directives = state.value.instance.onMessage(message, from: sender, now: Self.monotonicMs())
            var settledNow = false
            switch message {
            case .pushPullRequest, .pushPullResponse:
                if !state.value.settled {
                    state.value.settled = true
                    settledNow = true
                }
            default:
                break
            }
            if !perform(directives) && settledNow { publish() }
        }
    }

    /// Performs directives on the loop; returns whether it published.
    @discardableResult
    private func perform(_ directives: [SWIMDirective]) -> Bool {
        var changed = false
        for directive in directives {
            for (recipient, message) in directive.outbound { send(message, to: recipient) }
            switch directive {
            case .sendPing(let target, _, let timeout, let sequence):
                schedule(after: .milliseconds(timeout)) { shell in
                    shell.perform(shell.state.value.instance.onPingResponse(.timeout(target: target.id), sequence: sequence,
                                                                            now: Self.monotonicMs()))
                }
            case .sendPingRequest(_, let target, _, let timeout, let sequence):
                schedule(after: .milliseconds(timeout)) { shell in
                    shell.perform(shell.state.value.instance.onIndirectPingResponse(.timeout(target: target.id), sequence: sequence,
                                                                                    now: Self.monotonicMs()))
                }
            case .scheduleTick(let delay):
                schedule(after: .milliseconds(delay)) { shell in
                    shell.perform(shell.state.value.instance.onPeriodicTick(now: Self.monotonicMs()))
                }
            case .memberChanged(let change):
                changed = true
                let level: Logger.Level = change.to.isActive ? .info : .warning
                logger.log(level: level, "member \(change.member.id) is \(change.to.name)", metadata: [
                    "member": "\(change.member.id)", "incarnation": "\(change.member.incarnation)",
                    "from": "\(change.from?.name ?? "unknown")",
                ])
            case .memberRemoved(let member):
                changed = true
                logger.info("member \(member.id) removed after retention")
            case .log(let event):
                logger.log(level: event.level.loggerLevel, "\(event.message)")
            case .sendAck, .sendNack, .sendGossip, .sendPushPull, .sendPushPullResponse, .sendLeave:
                break
            }
        }
        if changed { publish() }
        return changed
    }

    private func publish() {
        let update = Update(members: state.value.instance.members, settled: state.value.settled)
        published.withLock { $0 = update.members }
        onUpdate(update)
    }

    private func send(_ message: SWIMMessage, to recipient: MemberMetadata) {
        let address = recipient.peerAddress(id: recipient.id)
        peer.send(to: address, payload: PeerMessage.swim(message).buffer, timeout: settings.sendTimeout).whenFailure { [logger] error in
            // An unreachable peer is what SWIM detects; the probe timer
            // speaks for it, so this is only worth a debug line.
            logger.debug("membership send failed", metadata: ["to": "\(address.id)", "error": "\(error)"])
        }
    }

    /// Runs `event` on the loop after `delay`, unless the shell stopped first.
    private func schedule(after delay: TimeAmount, _ event: @escaping (MembershipShell) -> Void) {
        guard !state.value.stopped else { return }
        let id = state.value.nextTimer
        state.value.nextTimer += 1
        let timer = eventLoop.assumeIsolated().scheduleTask(in: delay) { [self] in
            state.value.timers[id] = nil
            guard !state.value.stopped else { return }
            event(self)
        }
        state.value.timers[id] = timer
    }
}

extension MemberMetadata {
    func peerAddress(id: String) -> PeerAddress {
        PeerAddress(id: id, host: peerAddress.host, port: peerAddress.port)
    }
}

extension SWIMLogEvent.Level {
    var loggerLevel: Logger.Level {
        switch self {
        case .debug: .debug
        case .info: .info
        case .warning: .warning
        }
    }
}
