/// SWIM's incarnation number: only the member itself raises it, to refute a
/// suspicion or a death notice about itself (SWIM 4.2).
public typealias Incarnation = UInt64

/// How the cluster sees a member.
///
/// Legal transitions (SWIM 4.2, memberlist `state.go`):
/// - `alive(i) -> suspect(j)` for `j >= i`; `suspect(i) -> alive(j)` only for `j > i` (a refutation);
/// - `alive | suspect (i) -> dead(j) | left(j)` for `j >= i`;
/// - `dead(i) | left(i) -> alive(j) | suspect(j)` only for `j > i`: the member came back
///   (restart or resume after a pause) and refuted its own death with a higher incarnation.
///
/// ``supersedes(_:)`` encodes exactly this order.
public enum MemberStatus: Sendable, Hashable, CustomStringConvertible {
    /// Answers probes (directly or through others).
    case alive(incarnation: Incarnation)
    /// Missed a probe; will be declared dead unless it refutes before the
    /// suspicion timeout. `suspectedBy` holds the ids of the members that
    /// independently suspected it (Lifeguard IV.B: each one shortens the timeout).
    case suspect(incarnation: Incarnation, suspectedBy: Set<String>)
    /// Did not refute a suspicion in time. Final for this incarnation.
    case dead(incarnation: Incarnation)
    /// Announced a graceful leave. Final for this incarnation.
    case left(incarnation: Incarnation)

    public var incarnation: Incarnation {
        switch self {
        case .alive(let incarnation), .suspect(let incarnation, _), .dead(let incarnation), .left(let incarnation):
            incarnation
        }
    }

    public var isAlive: Bool {
        if case .alive = self { true } else { false }
    }

    public var isSuspect: Bool {
        if case .suspect = self { true } else { false }
    }

    /// Alive or suspect: still a member. SWIM keeps suspects in the group
    /// (they may refute), so placement should keep them too.
    public var isActive: Bool {
        switch self {
        case .alive, .suspect: true
        case .dead, .left: false
        }
    }

    /// Dead or left: no longer probed, kept listed until reaped.
    public var isGone: Bool { !self.isActive }

    /// Rank inside one incarnation: `alive < suspect < dead < left`.
    /// `left` outranks `dead` because a leave is the member's own word.
    var rank: Int {
        switch self {
        case .alive: 0
        case .suspect: 1
        case .dead: 2
        case .left: 3
        }
    }

    /// Whether this status should replace `other` for the same member:
    /// `(incarnation, rank)` is compared lexicographically, so
    /// `alive(n) < suspect(n) < dead(n) < left(n) < alive(n+1)`.
    ///
    /// Two suspicions of the same incarnation never supersede each other;
    /// their `suspectedBy` sets are merged instead (Lifeguard confirmations).
    public func supersedes(_ other: MemberStatus) -> Bool {
        if self.incarnation != other.incarnation {
            return self.incarnation > other.incarnation
        }
        return self.rank > other.rank
    }

    /// The short word an operator sees (`GET /admin/members`).
    public var name: String {
        switch self {
        case .alive: "alive"
        case .suspect: "suspect"
        case .dead: "dead"
        case .left: "left"
        }
    }

    public var description: String {
        switch self {
        case .suspect(let incarnation, let suspectedBy):
            "suspect(\(incarnation), by: \(suspectedBy.sorted().joined(separator: ",")))"
        default:
            "\(self.name)(\(self.incarnation))"
        }
    }
}
