/// Quantiles as Prometheus `histogram_quantile` computes them
/// (prometheus/prometheus `promql/quantile.go`, `bucketQuantile`): find the
/// bucket holding rank `q * count` and interpolate linearly inside it,
/// assuming observations are spread evenly between its bounds.
extension LatencyHistogram {
    /// The `q`-quantile in seconds, or nil with no observations (where
    /// Prometheus answers NaN).
    ///
    /// Edge cases follow Prometheus: the first bucket interpolates from 0
    /// (or answers its bound if that is <= 0); a rank in the `+Inf` bucket
    /// answers the largest finite bound, since nothing is known above it;
    /// counts that fall with a rising bound (a torn scrape) are raised to
    /// keep the buckets monotonic.
    public func quantile(_ q: Double) -> Double? {
        precondition((0...1).contains(q), "LatencyHistogram.quantile: q must be in 0...1, got \(q)")
        guard self.count > 0 else { return nil }
        // Prometheus needs at least one finite bucket besides +Inf.
        guard !self.buckets.isEmpty else { return nil }

        var bounds = self.buckets.map(\.le)
        var counts = self.buckets.map { Double($0.count) }
        bounds.append(.infinity)
        counts.append(Double(self.count))
        for index in counts.indices.dropFirst() where counts[index] < counts[index - 1] {
            counts[index] = counts[index - 1]
        }

        let observations = counts[counts.count - 1]
        let rank = q * observations
        // The first bucket, +Inf excluded, whose cumulative count reaches the rank.
        let b = counts.dropLast().firstIndex { $0 >= rank } ?? counts.count - 1
        if b == counts.count - 1 { return bounds[counts.count - 2] }
        if b == 0, bounds[0] <= 0 { return bounds[0] }

        var bucketStart = 0.0
        let bucketEnd = bounds[b]
        var inBucket = counts[b]
        var rankInBucket = rank
        if b > 0 {
            bucketStart = bounds[b - 1]
            inBucket -= counts[b - 1]
            rankInBucket -= counts[b - 1]
        }
        // An empty bucket is only chosen at rank 0 (q == 0); answer its start.
        guard inBucket > 0 else { return bucketStart }
        return bucketStart + (bucketEnd - bucketStart) * (rankInBucket / inBucket)
    }

    /// The 95th percentile in milliseconds, the figure §7 judges a step on.
    public var p95Milliseconds: Double? {
        self.quantile(0.95).map { $0 * 1_000 }
    }
}
