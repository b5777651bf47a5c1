/// The judgement of one rollout step with the figures it was made on
/// (DESIGN.md §7). The CLI prints ``summary`` once per step; the journal
/// keeps the whole value as the step's metric snapshot; a rollback sends
/// ``reason`` in the critical alert.
public struct Verdict: Sendable, Hashable, Codable, CustomStringConvertible {
    public enum Outcome: String, Sendable, Hashable, Codable {
        /// The step is still running and nothing failed yet.
        case pending
        /// The step ended within every threshold: go to the next step.
        case pass
        /// The step ended with fewer than `minSamples` canary decisions for
        /// the first time: hold it once more.
        case extend
        /// A threshold was crossed, or samples are still short after the
        /// extension: roll back.
        case fail
    }

    /// One threshold of §7.
    public enum Check: String, Sendable, Hashable, Codable {
        /// Canary errors / decisions > `maxErrorRate`.
        case errorRate = "error_rate"
        /// Canary p95 > `maxP95Milliseconds`.
        case latency = "p95"
        /// Canary block rate > stable block rate + `maxBlockRateIncrease`.
        case blockRate = "block_rate"
        /// Fewer than `minSamples` canary decisions.
        case samples = "min_samples"
    }

    public let outcome: Outcome
    /// The checks that failed (for `.fail`) or fell short (`.extend`,
    /// `.pending`: `.samples` while under `minSamples`); empty on `.pass`.
    public let failed: [Check]
    /// The canary's share during the step.
    public let percent: Int
    /// Canary decisions in the step: the samples.
    public let samples: Int64
    /// Stable decisions in the step (0 at 100 %).
    public let stableSamples: Int64
    public let canaryErrorRate: Double?
    public let canaryP95Milliseconds: Double?
    public let canaryBlockRate: Double?
    /// The stable block rate the canary was compared with: this step's, or
    /// at 100 % (and when stable had no decisions) the previous step's; nil
    /// when none is known, and then the block check is skipped.
    public let stableBlockRate: Double?
    /// Why, for humans: the crossed thresholds ("canary p95 312 ms > 200 ms"),
    /// or the figures within them.
    public let reason: String

    public init(
        outcome: Outcome,
        failed: [Check],
        percent: Int,
        samples: Int64,
        stableSamples: Int64,
        canaryErrorRate: Double?,
        canaryP95Milliseconds: Double?,
        canaryBlockRate: Double?,
        stableBlockRate: Double?,
        reason: String
    ) {
        self.outcome = outcome
        self.failed = failed
        self.percent = percent
        self.samples = samples
        self.stableSamples = stableSamples
        self.canaryErrorRate = canaryErrorRate
        self.canaryP95Milliseconds = canaryP95Milliseconds
        self.canaryBlockRate = canaryBlockRate
        self.stableBlockRate = stableBlockRate
        self.reason = reason
    }

    /// The line `deploy --gradual` prints per step (§7): percent, samples,
    /// error rate, p95, block rate canary vs stable, verdict.
    public var summary: String {
        func figure(_ value: Double?, _ suffix: String = "") -> String {
            value.map { Formatting.decimal($0) + suffix } ?? "-"
        }
        return "\(self.percent)%: samples \(self.samples), error rate \(figure(self.canaryErrorRate)), "
            + "p95 \(figure(self.canaryP95Milliseconds.map { ($0 * 10).rounded() / 10 }, " ms")), "
            + "block rate \(figure(self.canaryBlockRate)) vs stable \(figure(self.stableBlockRate)): "
            + "\(self.outcome.rawValue) (\(self.reason))"
    }

    public var description: String { self.summary }
}
