import CoreMetrics
import Metrics
import Prometheus

/// The seed's metrics under their Prometheus names (DESIGN §8), labelled by
/// node, rule and version. Handles are made once per rule so the check path
/// only increments atomics.
public final class EngineMetrics: Sendable {
    public struct RuleHandles: Sendable {
        let requests: CoreMetrics.Counter
        let blocked: CoreMetrics.Counter
        let latency: CoreMetrics.Timer
        let errors: CoreMetrics.Counter
    }

    public let registry: PrometheusCollectorRegistry
    private let handles: [String: RuleHandles]
    private let nodeErrors: CoreMetrics.Counter

    public init(node: String, ruleSet: RuleSet, registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry()) {
        self.registry = registry
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.defaultDurationHistogramBuckets = [
            .microseconds(100), .microseconds(250), .microseconds(500), .milliseconds(1), .milliseconds(2),
            .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100),
            .milliseconds(200), .milliseconds(500), .seconds(1),
        ]
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
        self.handles = handles
        nodeErrors = CoreMetrics.Counter(
            label: "rate_limit_errors_total",
            dimensions: [("node", node), ("rule", ""), ("version", ruleSet.version)],
            factory: factory
        )
    }

    @inline(__always)
    public func record(rule: String, allowed: Bool, latencyNanos: UInt64) {
        guard let handle = handles[rule] else { return }
        handle.requests.increment()
        if !allowed { handle.blocked.increment() }
        handle.latency.recordNanoseconds(Int64(latencyNanos))
    }

    public func recordError(rule: String?) {
        if let rule, let handle = handles[rule] { handle.errors.increment() } else { nodeErrors.increment() }
    }

    public func prometheusText() -> [UInt8] { registry.emitToBuffer() }
}
