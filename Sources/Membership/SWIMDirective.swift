/// What the shell must do after feeding an event to ``SWIMInstance``
/// (the instance / directive split of apple/swift-cluster-membership: the
/// instance decides, the shell performs IO and timers).
///
/// Timers: after `.sendPing(..., timeout:, sequence:)` the shell calls
/// ``SWIMInstance/onPingResponse(_:sequence:now:)`` with `.timeout` once
/// `timeout` ms passed; after `.sendPingRequest` it calls
/// ``SWIMInstance/onIndirectPingResponse(_:sequence:now:)`` with `.timeout`.
/// Late or duplicate callbacks are ignored, so timers need not be cancelled.
public enum SWIMDirective: Sendable, Hashable {
    /// Send `.ping(sequence:payload:)` to `to`, then start a `timeout` ms timer.
    case sendPing(to: MemberMetadata, payload: [Member], timeout: Int64, sequence: UInt64)
    /// Send `.pingRequest` about `target` to every intermediary, then start
    /// one `timeout` ms timer for the indirect phase.
    case sendPingRequest(
        to: [MemberMetadata],
        target: MemberMetadata,
        payload: [Member],
        timeout: Int64,
        sequence: UInt64
    )
    /// Send `.ack`: our answer to a ping, or a relayed answer.
    case sendAck(to: MemberMetadata, target: String, incarnation: Incarnation, payload: [Member], sequence: UInt64)
    /// Send `.nack`: we relayed a ping for `to` and `target` did not answer.
    case sendNack(to: MemberMetadata, target: String, sequence: UInt64)
    /// Send `.gossip`.
    case sendGossip(to: MemberMetadata, payload: [Member])
    /// Send `.pushPullRequest` with our full state (periodic sync, or join).
    case sendPushPull(to: MemberMetadata, state: [Member])
    /// Send `.pushPullResponse` with our full state after merging a request.
    case sendPushPullResponse(to: MemberMetadata, state: [Member])
    /// Send `.leave`: we are leaving gracefully.
    case sendLeave(to: MemberMetadata, member: Member)
    /// Call ``SWIMInstance/onPeriodicTick(now:)`` after this many ms.
    case scheduleTick(after: Int64)
    /// A member changed status (or appeared).
    case memberChanged(MemberChange)
    /// A dead or left member was reaped after the retention period.
    case memberRemoved(Member)
    /// Something worth a log line; the core has no logger.
    case log(SWIMLogEvent)

    /// The messages this directive asks to send, one per recipient.
    /// Shells and the simulation use this to stay in step with the codec.
    public var outbound: [(recipient: MemberMetadata, message: SWIMMessage)] {
        switch self {
        case .sendPing(let to, let payload, _, let sequence):
            [(to, .ping(sequence: sequence, payload: payload))]
        case .sendPingRequest(let to, let target, let payload, let timeout, let sequence):
            to.map { ($0, .pingRequest(sequence: sequence, target: target, timeout: timeout, payload: payload)) }
        case .sendAck(let to, let target, let incarnation, let payload, let sequence):
            [(to, .ack(sequence: sequence, target: target, incarnation: incarnation, payload: payload))]
        case .sendNack(let to, let target, let sequence):
            [(to, .nack(sequence: sequence, target: target))]
        case .sendGossip(let to, let payload):
            [(to, .gossip(payload: payload))]
        case .sendPushPull(let to, let state):
            [(to, .pushPullRequest(state: state))]
        case .sendPushPullResponse(let to, let state):
            [(to, .pushPullResponse(state: state))]
        case .sendLeave(let to, let member):
            [(to, .leave(member: member))]
        case .scheduleTick, .memberChanged, .memberRemoved, .log:
            []
        }
    }
}

/// A log line from the core, for the shell's swift-log logger.
public struct SWIMLogEvent: Sendable, Hashable, CustomStringConvertible {
    public enum Level: Sendable, Hashable, Comparable {
        case debug, info, warning
    }

    public var level: Level
    public var message: String

    public init(level: Level, message: String) {
        self.level = level
        self.message = message
    }

    public var description: String { "[\(self.level)] \(self.message)" }
}
