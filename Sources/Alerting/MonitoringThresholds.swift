/// The `[monitoring]` table of wrangler.toml (DESIGN.md §8), with the
/// seed's deploy thresholds (`setupAlerts` in the seed's `deploy.ts`) and the
/// evaluation timing. Every property has the §8 default, so a missing table
/// or key means the default; `[env.E.monitoring]` overrides are merged by
/// the config loader before this value is built.
public struct MonitoringThresholds: Sendable, Hashable, Codable {
    /// `error_rate`: seed `alerts.errorRate`; the line on the exported
    /// Grafana dashboard's `Error rate` panel (errors / decisions).
    public var errorRate: Double = 0.01
    /// `block_rate`: seed `alerts.blockRate`; the `High Block Rate` threshold.
    public var blockRate: Double = 0.2
    /// `latency_p95_ms`: seed `alerts.latencyP95`; the line on the exported
    /// Grafana dashboard's `Latency p95` panel.
    public var latencyP95Milliseconds: Double = 100
    /// `scrape_interval_s`: the coordinator scrapes every node this often,
    /// and evaluates the alert rules after each round.
    public var scrapeIntervalSeconds: Int = 5
    /// `alert_window_s`: rates are computed over this window (Error Spike's 5 m).
    public var alertWindowSeconds: Int = 300
    /// `min_samples`: canary decisions needed to judge a rollout step.
    public var minSamples: Int = 100

    public init(
        errorRate: Double = 0.01,
        blockRate: Double = 0.2,
        latencyP95Milliseconds: Double = 100,
        scrapeIntervalSeconds: Int = 5,
        alertWindowSeconds: Int = 300,
        minSamples: Int = 100
    ) {
        self.errorRate = errorRate
        self.blockRate = blockRate
        self.latencyP95Milliseconds = latencyP95Milliseconds
        self.scrapeIntervalSeconds = scrapeIntervalSeconds
        self.alertWindowSeconds = alertWindowSeconds
        self.minSamples = minSamples
    }

    /// The scrape interval in ms.
    public var scrapeInterval: Int64 { Int64(self.scrapeIntervalSeconds) * 1_000 }
    /// The alert window in ms.
    public var alertWindow: Int64 { Int64(self.alertWindowSeconds) * 1_000 }

    /// Throws ``AlertingError/Code/invalidThreshold`` naming the first key
    /// out of range as `monitoring.<key>`.
    public func validate() throws(AlertingError) {
        func invalid(_ key: CodingKeys, _ rule: String, _ value: String) -> AlertingError {
            AlertingError(code: .invalidThreshold, message: "monitoring.\(key.rawValue) \(rule), got \(value)")
        }
        guard self.errorRate.isFinite, (0...1).contains(self.errorRate) else {
            throw invalid(.errorRate, "must be in 0...1", "\(self.errorRate)")
        }
        guard self.blockRate.isFinite, (0...1).contains(self.blockRate) else {
            throw invalid(.blockRate, "must be in 0...1", "\(self.blockRate)")
        }
        guard self.latencyP95Milliseconds.isFinite, self.latencyP95Milliseconds > 0 else {
            throw invalid(.latencyP95Milliseconds, "must be a positive number of ms", "\(self.latencyP95Milliseconds)")
        }
        guard self.scrapeIntervalSeconds >= 1 else {
            throw invalid(.scrapeIntervalSeconds, "must be at least 1", "\(self.scrapeIntervalSeconds)")
        }
        // A rate needs two scrapes inside the window.
        guard self.alertWindowSeconds >= 2 * self.scrapeIntervalSeconds else {
            throw invalid(
                .alertWindowSeconds, "must be at least twice scrape_interval_s (\(self.scrapeIntervalSeconds))",
                "\(self.alertWindowSeconds)"
            )
        }
        guard self.minSamples >= 1 else {
            throw invalid(.minSamples, "must be at least 1", "\(self.minSamples)")
        }
    }

    /// The wrangler.toml key names.
    public enum CodingKeys: String, CodingKey, CaseIterable, Sendable {
        case errorRate = "error_rate"
        case blockRate = "block_rate"
        case latencyP95Milliseconds = "latency_p95_ms"
        case scrapeIntervalSeconds = "scrape_interval_s"
        case alertWindowSeconds = "alert_window_s"
        case minSamples = "min_samples"
    }

    /// Decodes with the §8 key names; a missing key keeps its default.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let defaults = MonitoringThresholds()
        self.errorRate = try container.decodeIfPresent(Double.self, forKey: .errorRate) ?? defaults.errorRate
        self.blockRate = try container.decodeIfPresent(Double.self, forKey: .blockRate) ?? defaults.blockRate
        self.latencyP95Milliseconds =
            try container.decodeIfPresent(Double.self, forKey: .latencyP95Milliseconds) ?? defaults.latencyP95Milliseconds
        self.scrapeIntervalSeconds =
            try container.decodeIfPresent(Int.self, forKey: .scrapeIntervalSeconds) ?? defaults.scrapeIntervalSeconds
        self.alertWindowSeconds = try container.decodeIfPresent(Int.self, forKey: .alertWindowSeconds) ?? defaults.alertWindowSeconds
        self.minSamples = try container.decodeIfPresent(Int.self, forKey: .minSamples) ?? defaults.minSamples
    }
}
