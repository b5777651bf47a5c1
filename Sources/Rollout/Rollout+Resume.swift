extension Rollout {
    /// What the shell does after ``onResume(now:)``.
    public enum ResumeResult: Sendable, Hashable {
        /// A gradual rollout was running: push `split` again (nodes that
        /// already have its epoch ignore it) and tick at `holdUntil`, which
        /// is `now` or earlier when the step is already due.
        case continueStep(split: Deployment, holdUntil: Int64)
        /// No gradual rollout: push `deployment` again so nodes converge.
        case unchanged(Deployment)
    }

    /// The coordinator restarted and decoded this value from its journal.
    ///
    /// The step keeps its end: the nodes served the split while the
    /// coordinator was down, so the step's remaining time is `endsAt - now`
    /// (due at once if that passed). If the wall clock went back (`now`
    /// before the step started), the end is pulled in to at most one
    /// `stepHold` from `now`, so a clock step never holds a step longer than
    /// the plan allows.
    public mutating func onResume(now: Int64) -> ResumeResult {
        guard case .stepping(let step) = self.state else { return .unchanged(self.deployment) }
        let latestEnd = now + step.plan.stepHold
        if step.endsAt > latestEnd {
            self.apply(self.deployment, .stepping(step.rescheduled(endsAt: latestEnd)), after: "resume")
            return .continueStep(split: self.deployment, holdUntil: latestEnd)
        }
        return .continueStep(split: self.deployment, holdUntil: step.endsAt)
    }

    /// The time left in the current step at `now` (0 when due), or nil when
    /// not stepping; for `deployments status` and the dashboard.
    public func remainingStepTime(now: Int64) -> Int64? {
        guard case .stepping(let step) = self.state else { return nil }
        return max(0, step.endsAt - now)
    }
}
