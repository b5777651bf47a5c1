extension Rollout {
    /// What the shell does after ``onTick(window:now:)``.
    public enum TickResult: Sendable, Hashable {
        /// The step goes on: tick again at `until` (its end), sooner if you
        /// want early failure detection. `verdict` is `.pending`.
        case hold(until: Int64, verdict: Verdict)
        /// The step ended short of `minSamples` canary decisions for the
        /// first time: it is held once more. Keep the step's window (the
        /// extension counts toward the same step) and tick at `holdUntil`.
        case extended(verdict: Verdict, holdUntil: Int64)
        /// The step passed: push `split` (the next step), start a new
        /// window, tick at `holdUntil`, print the verdict.
        case advanced(verdict: Verdict, split: Deployment, holdUntil: Int64)
        /// The 100 % step passed: push `final` (the canary is now stable,
        /// `canary: nil, percent: 0`), print the verdict; the CLI exits 0.
        case completed(verdict: Verdict, final: Deployment)
        /// The step failed: push `split` (the old stable alone) at once,
        /// send the critical "Automatic rollback" alert with `record`, and
        /// the CLI exits 1 with `Rollout failed at <record.percent>%`.
        case rolledBack(verdict: Verdict, split: Deployment, record: RollbackRecord)
        /// No gradual rollout is running (a timer that outlived a promote,
        /// abort or rollback); nothing changes. Timers need not be cancelled.
        case notStepping(State)
    }

    /// The step timer fired, or the shell has fresh metrics: judges the
    /// current step from `window` (see ``StepWindow``) and moves on.
    ///
    /// Before the step's end only a crossed threshold with enough samples
    /// acts (an immediate rollback, §7 "a failed step rolls back at once");
    /// at or after `endsAt` the step passes, is extended once, or fails.
    public mutating func onTick(window: StepWindow, now: Int64) -> TickResult {
        guard case .stepping(let step) = self.state else { return .notStepping(self.state) }

        let verdict = step.plan.thresholds.judge(
            window,
            percent: step.percent,
            previousStableBlockRate: step.previousStableBlockRate,
            stepEnded: now >= step.endsAt,
            extended: step.extended
        )
        switch verdict.outcome {
        case .pending:
            return .hold(until: step.endsAt, verdict: verdict)

        case .extend:
            let extended = step.extending(now: now)
            self.apply(self.deployment, .stepping(extended), after: "tick (extend)")
            return .extended(verdict: verdict, holdUntil: extended.endsAt)

        case .fail:
            let split = self.deployment.next(stable: self.deployment.stable, canary: nil, percent: 0)
            let record = RollbackRecord(
                version: step.version, percent: step.percent, restored: self.deployment.stable,
                reason: verdict.reason, automatic: true, verdict: verdict, at: now
            )
            self.apply(split, .rolledBack(record), after: "tick (fail)")
            return .rolledBack(verdict: verdict, split: split, record: record)

        case .pass where step.isLast:
            let final = self.deployment.next(stable: step.version, canary: nil, percent: 0)
            self.apply(final, .completed(version: step.version, at: now), after: "tick (complete)")
            return .completed(verdict: verdict, final: final)

        case .pass:
            // Only a rate measured on stable traffic becomes the baseline;
            // verdict.stableBlockRate may itself be the carried-over one.
            let next = step.advancing(now: now, stableBlockRate: window.stable.blockRate)
            let split = self.deployment.next(stable: self.deployment.stable, canary: step.version, percent: next.percent)
            self.apply(split, .stepping(next), after: "tick (advance)")
            return .advanced(verdict: verdict, split: split, holdUntil: next.endsAt)
        }
    }
}
