/// A message between two SWIM instances. The sender's identity is not in
/// the message: the peer transport proves it (mTLS, node id in the
/// certificate's SPIFFE URI SAN) and passes it to
/// ``SWIMInstance/onMessage(_:from:now:)``.
///
/// Every gossip-carrying message starts its payload with the sender's own
/// entry, so a receiver can always address a reply and learns of a new
/// member from its first message.
///
/// Encoded with ``encode()`` / ``init(decoding:)`` (see `SWIMMessage+Codec.swift`).
public enum SWIMMessage: Sendable, Hashable {
    /// SWIM probe. Answer with `.ack` carrying the same sequence.
    case ping(sequence: UInt64, payload: [Member])
    /// SWIM `ping-req`: please probe `target` for me and relay the answer
    /// (`.ack`), or a `.nack` after `timeout * relayTimeoutFraction` ms (Lifeguard).
    case pingRequest(sequence: UInt64, target: MemberMetadata, timeout: Int64, payload: [Member])
    /// Answer to a ping, or an answer relayed by an intermediary. `target` is
    /// the member that was probed, `incarnation` its own incarnation.
    case ack(sequence: UInt64, target: String, incarnation: Incarnation, payload: [Member])
    /// An intermediary could not reach `target` in time (Lifeguard nack):
    /// tells the prober its own link to the intermediary works.
    case nack(sequence: UInt64, target: String)
    /// Gossip only, sent to a few random members while there is news.
    case gossip(payload: [Member])
    /// Full-state anti-entropy request (memberlist push-pull); also the join request.
    case pushPullRequest(state: [Member])
    /// The receiver's full state after merging the request.
    case pushPullResponse(state: [Member])
    /// The sender is leaving gracefully; `member` holds its `.left` entry.
    case leave(member: Member)

    /// The gossip entries this message carries, if any.
    public var gossip: [Member] {
        switch self {
        case .ping(_, let payload), .pingRequest(_, _, _, let payload), .ack(_, _, _, let payload),
            .gossip(let payload):
            payload
        case .pushPullRequest(let state), .pushPullResponse(let state):
            state
        case .leave(let member):
            [member]
        case .nack:
            []
        }
    }

    /// A short name for logs and metrics.
    public var kind: String {
        switch self {
        case .ping: "ping"
        case .pingRequest: "ping-req"
        case .ack: "ack"
        case .nack: "nack"
        case .gossip: "gossip"
        case .pushPullRequest: "push-pull-request"
        case .pushPullResponse: "push-pull-response"
        case .leave: "leave"
        }
    }
}

/// The outcome of a probe, fed back by the shell (timeouts) or decoded from
/// a message (acks, nacks).
public enum SWIMPingResponse: Sendable, Hashable {
    /// The target answered; `payload` is the gossip it piggybacked.
    case ack(target: String, incarnation: Incarnation, payload: [Member])
    /// An intermediary reports it could not reach `target`.
    case nack(target: String)
    /// The timer of the directive that carried this sequence fired.
    case timeout(target: String)
}
