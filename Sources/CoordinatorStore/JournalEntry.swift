import Rollout

/// One deployment transition in the coordinator's append-only journal
/// (DESIGN.md §7: who, when, version, percent, outcome, reason, with its
/// metric snapshot), as `ratelimit deployments list|status` shows it.
///
/// Two outcomes carry meaning the store relies on for the staging gate
/// (``CoordinatorJournal/hasCompleted(rulesHash:)``), and are checked on
/// append:
/// - ``Outcome/completed``: ``version`` now serves 100 % as stable, and
///   ``deployment`` is the split that made it so (`stable == version`, no
///   canary). Gradual rollouts, `--percent 100` and `rollout promote` end so.
/// - ``Outcome/rolledBack``: ``deployment`` is the split pushed, its stable
///   the version restored; ``version`` (the version taken out of service,
///   the core's `RollbackRecord.version`) and ``fromStable`` (the stable
///   before) leave service unless they are the one restored.
public struct JournalEntry: Sendable, Hashable {
    /// What happened. Open-ended: stored as text, so an older release reads
    /// kinds a newer one added.
    public struct Kind: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
        public let rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }

        /// `deploy --gradual`: a gradual rollout started.
        public static let deploy = Kind(rawValue: "deploy")
        /// `deploy --percent P`: a direct split (or 100 %: completed at once).
        public static let percent = Kind(rawValue: "percent")
        /// A gradual rollout's step was judged (passed, extended or failed).
        public static let step = Kind(rawValue: "step")
        /// `rollout promote`.
        public static let promote = Kind(rawValue: "promote")
        /// `rollout abort`.
        public static let abort = Kind(rawValue: "abort")
        /// `rollback [VERSION]`, or an automatic rollback after a failed step.
        public static let rollback = Kind(rawValue: "rollback")
        /// A gradual rollout's last step passed.
        public static let completed = Kind(rawValue: "completed")
        /// Production's staging gate was overridden with `--force --message`.
        public static let forced = Kind(rawValue: "forced")
    }

    /// How it ended. Open-ended like ``Kind``.
    public struct Outcome: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
        public let rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }

        /// A gradual rollout began at its first step.
        public static let started = Outcome(rawValue: "started")
        /// A direct split was pushed.
        public static let applied = Outcome(rawValue: "applied")
        /// A step passed; the next step's split was pushed.
        public static let stepPassed = Outcome(rawValue: "step-passed")
        /// A step was held once more for want of samples.
        public static let stepExtended = Outcome(rawValue: "step-extended")
        /// ``JournalEntry/version`` serves 100 % as stable.
        public static let completed = Outcome(rawValue: "completed")
        /// A version was taken out of service (see ``JournalEntry``).
        public static let rolledBack = Outcome(rawValue: "rolled-back")
        /// The canary was taken out by `rollout abort`.
        public static let aborted = Outcome(rawValue: "aborted")
        /// The command was refused (e.g. the staging gate); nothing changed.
        public static let refused = Outcome(rawValue: "refused")
        /// The command asked for what was already served; nothing changed.
        public static let unchanged = Outcome(rawValue: "unchanged")
    }

    /// The entry's position in the journal, from 1; nil until appended.
    public internal(set) var seq: Int64?
    /// When, in ms since 1970.
    public var atMs: Int64
    /// Who: the author of the command, or `coordinator` for automatic steps.
    public var actor: String
    public var kind: Kind
    public var outcome: Outcome
    /// The version the transition is about: the one deployed, stepped,
    /// promoted or completed; for an abort or a rollback, the one taken out.
    public var version: String?
    /// The stable version before the transition.
    public var fromStable: String?
    /// The share of keys, in percent, the transition concerns: the step's or
    /// the split's, the share an aborted or rolled-back version had, 100 on
    /// completion. ``deployment`` holds the split that results.
    public var percent: Int?
    /// The split pushed to the nodes by this transition; nil when nothing
    /// was pushed (refused, unchanged, an extended step).
    public var deployment: Deployment?
    /// Why, for humans: the verdict's reason, `--message`, the refusal.
    public var reason: String?
    /// The metric snapshot the transition was decided on (a `Verdict`, the
    /// per-version figures), as JSON text; checked to be JSON on append.
    public var metricsJSON: String?
    /// True when the staging gate was overridden (`--force`).
    public var forced: Bool
    /// `--message WHY` of a forced deploy; required when ``forced``.
    public var forceMessage: String?

    public init(
        atMs: Int64,
        actor: String,
        kind: Kind,
        outcome: Outcome,
        version: String? = nil,
        fromStable: String? = nil,
        percent: Int? = nil,
        deployment: Deployment? = nil,
        reason: String? = nil,
        metricsJSON: String? = nil,
        forced: Bool = false,
        forceMessage: String? = nil
    ) {
        self.seq = nil
        self.atMs = atMs
        self.actor = actor
        self.kind = kind
        self.outcome = outcome
        self.version = version
        self.fromStable = fromStable
        self.percent = percent
        self.deployment = deployment
        self.reason = reason
        self.metricsJSON = metricsJSON
        self.forced = forced
        self.forceMessage = forceMessage
    }
}
