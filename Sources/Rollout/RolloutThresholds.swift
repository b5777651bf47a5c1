/// When a rollout step fails (DESIGN.md §7, from the seed's `autoRollback`
/// and `[monitoring] min_samples`).
///
/// These are the rollout's own limits and deliberately looser than the
/// alerting thresholds of §8 (error_rate 0.01, latency_p95_ms 100): an alert
/// asks a human to look, a failed step takes a version out of service.
public struct RolloutThresholds: Sendable, Hashable, Codable {
    /// A step fails when the canary's errors / decisions exceed this (seed: `errorRate > 0.05`).
    public var maxErrorRate: Double
    /// A step fails when the canary's p95 latency exceeds this many ms (seed: `latencyP95 > 200`).
    public var maxP95Milliseconds: Double
    /// A step fails when the canary's block rate exceeds the stable block
    /// rate by more than this, in absolute terms (0.2 = 20 percentage points).
    public var maxBlockRateIncrease: Double
    /// Canary decisions needed to judge a step (`[monitoring] min_samples`).
    /// Fewer at the end of a step extend it once; fewer again fail it.
    public var minSamples: Int64

    public init(
        maxErrorRate: Double = 0.05,
        maxP95Milliseconds: Double = 200,
        maxBlockRateIncrease: Double = 0.2,
        minSamples: Int64 = 100
    ) {
        self.maxErrorRate = maxErrorRate
        self.maxP95Milliseconds = maxP95Milliseconds
        self.maxBlockRateIncrease = maxBlockRateIncrease
        self.minSamples = minSamples
    }

    /// Throws ``RolloutError/Code/invalidPlan`` naming the first value out of range.
    public func validate() throws {
        func invalid(_ field: String, _ value: String, _ rule: String) -> RolloutError {
            RolloutError(code: .invalidPlan, message: "rollout threshold \(field) \(rule), got \(value)")
        }
        guard self.maxErrorRate.isFinite, (0...1).contains(self.maxErrorRate) else {
            throw invalid("maxErrorRate", "\(self.maxErrorRate)", "must be in 0...1")
        }
        guard self.maxP95Milliseconds.isFinite, self.maxP95Milliseconds > 0 else {
            throw invalid("maxP95Milliseconds", "\(self.maxP95Milliseconds)", "must be a positive number of ms")
        }
        guard self.maxBlockRateIncrease.isFinite, (0...1).contains(self.maxBlockRateIncrease) else {
            throw invalid("maxBlockRateIncrease", "\(self.maxBlockRateIncrease)", "must be in 0...1")
        }
        guard self.minSamples >= 1 else {
            throw invalid("minSamples", "\(self.minSamples)", "must be at least 1")
        }
    }
}
