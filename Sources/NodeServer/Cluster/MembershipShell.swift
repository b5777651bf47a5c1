import Logging
import Membership
import NIOCore
import PeerTransport
import ServiceLifecycle
import Synchronization

/// The IO shell around the pure `SWIMInstance` (the instance/shell split of
/// apple/swift-cluster-membership): feeds it messages and timer events,
/// performs its directives over the mutual-TLS peer link, and publishes the
/// active members whenever reachability changes.
final class MembershipShell: Service {
    private let instance: Mutex<SWIMInstance>
    private let peer: PeerService
    private let queue: WorkQueue
    private let clock: any WallClock
    private let seeds: [MemberMetadata]
    private let logger: Logger
    private let onMembersChanged: @Sendable ([Member]) -> Void

    init(instance: SWIMInstance, seeds: [MemberMetadata], peer: PeerService, queue: WorkQueue, clock: any WallClock,
         logger: Logger, onMembersChanged: @escaping @Sendable ([Member]) -> Void) {
        self.instance = Mutex(instance)
        self.seeds = seeds
        self.peer = peer
        self.queue = queue
        self.clock = clock
        self.logger = logger
        self.onMembersChanged = onMembersChanged
    }

    var members: [Member] { instance.withLock { $0.members } }
    var myself: Member { instance.withLock { $0.myselfMember } }

    func run() async throws {
        perform(instance.withLock { $0.onJoin(seeds: seeds, now: clock.nowMs()) })
        onMembersChanged(instance.withLock { $0.activeMembers })
        try? await gracefulShutdown()
        await leave()
    }

    /// Tells every active member directly, waiting briefly for the sends, so
    /// peers move our keys at once instead of after a failure detection.
    private func leave() async {
        let directives = instance.withLock { $0.leave(now: clock.nowMs()) }
        await withDiscardingTaskGroup { group in
            for directive in directives {
                for (recipient, message) in directive.outbound {
                    group.addTask { [peer] in
                        try? await peer.send(to: recipient.peerAddress(id: recipient.id),
                                             payload: PeerMessage.swim(message.encode()).buffer, timeout: .milliseconds(500))
                    }
                }
            }
        }
        logger.info("left the cluster")
    }

    /// A SWIM message from an authenticated peer.
    func receive(_ bytes: [UInt8], from sender: String) {
        let message: SWIMMessage
        do {
            message = try SWIMMessage(decoding: bytes)
        } catch {
            logger.warning("dropping malformed membership message", metadata: ["from": "\(sender)", "error": "\(error)"])
            return
        }
        perform(instance.withLock { $0.onMessage(message, from: sender, now: clock.nowMs()) })
    }

    private func perform(_ directives: [SWIMDirective]) {
        var changed = false
        for directive in directives {
            for (recipient, message) in directive.outbound { send(message, to: recipient) }
            switch directive {
            case .sendPing(let target, _, let timeout, let sequence):
                after(timeout) { instance, now in instance.onPingResponse(.timeout(target: target.id), sequence: sequence, now: now) }
            case .sendPingRequest(_, let target, _, let timeout, let sequence):
                after(timeout) { instance, now in
                    instance.onIndirectPingResponse(.timeout(target: target.id), sequence: sequence, now: now)
                }
            case .scheduleTick(let delay):
                after(delay) { instance, now in instance.onPeriodicTick(now: now) }
            case .memberChanged(let change):
                changed = changed || change.isReachabilityChange || change.from == nil
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
        if changed { onMembersChanged(instance.withLock { $0.activeMembers }) }
    }

    private func send(_ message: SWIMMessage, to recipient: MemberMetadata) {
        let payload = PeerMessage.swim(message.encode()).buffer
        let address = recipient.peerAddress(id: recipient.id)
        queue.enqueue { [peer, logger] in
            do {
                try await peer.send(to: address, payload: payload, timeout: .seconds(1))
            } catch {
                // An unreachable peer is what SWIM detects; the probe timer
                // speaks for it, so this is only worth a debug line.
                logger.debug("membership send failed", metadata: ["to": "\(address.id)", "error": "\(error)"])
            }
        }
    }

    private func after(_ delay: Int64, _ event: @escaping @Sendable (inout SWIMInstance, Int64) -> [SWIMDirective]) {
        queue.enqueue { [self] in
            do { try await Task.sleep(for: .milliseconds(delay)) } catch { return }
            perform(instance.withLock { event(&$0, clock.nowMs()) })
        }
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
