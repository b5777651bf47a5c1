/// Tunables of the SWIM + Lifeguard protocol. Every property is defaulted;
/// all durations are milliseconds.
///
/// The defaults are sized for a LAN / loopback cluster of 3-50 processes on a
/// small, possibly overloaded machine:
/// - a killed member is declared dead by every survivor of a 3-node cluster
///   in about 3 s (worst case: ~3 protocol periods until it is probed, 300 ms
///   of direct + indirect probe, the 2 s suspicion timeout, one tick and one
///   gossip hop), comfortably under 5 s;
/// - a live member that is merely slow has 2 s (more in larger clusters, see
///   ``LifeguardSettings/suspicionMultiplier``) to hear it is suspected and
///   refute, and a node that is itself starved of CPU stretches its own probe
///   timeouts up to 9x through the local health multiplier (Lifeguard IV.A),
///   so an overloaded 2-core machine raises suspicions but not false deaths.
public struct SWIMSettings: Sendable, Hashable {
    /// SWIM's protocol period T': one probe (and one gossip fan-out) per
    /// period. Scaled by `1 + localHealth` (Lifeguard IV.A).
    public var protocolPeriod: Int64 = 200

    /// How long to wait for a direct ack before asking others to probe
    /// (memberlist `ProbeTimeout`). Scaled by `1 + localHealth`.
    public var pingTimeout: Int64 = 100

    /// How long, after the ping requests are sent, the prober waits for an
    /// indirect ack before it suspects the target. Scaled by `1 + localHealth`.
    /// Must leave room for two more hops than a direct ping.
    public var indirectPingTimeout: Int64 = 200

    /// SWIM's `k`: members asked to probe a target that missed its direct
    /// ping (fewer when the cluster is smaller).
    public var indirectProbeCount: Int = 3

    public var lifeguard = LifeguardSettings()
    public var gossip = GossipSettings()
    public var retention = RetentionSettings()

    public init() {}

    /// Lifeguard extensions (Dadgar et al., "Lifeguard: Local Health
    /// Awareness for More Accurate Failure Detection", 2018), as realised by
    /// hashicorp/memberlist (`awareness.go`, `suspicion.go`).
    public struct LifeguardSettings: Sendable, Hashable {
        /// Ceiling of the local health multiplier (LHM, Lifeguard IV.A). The
        /// LHM rises on missed nacks, failed probes without helpers and
        /// refutations about ourselves, falls on every successful probe, and
        /// multiplies the protocol period and probe timeouts by `1 + LHM`.
        public var maxLocalHealth: Int = 8

        /// Minimum suspicion timeout, in protocol periods, scaled by
        /// `max(1, log10(n))` for `n` active members (memberlist
        /// `SuspicionMult`). 10 x 200 ms = 2 s below 10 members.
        /// memberlist uses 4 with a 1 s period; our period is 5x shorter, so
        /// the multiplier is larger to keep a comparable refutation window.
        public var suspicionMultiplier: Double = 10

        /// Maximum suspicion timeout as a multiple of the minimum (memberlist
        /// `SuspicionMaxTimeoutMult`). A fresh, unconfirmed suspicion waits
        /// this long; each independent confirmation shortens it (Lifeguard IV.B).
        public var suspicionMaxMultiplier: Double = 4

        /// Independent confirmations (Lifeguard's `K`) that drive the
        /// suspicion timeout down to its minimum. When the cluster is too
        /// small to ever provide them (`n - 2 < K`), the minimum applies at once.
        public var suspicionConfirmations: Int = 3

        /// An intermediary waits this fraction of the prober's indirect
        /// timeout before it sends a nack, so the nack arrives in time
        /// (Lifeguard IV.A "buddy"/nack; swift-cluster-membership uses 0.8).
        public var relayTimeoutFraction: Double = 0.8

        public init() {}
    }

    /// Infection-style dissemination (SWIM 4.1) and anti-entropy.
    public struct GossipSettings: Sendable, Hashable {
        /// Members that receive a gossip message each protocol period while
        /// there is news to spread (memberlist `GossipNodes`).
        public var fanout: Int = 3

        /// Each update is sent `retransmitMultiplier * ceil(log10(n + 1))`
        /// times by every member that learned it (memberlist `RetransmitMult`).
        public var retransmitMultiplier: Int = 4

