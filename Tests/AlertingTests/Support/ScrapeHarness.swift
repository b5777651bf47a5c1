import Alerting

/// Plays the coordinator's scrape loop against the pure evaluator with a
/// fake wall clock: each round adds traffic to every node's cumulative
/// counters, scrapes them all at the same instant, then evaluates once.
struct ScrapeHarness {
    var evaluator: AlertEvaluator
    /// Wall-clock ms; starts at 2026-11-30T12:00:00Z.
    private(set) var now: Int64 = 1_796_040_000_000
    /// Each node's cumulative counters, as its /metrics would show them.
    var counters: [String: CounterReading]
    /// Every notification so far, in order.
    private(set) var sent: [AlertNotification] = []

    init(nodes: [String] = ["n1", "n2", "n3"], thresholds: MonitoringThresholds = .init(), rules: [AlertRule]? = nil) {
        self.evaluator = AlertEvaluator(environment: "staging", thresholds: thresholds, rules: rules)
        self.counters = Dictionary(uniqueKeysWithValues: nodes.map { ($0, .zero) })
        // A first scrape of fresh nodes, so the first round already has a rate.
        for node in nodes { self.evaluator.onScrape(.zero, series: node, now: self.now) }
    }

    var interval: Int64 { self.evaluator.thresholds.scrapeInterval }

    /// One scrape round after one interval of cluster-wide traffic at these
    /// per-second rates, spread evenly over the nodes. Returns what this
    /// round's evaluation notified.
    @discardableResult
    mutating func round(requests: Int64 = 0, blocked: Int64 = 0, errors: Int64 = 0) -> [AlertNotification] {
        self.now += self.interval
        let seconds = self.interval / 1_000
        let nodes = self.counters.keys.sorted()
        let share = Int64(nodes.count)
        for node in nodes {
            var reading = self.counters[node]!
            reading.total += requests * seconds / share
            reading.blocked += blocked * seconds / share
            reading.errors += errors * seconds / share
            self.counters[node] = reading
            self.evaluator.onScrape(reading, series: node, now: self.now)
        }
        let result = self.evaluator.evaluate(now: self.now)
        precondition(result.nextEvaluationAt == self.now + self.interval)
        self.sent += result.notifications
        return result.notifications
    }

    /// `count` rounds at the same rates; returns everything they notified.
    @discardableResult
    mutating func rounds(_ count: Int, requests: Int64 = 0, blocked: Int64 = 0, errors: Int64 = 0) -> [AlertNotification] {
        (0..<count).flatMap { _ in self.round(requests: requests, blocked: blocked, errors: errors) }
    }

    /// The node restarts: its counters start again from 0.
    mutating func restart(_ node: String) { self.counters[node] = .zero }
}
