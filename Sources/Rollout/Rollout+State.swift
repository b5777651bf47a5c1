extension Rollout {
    /// Where the machine is: one enum, so no combination of flags can
    /// describe an impossible rollout (STYLE.md). `idle`, `completed`,
    /// `rolledBack` and `aborted` are at rest (no canary); `split` and
    /// `stepping` have a canary in service.
    public enum State: Sendable, Hashable, CustomStringConvertible {
        /// Nothing deployed since the machine was created.
        case idle
        /// A direct split (`deploy --percent P`, P < 100) since `since`:
        /// the canary stays at its share until promoted, aborted, rolled
        /// back or set again. No analysis runs.
        case split(version: String, since: Int64)
        /// A gradual rollout at one of its steps.
        case stepping(Step)
        /// `version` became stable at `at` (a completed rollout, a promote,
        /// or a direct split of 100 %).
        case completed(version: String, at: Int64)
        /// A version was taken out of service, automatically or by `rollback`.
        case rolledBack(RollbackRecord)
        /// `rollout abort`: the canary `version` left service at `percent`.
        case aborted(version: String, percent: Int, at: Int64)

        /// True when no canary is in service.
        public var isAtRest: Bool {
            switch self {
            case .idle, .completed, .rolledBack, .aborted: true
            case .split, .stepping: false
            }
        }

        public var description: String {
            switch self {
            case .idle: "idle"
            case .split(let version, let since): "split of \(version) since \(since)"
            case .stepping(let step): "\(step)"
            case .completed(let version, let at): "completed \(version) at \(at)"
            case .rolledBack(let record): "\(record)"
            case .aborted(let version, let percent, let at): "aborted \(version) at \(percent)% at \(at)"
            }
        }
    }

    /// The progress of a gradual rollout: everything needed to continue it
    /// after a restart.
    public struct Step: Sendable, Hashable, Codable, CustomStringConvertible {
        public let plan: RolloutPlan
        /// The canary being rolled out.
        public let version: String
        /// Index into `plan.percents`.
        public let index: Int
        /// When the rollout's first step started.
        public let rolloutStartedAt: Int64
        /// When this step's split was applied: its window starts here.
        public let startedAt: Int64
        /// When this step is judged: `startedAt + stepHold`, or one more
        /// `stepHold` from the moment it was extended.
        public let endsAt: Int64
        /// The step was already held once more for want of samples.
        public let extended: Bool
        /// The stable block rate measured in the latest earlier step that had
        /// stable traffic: the baseline at 100 %, where stable serves nothing.
        public let previousStableBlockRate: Double?

        /// The canary's share in this step.
        public var percent: Int { self.plan.percents[self.index] }

        /// True at the plan's last step (100 %).
        public var isLast: Bool { self.index == self.plan.stepCount - 1 }

        public var description: String {
            "stepping \(self.version) at step \(self.index + 1)/\(self.plan.stepCount) "
                + "(\(self.plan.percents.indices.contains(self.index) ? "\(self.percent)%" : "?"), "
                + "started \(self.startedAt), ends \(self.endsAt)\(self.extended ? ", extended" : ""))"
        }

        func extending(now: Int64) -> Step {
            Step(
                plan: self.plan, version: self.version, index: self.index, rolloutStartedAt: self.rolloutStartedAt,
                startedAt: self.startedAt, endsAt: now + self.plan.stepHold, extended: true,
                previousStableBlockRate: self.previousStableBlockRate
            )
        }

        func advancing(now: Int64, stableBlockRate: Double?) -> Step {
            Step(
                plan: self.plan, version: self.version, index: self.index + 1, rolloutStartedAt: self.rolloutStartedAt,
                startedAt: now, endsAt: now + self.plan.stepHold, extended: false,
                previousStableBlockRate: stableBlockRate ?? self.previousStableBlockRate
            )
        }

        func rescheduled(endsAt: Int64) -> Step {
            Step(
                plan: self.plan, version: self.version, index: self.index, rolloutStartedAt: self.rolloutStartedAt,
                startedAt: self.startedAt, endsAt: endsAt, extended: self.extended,
                previousStableBlockRate: self.previousStableBlockRate
            )
        }
    }

    /// A version taken out of service, kept for `deployments status` and the
    /// critical alert's details (§8: version, percent, reason).
    public struct RollbackRecord: Sendable, Hashable, Codable, CustomStringConvertible {
        /// The version taken out: the canary, or the stable version replaced.
        public let version: String
        /// Its share of keys when it was taken out.
        public let percent: Int
        /// The stable version serving every key afterwards.
        public let restored: String
        public let reason: String
        /// True when a failed step triggered it (then `verdict` is set).
        public let automatic: Bool
        /// The failed step's analysis, for automatic rollbacks.
        public let verdict: Verdict?
        public let at: Int64

        public init(
            version: String, percent: Int, restored: String, reason: String, automatic: Bool, verdict: Verdict?, at: Int64
        ) {
            self.version = version
            self.percent = percent
            self.restored = restored
            self.reason = reason
            self.automatic = automatic
            self.verdict = verdict
            self.at = at
        }

        public var description: String {
            "rolled back \(self.version) at \(self.percent)% to \(self.restored) at \(self.at): \(self.reason)"
        }
    }
}
