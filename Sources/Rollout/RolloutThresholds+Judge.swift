/// The step analysis of DESIGN.md §7 as one pure function, so the rule table
/// can be tested without the state machine.
extension RolloutThresholds {
    /// Judges a step from its window.
    ///
    /// - Parameters:
    ///   - percent: the canary's share in this step.
    ///   - previousStableBlockRate: the stable block rate of the previous
    ///     step. At 100 % the canary is compared with it (stable serves
    ///     nothing then); before that it stands in when stable had no
    ///     decisions in this step.
    ///   - stepEnded: the step's hold is over.
    ///   - extended: the step was already held once more for want of samples.
    ///
    /// Rates from fewer than `minSamples` canary decisions are not judged:
    /// `min_samples` is what "enough to judge" means (§8). With enough
    /// samples a crossed threshold fails the step even before its end, so a
    /// bad canary rolls back at once instead of serving out the step.
    public func judge(
        _ window: StepWindow,
        percent: Int,
        previousStableBlockRate: Double?,
        stepEnded: Bool,
        extended: Bool
    ) -> Verdict {
        let canary = window.canary
        let samples = canary.decisions
        let errorRate = canary.errorRate
        let p95 = canary.latency.p95Milliseconds
        let blockRate = canary.blockRate
        let stableRate: Double? =
            percent >= 100 ? previousStableBlockRate : (window.stable.blockRate ?? previousStableBlockRate)

        func verdict(_ outcome: Verdict.Outcome, _ failed: [Verdict.Check], _ reason: String) -> Verdict {
            Verdict(
                outcome: outcome,
                failed: failed,
                percent: percent,
                samples: samples,
                stableSamples: window.stable.decisions,
                canaryErrorRate: errorRate,
                canaryP95Milliseconds: p95,
                canaryBlockRate: blockRate,
                stableBlockRate: stableRate,
                reason: reason
            )
        }

        guard samples >= self.minSamples else {
            let shortfall = "\(samples) canary decisions < min_samples \(self.minSamples)"
            if !stepEnded { return verdict(.pending, [.samples], "waiting: \(shortfall)") }
            if !extended { return verdict(.extend, [.samples], "\(shortfall): step extended once") }
            return verdict(.fail, [.samples], "\(shortfall) after extending the step once")
        }

        var failed: [Verdict.Check] = []
        var crossed: [String] = []
        var within: [String] = []
        if let errorRate {
            let text = "canary error rate \(Formatting.decimal(errorRate))"
            if errorRate > self.maxErrorRate {
                failed.append(.errorRate)
                crossed.append("\(text) > \(Formatting.decimal(self.maxErrorRate))")
            } else {
                within.append("\(text) <= \(Formatting.decimal(self.maxErrorRate))")
            }
        }
        if let p95 {
            let text = "canary p95 \(Formatting.decimal(p95, maxFractionDigits: 1)) ms"
            if p95 > self.maxP95Milliseconds {
                failed.append(.latency)
                crossed.append("\(text) > \(Formatting.decimal(self.maxP95Milliseconds)) ms")
            } else {
                within.append("\(text) <= \(Formatting.decimal(self.maxP95Milliseconds)) ms")
            }
        } else {
            within.append("canary p95 unknown (no latency observations)")
        }
        if let blockRate, let stableRate {
            // The difference of two rounded ratios: a canary exactly 0.2 above
            // stable must not fail by a rounding error of the last bit.
            let excess = blockRate - stableRate - self.maxBlockRateIncrease
            let text = "canary block rate \(Formatting.decimal(blockRate))"
            let bound = "stable \(Formatting.decimal(stableRate)) + \(Formatting.decimal(self.maxBlockRateIncrease))"
            if excess > 1e-9 {
                failed.append(.blockRate)
                crossed.append("\(text) > \(bound)")
            } else {
                within.append("\(text) <= \(bound)")
            }
        } else {
            within.append("block rate not compared (no stable block rate yet)")
        }

        if !failed.isEmpty { return verdict(.fail, failed, crossed.joined(separator: "; ")) }
        let figures = "\(samples) canary decisions; " + within.joined(separator: ", ")
        return verdict(stepEnded ? .pass : .pending, [], figures)
    }
}
