/// The four seed metrics of one version (DESIGN.md §8): decisions
/// (`rate_limit_requests_total`), blocked (`rate_limit_requests_blocked_total`),
/// errors (`rate_limit_errors_total`: 5xx and failed decisions) and the
/// latency histogram (`rate_limit_latency_seconds`), summed over nodes and
/// rules. Either cumulative readings or the increase over a window; the
/// rates are only meaningful for the latter.
public struct VersionMetrics: Sendable, Hashable, Codable {
    /// Requests this version answered (errors included).
    public var decisions: Int64
    /// Requests this version denied.
    public var blocked: Int64
    /// Requests that failed (5xx, failed decisions).
    public var errors: Int64
    public var latency: LatencyHistogram

    public init(decisions: Int64 = 0, blocked: Int64 = 0, errors: Int64 = 0, latency: LatencyHistogram = .empty) {
        self.decisions = decisions
        self.blocked = blocked
        self.errors = errors
        self.latency = latency
    }

    public static let zero = VersionMetrics()

    /// errors / decisions, or nil with no decisions.
    public var errorRate: Double? {
        self.decisions > 0 ? Double(self.errors) / Double(self.decisions) : nil
    }

    /// blocked / decisions, or nil with no decisions.
    public var blockRate: Double? {
        self.decisions > 0 ? Double(self.blocked) / Double(self.decisions) : nil
    }

    /// The sum of two readings, e.g. of the same version on two nodes.
    public func adding(_ other: VersionMetrics) -> VersionMetrics {
        VersionMetrics(
            decisions: self.decisions + other.decisions,
            blocked: self.blocked + other.blocked,
            errors: self.errors + other.errors,
            latency: self.latency.adding(other.latency)
        )
    }

    /// What happened between `earlier` and this reading of the same series
    /// (one node's counters). A counter that went down was reset by a
    /// restart and counts from 0, as in Prometheus `increase()`: sum
    /// per-node increases, never subtract cluster-wide sums, or one node's
    /// restart looks like a drop for the whole cluster.
    public func increase(since earlier: VersionMetrics) -> VersionMetrics {
        func delta(_ now: Int64, _ before: Int64) -> Int64 { now >= before ? now - before : now }
        return VersionMetrics(
            decisions: delta(self.decisions, earlier.decisions),
            blocked: delta(self.blocked, earlier.blocked),
            errors: delta(self.errors, earlier.errors),
            latency: self.latency.increase(since: earlier.latency)
        )
    }
}
