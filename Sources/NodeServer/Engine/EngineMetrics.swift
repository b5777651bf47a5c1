import Config
import Foundation
import CoreMetrics
import Metrics
import Prometheus

/// The seed's metrics under their Prometheus names (DESIGN §8), labelled by
/// node, rule and version. Handles are made once per installed version and
/// rule (``handles(for:)``) so the check path only increments atomics.
public final class EngineMetrics: Sendable {
    public struct RuleHandles: Sendable {
        let requests: CoreMetrics.Counter
        let blocked: CoreMetrics.Counter
        let latency: CoreMetrics.Timer
        let errors: CoreMetrics.Counter

        /// Unregisters the four series.
        func destroy() {
            requests.destroy()
            blocked.destroy()
            latency.destroy()
            errors.destroy()
        }

        @inline(__always)
        func record(allowed: Bool, latencyNanos: UInt64) {
            requests.increment()
            if !allowed { blocked.increment() }
            latency.recordNanoseconds(Int64(latencyNanos))
        }
    }

    public let registry: PrometheusCollectorRegistry
    public let node: String
    private let factory: PrometheusMetricsFactory
    /// Failures that belong to no rule or version: a request too malformed to name one.
    private let unattributedErrors: CoreMetrics.Counter

    public init(node: String, registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry()) {
        self.registry = registry
        self.node = node
        var factory = PrometheusMetricsFactory(registry: registry)
        // Fine near 1 ms (the check path) and near 200 ms (the rollout's p95 limit).
        factory.defaultDurationHistogramBuckets = [
            .microseconds(100), .microseconds(250), .microseconds(500), .microseconds(750), .milliseconds(1),
            .milliseconds(2), .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50),
            .milliseconds(100), .milliseconds(150), .milliseconds(200), .milliseconds(250), .milliseconds(500), .seconds(1),
        ]
        self.factory = factory
        unattributedErrors = CoreMetrics.Counter(
            label: "rate_limit_errors_total", dimensions: [("node", node), ("rule", ""), ("version", "")], factory: factory
        )
        // As Prometheus clients' process_start_time_seconds: the coordinator tells a
        // restarted node's counters (from 0 again) from ones that kept counting.
        registry.makeGauge(
            descriptor: MetricNameDescriptor(namespace: "rate_limit", metricName: "node_start_time", unitName: "seconds",
                                             helpText: "When this node's process started, in seconds since 1970"),
            labels: [("node", node)]
        ).set(Date().timeIntervalSince1970)
    }

    /// One set of handles per rule of `ruleSet`, registered at once so every
    /// series is exported from the start, at 0.
    func handles(for ruleSet: RuleSet) -> [String: RuleHandles] {
        var handles: [String: RuleHandles] = [:]
        for name in ruleSet.rules.keys {
            let dimensions = [("node", node), ("rule", name), ("version", ruleSet.version)]
            handles[name] = RuleHandles(
                requests: CoreMetrics.Counter(label: "rate_limit_requests_total", dimensions: dimensions, factory: factory),
                blocked: CoreMetrics.Counter(label: "rate_limit_requests_blocked_total", dimensions: dimensions, factory: factory),
                latency: CoreMetrics.Timer(label: "rate_limit_latency_seconds", dimensions: dimensions, factory: factory),
                errors: CoreMetrics.Counter(label: "rate_limit_errors_total", dimensions: dimensions, factory: factory)
            )
        }
        return handles
    }

    /// Node-level gauges (DESIGN §8): members this node sees by status, rows
    /// in its event log, and the age of its latest snapshot.
    public func setMembers(_ counts: [String: Int]) {
        for status in ["alive", "suspect", "dead", "left"] {
            registry.makeGauge(
                descriptor: MetricNameDescriptor(namespace: "rate_limit", metricName: "members", unitName: "",
                                                 helpText: "Cluster members this node sees, by status"),
                labels: [("node", node), ("status", status)]
            ).set(Double(counts[status] ?? 0))
        }
    }

    public func setEventLog(rows: Int, snapshotAgeSeconds: Double?) {
        registry.makeGauge(
            descriptor: MetricNameDescriptor(namespace: "rate_limit", metricName: "event_log_rows", unitName: "",
                                             helpText: "Events in this node's log (snapshots cover the older ones compaction removed)"),
            labels: [("node", node)]
        ).set(Double(rows))
        registry.makeGauge(
            descriptor: MetricNameDescriptor(namespace: "rate_limit", metricName: "snapshot_age", unitName: "seconds",
                                             helpText: "Seconds since this node's latest snapshot (-1 before the first)"),
            labels: [("node", node)]
        ).set(snapshotAgeSeconds ?? -1)
    }

    /// `rate_limit_event_log_wal_frames{node}`: the frames (pages) the WAL
    /// held at the latest checkpoint, written since it last restarted from
    /// its start. Bounded by about a second of commits while checkpoints
    /// keep up; a WAL that never restarts shows here as a steady climb.
    public func setWALFrames(_ frames: Int) {
        registry.makeGauge(
            descriptor: MetricNameDescriptor(namespace: "rate_limit", metricName: "event_log_wal_frames", unitName: "",
                                             helpText: "Pages in this node's WAL at the latest checkpoint, written since it last restarted"),
            labels: [("node", node)]
        ).set(Double(frames))
    }

    /// `rate_limit_unavailable_decisions_total{node, mode}`: checks answered
    /// by `on_unavailable` (``UnavailablePolicy``) without recorded state.
    /// Registered when made, so the series is exported from start, at 0.
    public func unavailableDecisions(mode: UnavailableMode) -> CoreMetrics.Counter {
        CoreMetrics.Counter(label: "rate_limit_unavailable_decisions_total",
                            dimensions: [("node", node), ("mode", mode.rawValue)], factory: factory)
    }

    /// `rate_limit_store_available{node}`: 1 while the event log records
    /// hits, 0 during a storage fault (``StoreFault``).
    public func setStoreAvailable(_ available: Bool) {
        registry.makeGauge(
            descriptor: MetricNameDescriptor(namespace: "rate_limit", metricName: "store_available", unitName: "",
                                             helpText: "1 while this node's event log records hits, 0 during a storage fault"),
            labels: [("node", node)]
        ).set(available ? 1.0 : 0.0)
    }

    /// Counts each group commit of the event log and the events it appended
    /// (`rate_limit_event_log_commits_total` and
    /// `rate_limit_event_log_committed_events_total`, by node; their ratio
    /// is the mean group size, which says how far the per-commit fsync is
    /// shared). Registered when made, so both are exported from start, at 0.
    public func groupCommitRecorder() -> @Sendable (Int) -> Void {
        let commits = CoreMetrics.Counter(label: "rate_limit_event_log_commits_total",
                                          dimensions: [("node", node)], factory: factory)
        let events = CoreMetrics.Counter(label: "rate_limit_event_log_committed_events_total",
                                         dimensions: [("node", node)], factory: factory)
        return { count in
            commits.increment()
            events.increment(by: count)
        }
    }

    /// One failed answer (a 5xx or an undecided check) that names no rule.
    public func recordUnattributedError() {
        unattributedErrors.increment()
    }

    public func prometheusText() -> [UInt8] { registry.emitToBuffer() }
}
