/// The SWIM failure detector and membership protocol with the Lifeguard
/// extensions, as a pure value type.
///
/// - SWIM: Das, Gupta, Motivala, "SWIM: Scalable Weakly-consistent
///   Infection-style Process Group Membership Protocol", DSN 2002:
///   round-robin probing (4.3), ping / ping-req (4.1), suspicion with
///   incarnation numbers (4.2), piggybacked gossip (4.1).
/// - Lifeguard: Dadgar, Phillips, Currey, "Lifeguard: Local Health Awareness
///   for More Accurate Failure Detection", 2018: local health multiplier
///   (IV.A), nacks from intermediaries, suspicion timeouts that shrink with
///   independent confirmations (IV.B), the "buddy system" (IV.C: a suspect is
///   always told it is suspected when probed).
/// - Anti-entropy push-pull and gossip fan-out as in hashicorp/memberlist.
///
/// The instance does no IO and reads no clock. The shell feeds it events
/// (`on...(now:)`, time in ms) and performs the returned ``SWIMDirective``s:
/// sends messages, arms timers, reacts to membership changes. This is the
/// instance / shell split of apple/swift-cluster-membership; all randomness
/// comes from a seeded generator, so a simulation replays exactly.
public struct SWIMInstance: Sendable {
    public let settings: SWIMSettings
    /// This node's metadata.
    public let myself: MemberMetadata
    /// Our incarnation; raised only by refuting a suspicion or death about us.
    public internal(set) var incarnation: Incarnation
    /// Lifeguard local health multiplier, `0...settings.lifeguard.maxLocalHealth`.
    /// Probe period and timeouts are multiplied by `1 + localHealth`.
    public internal(set) var localHealth: Int = 0
    /// True after ``leave(now:)``: we announce `.left`, stop probing and
    /// never refute again.
    public internal(set) var isLeaving = false

    var records: [String: MemberRecord] = [:]
    var tombstones: [String: Tombstone] = [:]
    var roster = ProbeRoster()
    /// Member id -> times its current entry was piggybacked.
    var pendingGossip: [String: Int] = [:]
    var probes: [UInt64: Probe] = [:]
    var relays: [UInt64: Relay] = [:]
    var lastSequence: UInt64 = 0
    var random: SplitMix64
    var seeds: [MemberMetadata] = []
    var started = false
    var nextPushPullAt: Int64 = .max
    var nextJoinAttemptAt: Int64 = .max
    var nextReconnectAt: Int64 = .max
    /// When the tick we last scheduled should fire; a much later tick means we were stalled.
    var nextTickDue: Int64?

    /// Creates the instance for `myself`.
    ///
    /// - Parameters:
    ///   - incarnation: start above any incarnation this node id may have
    ///     had before (e.g. persisted, or wall-clock seconds). Starting at 0
    ///     also works: the first message about our old death makes us refute
    ///     past it, it only takes a round trip longer.
    ///   - randomSeed: seeds probe order and peer choices; tests fix it.
    public init(myself: MemberMetadata, settings: SWIMSettings = .init(), incarnation: Incarnation = 0, randomSeed: UInt64) {
        do {
            try settings.validate()
        } catch {
            preconditionFailure("SWIMInstance(\(myself.id)): invalid settings: \(error)")
        }
        precondition(
            !myself.id.isEmpty && myself.id.utf8.count <= SWIMMessage.maxIdentifierBytes,
            "SWIMInstance: member id must be 1...\(SWIMMessage.maxIdentifierBytes) bytes, got '\(myself.id)'"
        )
        precondition(
            myself.build.utf8.count <= SWIMMessage.maxBuildBytes,
            "SWIMInstance(\(myself.id)): build string is longer than \(SWIMMessage.maxBuildBytes) bytes"
        )
        self.settings = settings
        self.myself = myself
        self.incarnation = incarnation
        self.random = SplitMix64(seed: randomSeed)
    }

    // MARK: Views

