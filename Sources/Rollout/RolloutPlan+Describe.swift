/// What `ratelimit deploy --gradual --dry-run` prints (DESIGN.md §7): the
/// steps, how long each is held, and the worst case if every step is
/// extended once for want of samples.
extension RolloutPlan {
    /// One step of the plan, with the earliest and latest time it can start
    /// after the rollout started (latest: every earlier step extended).
    public struct PlannedStep: Sendable, Hashable {
        public let number: Int
        public let percent: Int
        /// How long the step is held before it is judged, in ms.
        public let hold: Int64
        /// The longest the step can take: held once more for want of samples.
        public let longestHold: Int64
        public let earliestStart: Int64
        public let latestStart: Int64
    }

    /// Every step with its timing.
    public var plannedSteps: [PlannedStep] {
        self.percents.enumerated().map { index, percent in
            PlannedStep(
                number: index + 1,
                percent: percent,
                hold: self.stepHold,
                longestHold: 2 * self.stepHold,
                earliestStart: Int64(index) * self.stepHold,
                latestStart: Int64(index) * 2 * self.stepHold
            )
        }
    }

    /// Human lines for `--dry-run`, e.g.
    /// `step 1: 10% of keys for 1m (up to 2m if under 100 canary decisions)`.
    public func describe(version: String) -> [String] {
        let t = self.thresholds
        var lines = [
            "gradual rollout of \(version): \(self.stepCount) steps of \(Formatting.duration(self.stepHold)), "
                + "\(Formatting.duration(self.nominalDuration)) in all, "
                + "worst case \(Formatting.duration(self.worstCaseDuration)) if every step is extended once",
        ]
        for step in self.plannedSteps {
            lines.append(
                "step \(step.number): \(step.percent)% of keys for \(Formatting.duration(step.hold)) "
                    + "(up to \(Formatting.duration(step.longestHold)) if under \(t.minSamples) canary decisions)"
            )
        }
        lines.append(
            "a step fails on: canary error rate > \(Formatting.decimal(t.maxErrorRate)), "
                + "canary p95 > \(Formatting.decimal(t.maxP95Milliseconds)) ms, "
                + "canary block rate > stable + \(Formatting.decimal(t.maxBlockRateIncrease)), "
                + "fewer than \(t.minSamples) canary decisions after one extension"
        )
        return lines
    }
}
