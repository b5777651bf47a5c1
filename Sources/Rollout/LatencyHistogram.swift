/// A Prometheus-style latency histogram: cumulative bucket counts by upper
/// bound `le` in seconds, plus the total count (the `+Inf` bucket), as
/// `rate_limit_latency_seconds` exports it (DESIGN.md §8).
///
/// Buckets are kept sorted by `le`, finite, and with equal bounds merged;
/// an explicit `+Inf` bucket is folded into `count`, so the value encodes
/// to plain JSON (which has no infinity).
public struct LatencyHistogram: Sendable, Hashable, Codable {
    /// One cumulative bucket: observations `<= le` seconds.
    public struct Bucket: Sendable, Hashable, Codable {
        public let le: Double
        public let count: Int64

        public init(le: Double, count: Int64) {
            self.le = le
            self.count = count
        }
    }

    /// Finite buckets sorted by `le`.
    public private(set) var buckets: [Bucket]
    /// Every observation: the `+Inf` bucket, `_count` in Prometheus.
    public private(set) var count: Int64

    public static let empty = LatencyHistogram(buckets: [Bucket](), count: 0)

    /// Creates a histogram from exported buckets. Order does not matter; a
    /// `+Inf` bucket may be given or left out (then `count` stands for it);
    /// non-finite or NaN bounds other than `+Inf` are dropped.
    public init(buckets: [Bucket], count: Int64) {
        var total = count
        var finite: [Bucket] = []
        for bucket in buckets {
            if bucket.le == .infinity {
                total = max(total, bucket.count)
            } else if bucket.le.isFinite {
                finite.append(bucket)
            }
        }
        finite.sort { $0.le < $1.le }
        // Equal bounds can come from merging exports; keep the larger count
        // (Prometheus coalesces them by summing series of one histogram, but
        // here both stand for the same cumulative count).
        var merged: [Bucket] = []
        for bucket in finite {
            if let last = merged.last, last.le == bucket.le {
                merged[merged.count - 1] = Bucket(le: bucket.le, count: max(last.count, bucket.count))
            } else {
                merged.append(bucket)
            }
        }
        self.buckets = merged
        self.count = max(0, total)
    }

    /// Creates a histogram from `(le, count)` pairs, as the brief's tables write them.
    public init(buckets: [(le: Double, count: Int64)], count: Int64) {
        self.init(buckets: buckets.map { Bucket(le: $0.le, count: $0.count) }, count: count)
    }

    /// The cumulative count of observations `<= le`, read from the largest
    /// bucket bound not above `le` (0 below the first bucket). Exact for a
    /// bound of this histogram, a lower estimate otherwise.
    public func cumulativeCount(atOrBelow le: Double) -> Int64 {
        if le == .infinity { return self.count }
        var result: Int64 = 0
        for bucket in self.buckets {
            guard bucket.le <= le else { break }
            result = bucket.count
        }
        return result
    }

    /// The sum of two histograms, e.g. of one version on every node. Bounds
    /// are united; a bound only one side has reads the other side with
    /// ``cumulativeCount(atOrBelow:)``, so nodes of two builds with
    /// different buckets still merge into a monotonic histogram.
    public func adding(_ other: LatencyHistogram) -> LatencyHistogram {
        let bounds = Set(self.buckets.map(\.le)).union(other.buckets.map(\.le)).sorted()
        let buckets = bounds.map {
            Bucket(le: $0, count: self.cumulativeCount(atOrBelow: $0) + other.cumulativeCount(atOrBelow: $0))
        }
        return LatencyHistogram(buckets: buckets, count: self.count + other.count)
    }

    /// The observations since `earlier`, a reading of the same cumulative
    /// series. A smaller total means the series restarted (a node restart):
    /// as in Prometheus `increase()`, the later reading then counts whole.
    public func increase(since earlier: LatencyHistogram) -> LatencyHistogram {
        guard self.count >= earlier.count else { return self }
        let buckets = self.buckets.map {
            Bucket(le: $0.le, count: max(0, $0.count - earlier.cumulativeCount(atOrBelow: $0.le)))
        }
        return LatencyHistogram(buckets: buckets, count: self.count - earlier.count)
    }
}