    /// Our own entry as others should see it.
    public var myselfMember: Member {
        Member(
            metadata: self.myself,
            status: self.isLeaving ? .left(incarnation: self.incarnation) : .alive(incarnation: self.incarnation)
        )
    }

    /// Every known member, ourselves included, dead and left ones until
    /// they are reaped; sorted by id.
    public var members: [Member] {
        var all = self.records.values.map(\.member)
        all.append(self.myselfMember)
        return all.sorted { $0.id < $1.id }
    }

    /// Members whose status is exactly `.alive`, ourselves included unless leaving.
    public var aliveMembers: [Member] {
        self.members.filter { $0.status.isAlive }
    }

    /// Alive and suspect members: SWIM keeps a suspect in the group until
    /// it is declared dead, so this is the set placement should hash over.
    public var activeMembers: [Member] {
        self.members.filter { $0.status.isActive }
    }

    /// The member with this id, ourselves included.
    public func member(id: String) -> Member? {
        id == self.myself.id ? self.myselfMember : self.records[id]?.member
    }

    /// Current protocol period, stretched by local health (Lifeguard IV.A).
    public var probeInterval: Int64 { self.scaledByHealth(self.settings.protocolPeriod) }

    /// Current direct ping timeout, stretched by local health.
    public var pingTimeout: Int64 { self.scaledByHealth(self.settings.pingTimeout) }

    /// Current indirect probe timeout, stretched by local health.
    public var indirectPingTimeout: Int64 { self.scaledByHealth(self.settings.indirectPingTimeout) }

    /// When the member's current suspicion expires, if it is suspect.
    public func suspicionDeadline(of id: String) -> Int64? {
        guard let record = self.records[id], case .suspect(_, let suspectedBy) = record.member.status,
            let since = record.suspectedAt
        else { return nil }
        return since + self.suspicionTimeout(confirmations: suspectedBy.count - 1)
    }

    /// Number of active members, ourselves included: the `n` of the log-n scalings.
    var activeCount: Int {
        self.records.values.reduce(self.isLeaving ? 0 : 1) { $0 + ($1.member.status.isActive ? 1 : 0) }
    }

    func scaledByHealth(_ base: Int64) -> Int64 {
        base * Int64(1 + self.localHealth)
    }

    mutating func nextSequence() -> UInt64 {
        self.lastSequence += 1
        return self.lastSequence
    }

    /// Metadata to reach `id`: from the membership, else from the message
    /// that mentioned it, else from the seeds.
    func address(of id: String, in payload: [Member] = []) -> MemberMetadata? {
        if let record = self.records[id] { return record.member.metadata }
        if let entry = payload.first(where: { $0.id == id }) { return entry.metadata }
        if let tombstone = self.tombstones[id] { return tombstone.metadata }
        return self.seeds.first { $0.id == id }
    }

    /// Other members with the given predicate on status, sorted by id so
    /// that seeded random choices among them are reproducible.
    func others(where predicate: (MemberStatus) -> Bool) -> [Member] {
        self.otherIDs(where: predicate).compactMap { self.records[$0]?.member }
    }

    /// Ids of the other members with the given predicate on status, sorted.
    func otherIDs(where predicate: (MemberStatus) -> Bool) -> [String] {
        self.records.compactMap { predicate($0.value.member.status) ? $0.key : nil }.sorted()
    }

    static func log(_ level: SWIMLogEvent.Level, _ message: String) -> SWIMDirective {
        .log(SWIMLogEvent(level: level, message: message))
    }
}

extension SWIMInstance: CustomStringConvertible {
    /// One line with the whole state, used in precondition messages.
    public var description: String {
        let members = self.members.map { "\($0)" }.joined(separator: " ")
        return "SWIMInstance(\(self.myself.id) inc=\(self.incarnation) lhm=\(self.localHealth)"
            + " leaving=\(self.isLeaving) members=[\(members)] probes=\(self.probes.count)"
            + " relays=\(self.relays.count) pendingGossip=\(self.pendingGossip.count))"
    }
}
