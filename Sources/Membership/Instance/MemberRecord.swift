/// What one instance remembers about another member, beyond what it gossips.
struct MemberRecord: Sendable, Hashable {
    var member: Member
    /// Local time of the last status change: dead and left members are
    /// reaped `retention.deadMember` after it.
    var changedAt: Int64
    /// Local start of the current suspicion (Lifeguard IV.B measures the
    /// timeout from when *this* node first suspected, not from the gossip).
    var suspectedAt: Int64?
}

/// A reaped member: stale gossip may not resurrect it at an incarnation not
/// above `incarnation` (swift-cluster-membership's tombstones).
struct Tombstone: Sendable, Hashable {
    var metadata: MemberMetadata
    var incarnation: Incarnation
    var expiresAt: Int64
}

/// A probe this instance started (SWIM 4.1 failure detector).
struct Probe: Sendable, Hashable {
    enum Phase: Sendable, Hashable {
        /// Waiting for the direct ack.
        case direct
        /// Waiting for an ack relayed by one of `expectedNacks` intermediaries;
        /// `nacks` of them reported that they could not reach the target either.
        case indirect(expectedNacks: Int, nacks: Int)
    }

    var target: String
    var startedAt: Int64
    var phase: Phase
}

/// A ping we send on behalf of another member's ping request.
struct Relay: Sendable, Hashable {
    var origin: MemberMetadata
    var originSequence: UInt64
    var target: String
    var startedAt: Int64
}

/// How an incoming member list is merged.
enum MergeMode: Sendable {
    /// Piggybacked or relayed gossip: statuses apply as they are.
    case gossip
    /// A full state from push-pull: a remote `dead` only makes us suspect,
    /// we do not declare a member dead on another node's word alone
    /// (memberlist `mergeState`).
    case pushPull
}
