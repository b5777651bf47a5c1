import Alerting

/// `[monitoring]` and `[env.NAME.monitoring]` (DESIGN.md §8): the seed's
/// deploy thresholds and the alert timing, checked here with the same rules
/// as ``MonitoringThresholds/validate()``, so a configuration that loads
/// never trips `AlertEvaluator`'s precondition.
extension ConfigLoader {
    typealias MonitoringKey = MonitoringThresholds.CodingKeys

    /// The longest `scrape_interval_s` and `alert_window_s`: one day. The
    /// rolling window keeps every scrape inside it, and the ms arithmetic
    /// (`alert_window_s * 1000`, twice the scrape interval) must not overflow.
    static let maximumMonitoringSeconds = 86_400

    /// One monitoring table, and whether both timing keys it sets are valid.
    struct ParsedMonitoring {
        var table = WranglerConfig.MonitoringTable()
        var timingValid = true

        /// What `[env.NAME.monitoring]` overrides when this is the top-level
        /// table: the defaults with this table applied; nil if its timing is invalid.
        var asBase: MonitoringThresholds? {
            timingValid ? table.applied(to: MonitoringThresholds()) : nil
        }
    }

    /// Parses one table. `base` is what the table overrides (the defaults
    /// for `[monitoring]`, the top level for `[env.NAME.monitoring]`); nil
    /// when the base had an invalid timing value, which skips the
    /// window-versus-interval check rather than report it against a guess.
    static func parseMonitoring(
        _ table: TableReader, over base: MonitoringThresholds?, into problems: inout [ConfigError]
    ) -> ParsedMonitoring {
        var parsed = ParsedMonitoring()
        parsed.table.errorRate = rate(table, .errorRate, into: &problems)
        parsed.table.blockRate = rate(table, .blockRate, into: &problems)
        parsed.table.latencyP95Milliseconds = milliseconds(table, .latencyP95Milliseconds, into: &problems)

        let seconds = 1...maximumMonitoringSeconds
        let scrape = MonitoringKey.scrapeIntervalSeconds.rawValue
        let window = MonitoringKey.alertWindowSeconds.rawValue
        parsed.table.scrapeIntervalSeconds = table.integer(scrape, in: seconds, into: &problems)
        parsed.table.alertWindowSeconds = table.integer(window, in: seconds, into: &problems)
        parsed.timingValid =
            (parsed.table.scrapeIntervalSeconds != nil || !table.has(scrape))
            && (parsed.table.alertWindowSeconds != nil || !table.has(window))

        parsed.table.minSamples = table.integer(MonitoringKey.minSamples.rawValue, in: 1...Int.max, into: &problems)
        table.rejectUnknownKeys(known: MonitoringKey.allCases.map(\.rawValue), into: &problems)

        if let base, parsed.timingValid {
            checkTiming(parsed.table, over: base, in: table, into: &problems)
        }
        return parsed
    }

    /// A rate is a fraction of decisions, so 0...1; NaN and infinities are
    /// outside it.
    private static func rate(_ table: TableReader, _ key: MonitoringKey, into problems: inout [ConfigError]) -> Double? {
        guard let value = table.number(key.rawValue, into: &problems) else { return nil }
        guard (0...1).contains(value) else {
            problems.append(table.error(.outOfRange, key.rawValue, "must be in 0...1, got \(written(table, key))"))
            return nil
        }
        return value
    }

    private static func milliseconds(
        _ table: TableReader, _ key: MonitoringKey, into problems: inout [ConfigError]
    ) -> Double? {
        guard let value = table.number(key.rawValue, into: &problems) else { return nil }
        guard value.isFinite, value > 0 else {
            problems.append(
                table.error(.outOfRange, key.rawValue, "must be a positive number of ms, got \(written(table, key))"))
            return nil
        }
        return value
    }

    /// The value as the file spells it (`1`, `-0.5`, `nan`).
    private static func written(_ table: TableReader, _ key: MonitoringKey) -> String {
        table.entries[key.rawValue]?.rendered ?? ""
    }

    /// A rate needs two scrapes inside the window, so `alert_window_s` must
    /// be at least twice `scrape_interval_s` (``MonitoringThresholds/validate()``).
    /// Checked on the merged values, and reported against the key this table
    /// sets: `alert_window_s` if it sets it, else `scrape_interval_s`. A table
    /// that sets neither inherits values already checked below it.
    private static func checkTiming(
        _ table: WranglerConfig.MonitoringTable, over base: MonitoringThresholds, in reader: TableReader,
        into problems: inout [ConfigError]
    ) {
        let merged = table.applied(to: base)
        let scrape = merged.scrapeIntervalSeconds
        let window = merged.alertWindowSeconds
        guard window < 2 * scrape else { return }
        if table.sets(.alertWindowSeconds) {
            problems.append(
                reader.error(
                    .outOfRange, MonitoringKey.alertWindowSeconds.rawValue,
                    "must be at least twice scrape_interval_s (\(scrape)), got \(window)"))
        } else if table.sets(.scrapeIntervalSeconds) {
            problems.append(
                reader.error(
                    .outOfRange, MonitoringKey.scrapeIntervalSeconds.rawValue,
                    "must be at most half of alert_window_s (\(window)), got \(scrape)"))
        }
    }

    /// The thresholds `environment` runs with, checked once more by
    /// ``MonitoringThresholds/validate()`` itself. Unreachable while the
    /// rules above mirror it; it makes a rule added there an error at load
    /// instead of a precondition failure in a running coordinator.
    static func resolveMonitoring(
        environment: String, wrangler: WranglerConfig, file: String, into problems: inout [ConfigError]
    ) -> MonitoringThresholds {
        let thresholds = wrangler.monitoring(for: environment)
        // After other problems, invalid values were dropped for defaults
        // that need not fit the rest; those problems are reported already.
        guard problems.isEmpty else { return thresholds }
        do {
            try thresholds.validate()
        } catch {
            let section = wrangler.environments[environment] != nil ? "env.\(environment).monitoring" : "monitoring"
            problems.append(ConfigError(.outOfRange, file: file, key: section, error.message))
        }
        return thresholds
    }
}
