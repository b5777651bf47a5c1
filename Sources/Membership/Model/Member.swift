/// A member as one node sees it: who it is and what state it is in.
///
/// This is also the unit of gossip: every message piggybacks a few `Member`
/// values (SWIM 4.1, infection-style dissemination), and push-pull exchanges
/// the whole list.
public struct Member: Sendable, Hashable, CustomStringConvertible {
    public var metadata: MemberMetadata
    public var status: MemberStatus

    public init(metadata: MemberMetadata, status: MemberStatus) {
        self.metadata = metadata
        self.status = status
    }

    public var id: String { self.metadata.id }
    public var incarnation: Incarnation { self.status.incarnation }

    public var description: String { "\(self.id):\(self.status)" }
}

/// A status change the shell may act on (rebuild the ring, log, export a metric).
public struct MemberChange: Sendable, Hashable, CustomStringConvertible {
    /// The member after the change.
    public var member: Member
    /// `nil` when the member was not known before.
    public var from: MemberStatus?
    public var to: MemberStatus { self.member.status }

    public init(member: Member, from: MemberStatus?) {
        self.member = member
        self.from = from
    }

    /// True when the member entered or left the active set (alive or
    /// suspect). Placement only needs to react to these; alive <-> suspect
    /// flips and incarnation bumps are SWIM-internal.
    public var isReachabilityChange: Bool {
        guard let from = self.from else { return true }
        return from.isActive != self.to.isActive
    }

    public var description: String {
        "\(self.member.id): \(self.from.map { "\($0)" } ?? "unknown") -> \(self.to)"
    }
}
