/// The seed's alerts for one environment, evaluated cluster-wide over a
/// rolling window of scrapes (DESIGN.md §8), as a pure value.
///
/// The coordinator's shell scrapes every node each `scrape_interval_s`,
/// feeds each node's counters to ``onScrape(_:series:now:)``, then calls
/// ``evaluate(now:)`` once per scrape round and POSTs the notifications it
/// returns to `ALERT_WEBHOOK_URL` (with ``RetrySchedule``). Each alert is
/// returned once when it fires and once when it resolves, never while it
/// keeps firing. Time is wall-clock ms: rule windows and the `at` users
/// see are wall-clock by design (STYLE.md).
///
/// The value is `Codable`, so the coordinator can keep firing alerts
/// across a restart instead of announcing them again.
public struct AlertEvaluator: Sendable, Hashable, Codable {
    /// The `environment` of every notification (`staging`, `production`).
    public let environment: String
    public let thresholds: MonitoringThresholds
    public let rules: [AlertRule]
    public internal(set) var window: CounterWindow
    /// One state per rule, in the order of `rules`.
    public internal(set) var states: [AlertState]

    /// - Parameter rules: the seed's two rules for `thresholds` unless given.
    ///
    /// Thresholds are validated when the configuration loads; invalid ones
    /// here are a programming error and stop the process with the key.
    public init(environment: String, thresholds: MonitoringThresholds = .init(), rules: [AlertRule]? = nil) {
        do {
            try thresholds.validate()
        } catch {
            preconditionFailure("AlertEvaluator(\(environment)): \(error)")
        }
        let rules = rules ?? AlertRule.seedRules(thresholds)
        precondition(
            Set(rules.map(\.name)).count == rules.count,
            "AlertEvaluator(\(environment)): rule names must be unique, got \(rules.map(\.name))"
        )
        self.environment = environment
        self.thresholds = thresholds
        self.rules = rules
        self.window = CounterWindow(length: thresholds.alertWindow)
        self.states = Array(repeating: .inactive, count: rules.count)
    }

    /// One node's counters from a scrape at `now`. `series` names the node;
    /// a node that restarted shows as ``CounterWindow/RecordResult/counterReset(fields:)``.
    @discardableResult
    public mutating func onScrape(_ reading: CounterReading, series: String, now: Int64) -> CounterWindow.RecordResult {
        self.window.record(reading, series: series, at: now)
    }

    /// The state of the rule named `name`, or nil for an unknown name.
    public func state(of name: String) -> AlertState? {
        self.rules.firstIndex { $0.name == name }.map { self.states[$0] }
    }

    /// An alert that is firing now, for the dashboard and `/api/summary`.
    public struct FiringAlert: Sendable, Hashable {
        public let rule: AlertRule
        public let since: Int64
        public let value: Double
    }

    /// The alerts firing now, in rule order.
    public var firing: [FiringAlert] {
        zip(self.rules, self.states).compactMap { rule, state in
            guard case .firing(let since, let value) = state else { return nil }
            return FiringAlert(rule: rule, since: since, value: value)
        }
    }
}
