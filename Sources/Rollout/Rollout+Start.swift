extension Rollout {
    /// What the shell does after ``onStart(version:plan:now:)``.
    public enum StartResult: Sendable, Hashable {
        /// The version is already stable: nothing changes (`deploy` of
        /// content already stable prints its id and exits 0, §7).
        case alreadyStable(Deployment)
        /// Push `split` (the first step) to every node, start the step's
        /// metric window, and tick at `holdUntil`.
        case started(split: Deployment, holdUntil: Int64)
    }

    /// `deploy --gradual`: starts stepping `version` through `plan`.
    ///
    /// Allowed at rest only: a live canary (a direct split or another
    /// rollout) must be promoted, aborted or rolled back first, so two
    /// versions never compete for the canary's keys.
    ///
    /// - Throws: ``RolloutError/Code/illegalTransition`` with the state;
    ///   ``RolloutError/Code/invalidVersion`` for an empty version.
    public mutating func onStart(version: String, plan: RolloutPlan, now: Int64) throws(RolloutError) -> StartResult {
        guard !version.isEmpty else {
            throw RolloutError(code: .invalidVersion, message: "start: the version to roll out is empty")
        }
        guard self.state.isAtRest else { throw .illegal("start \(version)", in: self.state, deployment: self.deployment) }
        if version == self.deployment.stable { return .alreadyStable(self.deployment) }

        let step = Step(
            plan: plan, version: version, index: 0, rolloutStartedAt: now,
            startedAt: now, endsAt: now + plan.stepHold, extended: false, previousStableBlockRate: nil
        )
        let split = self.deployment.next(stable: self.deployment.stable, canary: version, percent: step.percent)
        self.apply(split, .stepping(step), after: "start")
        return .started(split: split, holdUntil: step.endsAt)
    }
}
