/// One alert rule over the cluster-wide window (DESIGN.md §8). The seed's
/// dashboard defines two:
///
/// - `High Block Rate`: `rate_limit.requests.blocked / rate_limit.requests.total > 0.2`, warning;
/// - `Error Spike`: `rate(rate_limit.errors.total[5m]) > 10`, critical.
///
/// `pendingFor` is Prometheus' `for`: the condition must still hold this
/// many ms after it was first seen before the alert fires, so a single
/// bad scrape does not page anyone. The seed rules use one scrape interval:
/// with evaluations once per scrape round, the condition must hold on two
/// consecutive evaluations. 0 fires on the first.
public struct AlertRule: Sendable, Hashable, Codable, CustomStringConvertible {
    /// What the rule compares with its threshold.
    public enum Measure: String, Sendable, Hashable, Codable {
        /// blocked / requests over the window.
        case blockRatio = "block_ratio"
        /// errors per second over the window.
        case errorsPerSecond = "errors_per_second"
    }

    /// The seed's name, spaces included: it is the `alert` of the webhook
    /// payload and of the Prometheus export.
    public let name: String
    public let severity: AlertSeverity
    public let measure: Measure
    /// The rule fires when the measure is strictly above this.
    public let threshold: Double
    /// Prometheus `for`, in ms.
    public let pendingFor: Int64

    public init(name: String, severity: AlertSeverity, measure: Measure, threshold: Double, pendingFor: Int64) {
        precondition(!name.isEmpty, "AlertRule: the name must not be empty")
        precondition(threshold.isFinite && threshold >= 0, "AlertRule \(name): threshold must be finite and >= 0, got \(threshold)")
        precondition(pendingFor >= 0, "AlertRule \(name): pendingFor must be >= 0 ms, got \(pendingFor)")
        self.name = name
        self.severity = severity
        self.measure = measure
        self.threshold = threshold
        self.pendingFor = pendingFor
    }

    /// The seed's `High Block Rate` (warning) at `[monitoring] block_rate`.
    public static func highBlockRate(threshold: Double = 0.2, pendingFor: Int64 = 5_000) -> AlertRule {
        AlertRule(name: "High Block Rate", severity: .warning, measure: .blockRatio, threshold: threshold, pendingFor: pendingFor)
    }

    /// The seed's `Error Spike` (critical): more than 10 errors per second.
    /// The 10 is the seed's and has no `[monitoring]` key.
    public static func errorSpike(threshold: Double = 10, pendingFor: Int64 = 5_000) -> AlertRule {
        AlertRule(name: "Error Spike", severity: .critical, measure: .errorsPerSecond, threshold: threshold, pendingFor: pendingFor)
    }

    /// The two seed rules for these thresholds, `for` one scrape interval.
    public static func seedRules(_ thresholds: MonitoringThresholds) -> [AlertRule] {
        [
            .highBlockRate(threshold: thresholds.blockRate, pendingFor: thresholds.scrapeInterval),
            .errorSpike(pendingFor: thresholds.scrapeInterval),
        ]
    }

    /// The measure over `figures`, or nil for a window without traffic,
    /// which never fires (§8).
    public func value(of figures: WindowFigures) -> Double? {
        guard figures.hasTraffic else { return nil }
        switch self.measure {
        case .blockRatio: return figures.blockRatio ?? 0
        case .errorsPerSecond: return figures.errorsPerSecond
        }
    }

    /// True when `value` crosses the threshold.
    public func isViolated(by value: Double) -> Bool { value > self.threshold }

    /// The webhook message: the measure, the threshold, the window and the
    /// counts behind it, e.g. `blocked/total 0.43 > 0.2 over the last 300 s
    /// (4300 of 10000 requests)`.
    public func message(firing: Bool, figures: WindowFigures, windowSeconds: Int) -> String {
        let over = "over the last \(windowSeconds) s"
        guard let value = self.value(of: figures) else { return "no traffic \(over)" }
        let relation = firing ? ">" : "<="
        let threshold = Formatting.decimal(self.threshold)
        switch self.measure {
        case .blockRatio:
            return "blocked/total \(Formatting.decimal(value)) \(relation) \(threshold) \(over) "
                + "(\(figures.blocked) of \(figures.requests) requests)"
        case .errorsPerSecond:
            return "errors \(Formatting.decimal(value, maxFractionDigits: 2))/s \(relation) \(threshold)/s \(over) "
                + "(\(figures.errors) errors)"
        }
    }

    public var description: String { "\(self.name) (\(self.severity.rawValue)): \(self.measure.rawValue) > \(self.threshold)" }
}