        /// Gossip entries piggybacked on one message, including the sender's
        /// own entry. Bounds message size (~60 bytes per entry).
        public var maxEntriesPerMessage: Int = 16

        /// Period of the full-state push-pull with one random member
        /// (memberlist `PushPullInterval`), repairing anything gossip missed.
        public var pushPullInterval: Int64 = 5_000

        /// While a joining node knows no other live member, it repeats the
        /// push-pull with its seeds this often.
        public var joinRetryInterval: Int64 = 1_000

        /// This often a node push-pulls with one seed it does not see alive
        /// (declared dead, or reaped), as Serf reconnects to failed members:
        /// two groups that declared each other dead in a partition find each
        /// other again once the network heals. 0 turns it off.
        public var reconnectInterval: Int64 = 3_000

        public init() {}
    }

    /// How long departed members stay visible.
    public struct RetentionSettings: Sendable, Hashable {
        /// Dead and left members stay listed this long after the change, so
        /// operators see them in `GET /admin/members`; then they are reaped.
        public var deadMember: Int64 = 600_000

        /// After reaping, stale gossip that would resurrect the member at an
        /// incarnation not higher than its last one is refused for this long.
        public var tombstone: Int64 = 3_600_000

        public init() {}
    }

    /// Checks every setting; the error names the offending key.
    public func validate() throws(MembershipError) {
        func require(_ condition: Bool, _ key: String, _ rule: String, _ value: Any) throws(MembershipError) {
            if !condition {
                throw MembershipError(
                    code: .invalidSetting,
                    message: "SWIM setting `\(key)` must be \(rule), got \(value)"
                )
            }
        }
        try require(self.protocolPeriod > 0, "protocolPeriod", "> 0 ms", self.protocolPeriod)
        try require(self.pingTimeout > 0, "pingTimeout", "> 0 ms", self.pingTimeout)
        try require(self.indirectPingTimeout > 0, "indirectPingTimeout", "> 0 ms", self.indirectPingTimeout)
        try require(self.indirectProbeCount >= 0, "indirectProbeCount", ">= 0", self.indirectProbeCount)
        let lifeguard = self.lifeguard
        try require(lifeguard.maxLocalHealth >= 0, "lifeguard.maxLocalHealth", ">= 0", lifeguard.maxLocalHealth)
        try require(
            lifeguard.suspicionMultiplier > 0,
            "lifeguard.suspicionMultiplier",
            "> 0",
            lifeguard.suspicionMultiplier
        )
        try require(
            lifeguard.suspicionMaxMultiplier >= 1,
            "lifeguard.suspicionMaxMultiplier",
            ">= 1",
            lifeguard.suspicionMaxMultiplier
        )
        try require(
            lifeguard.suspicionConfirmations >= 0,
            "lifeguard.suspicionConfirmations",
            ">= 0",
            lifeguard.suspicionConfirmations
        )
        try require(
            lifeguard.relayTimeoutFraction > 0 && lifeguard.relayTimeoutFraction < 1,
            "lifeguard.relayTimeoutFraction",
            "between 0 and 1 (exclusive)",
            lifeguard.relayTimeoutFraction
        )
        try require(self.gossip.fanout >= 0, "gossip.fanout", ">= 0", self.gossip.fanout)
        try require(
            self.gossip.retransmitMultiplier >= 1,
            "gossip.retransmitMultiplier",
            ">= 1",
            self.gossip.retransmitMultiplier
        )
        try require(
            self.gossip.maxEntriesPerMessage >= 2,
            "gossip.maxEntriesPerMessage",
            ">= 2 (own entry plus one)",
            self.gossip.maxEntriesPerMessage
        )
        try require(self.gossip.pushPullInterval > 0, "gossip.pushPullInterval", "> 0 ms", self.gossip.pushPullInterval)
        try require(
            self.gossip.joinRetryInterval > 0,
            "gossip.joinRetryInterval",
            "> 0 ms",
            self.gossip.joinRetryInterval
        )
        try require(
            self.gossip.reconnectInterval >= 0,
            "gossip.reconnectInterval",
            ">= 0 ms (0: off)",
            self.gossip.reconnectInterval
        )
        try require(self.retention.deadMember >= 0, "retention.deadMember", ">= 0 ms", self.retention.deadMember)
        try require(self.retention.tombstone >= 0, "retention.tombstone", ">= 0 ms", self.retention.tombstone)
    }
}
