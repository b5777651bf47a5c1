import Rollout

/// Metric windows for the step analysis, built from a few intuitive knobs.
enum Traffic {
    /// Bucket bounds in seconds, as `rate_limit_latency_seconds` exports them
    /// (fine near 1 ms and near 200 ms, DESIGN.md §8).
    static let bounds: [Double] = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.5, 1, 2.5]

    /// A histogram with `count` observations all in the bucket ending at `le`.
    static func latency(count: Int64, allWithin le: Double) -> LatencyHistogram {
        LatencyHistogram(buckets: bounds.map { (le: $0, count: $0 >= le ? count : 0) }, count: count)
    }

    /// Fast: every observation within 5 ms (p95 = 2.5 + 2.5 * 0.95 ms = 4.875 ms).
    static func fast(_ count: Int64) -> LatencyHistogram { latency(count: count, allWithin: 0.005) }

    /// Slow: every observation in (250 ms, 300 ms] (p95 = 297.5 ms).
    static func slow(_ count: Int64) -> LatencyHistogram { latency(count: count, allWithin: 0.3) }

    static func version(
        decisions: Int64,
        blockRate: Double = 0.1,
        errorRate: Double = 0,
        slow: Bool = false
    ) -> VersionMetrics {
        VersionMetrics(
            decisions: decisions,
            blocked: Int64((Double(decisions) * blockRate).rounded()),
            errors: Int64((Double(decisions) * errorRate).rounded()),
            latency: slow ? self.slow(decisions) : self.fast(decisions)
        )
    }

    /// `total` requests split by the canary's share, stable and canary alike
    /// unless told otherwise.
    static func window(
        total: Int64 = 2_000,
        percent: Int,
        canaryBlockRate: Double = 0.1,
        stableBlockRate: Double = 0.1,
        canaryErrorRate: Double = 0,
        canarySlow: Bool = false
    ) -> StepWindow {
        let canary = total * Int64(percent) / 100
        return StepWindow(
            canary: version(decisions: canary, blockRate: canaryBlockRate, errorRate: canaryErrorRate, slow: canarySlow),
            stable: version(decisions: total - canary, blockRate: stableBlockRate)
        )
    }
}
