import Alerting

extension WranglerConfig {
    /// One `[monitoring]` or `[env.NAME.monitoring]` table as written
    /// (DESIGN.md §8): only the keys the file sets, so an environment's table
    /// overrides the top-level one key by key. The defaults live in
    /// ``MonitoringThresholds`` alone; nil here means "not set in this table".
    public struct MonitoringTable: Sendable, Hashable {
        /// `error_rate` (seed `alerts.errorRate`).
        public var errorRate: Double?
        /// `block_rate` (seed `alerts.blockRate`).
        public var blockRate: Double?
        /// `latency_p95_ms` (seed `alerts.latencyP95`).
        public var latencyP95Milliseconds: Double?
        /// `scrape_interval_s`.
        public var scrapeIntervalSeconds: Int?
        /// `alert_window_s`.
        public var alertWindowSeconds: Int?
        /// `min_samples`.
        public var minSamples: Int?

        public init(
            errorRate: Double? = nil,
            blockRate: Double? = nil,
            latencyP95Milliseconds: Double? = nil,
            scrapeIntervalSeconds: Int? = nil,
            alertWindowSeconds: Int? = nil,
            minSamples: Int? = nil
        ) {
            self.errorRate = errorRate
            self.blockRate = blockRate
            self.latencyP95Milliseconds = latencyP95Milliseconds
            self.scrapeIntervalSeconds = scrapeIntervalSeconds
            self.alertWindowSeconds = alertWindowSeconds
            self.minSamples = minSamples
        }

        /// `base` with every key this table sets replaced by its value.
        public func applied(to base: MonitoringThresholds) -> MonitoringThresholds {
            var result = base
            if let errorRate { result.errorRate = errorRate }
            if let blockRate { result.blockRate = blockRate }
            if let latencyP95Milliseconds { result.latencyP95Milliseconds = latencyP95Milliseconds }
            if let scrapeIntervalSeconds { result.scrapeIntervalSeconds = scrapeIntervalSeconds }
            if let alertWindowSeconds { result.alertWindowSeconds = alertWindowSeconds }
            if let minSamples { result.minSamples = minSamples }
            return result
        }

        /// Whether this table sets `key`.
        public func sets(_ key: MonitoringThresholds.CodingKeys) -> Bool {
            switch key {
            case .errorRate: errorRate != nil
            case .blockRate: blockRate != nil
            case .latencyP95Milliseconds: latencyP95Milliseconds != nil
            case .scrapeIntervalSeconds: scrapeIntervalSeconds != nil
            case .alertWindowSeconds: alertWindowSeconds != nil
            case .minSamples: minSamples != nil
            }
        }
    }

    /// The thresholds `environment` runs with: ``MonitoringThresholds``'
    /// defaults, then top-level `[monitoring]`, then `[env.NAME.monitoring]`,
    /// key by key. `development` (or any name without a section) gets the
    /// top-level values.
    public func monitoring(for environment: String) -> MonitoringThresholds {
        let topLevel = monitoring.applied(to: MonitoringThresholds())
        return environments[environment]?.monitoring.applied(to: topLevel) ?? topLevel
    }

    /// Where `key`'s value for `environment` comes from, as a key path:
    /// `env.NAME.monitoring`, `monitoring`, or nil for the default.
    public func monitoringSource(of key: MonitoringThresholds.CodingKeys, for environment: String) -> String? {
        if environments[environment]?.monitoring.sets(key) == true { return "env.\(environment).monitoring" }
        if monitoring.sets(key) { return "monitoring" }
        return nil
    }
}
