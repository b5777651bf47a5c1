import Alerting
import Foundation
import Testing

@Suite("MonitoringThresholds: the [monitoring] table of DESIGN.md §8")
struct MonitoringThresholdsTests {
    @Test("defaults are §8's")
    func defaults() throws {
        let thresholds = MonitoringThresholds()
        #expect(thresholds.errorRate == 0.01)
        #expect(thresholds.blockRate == 0.2)
        #expect(thresholds.latencyP95Milliseconds == 100)
        #expect(thresholds.scrapeIntervalSeconds == 5)
        #expect(thresholds.alertWindowSeconds == 300)
        #expect(thresholds.minSamples == 100)
        #expect(thresholds.scrapeInterval == 5_000)
        #expect(thresholds.alertWindow == 300_000)
        try thresholds.validate()
    }

    @Test("decodes the wrangler.toml key names; a missing key keeps its default")
    func decodesKeyNames() throws {
        let json = #"{"block_rate": 0.3, "latency_p95_ms": 150, "alert_window_s": 60}"#
        let thresholds = try JSONDecoder().decode(MonitoringThresholds.self, from: Data(json.utf8))
        #expect(thresholds == MonitoringThresholds(blockRate: 0.3, latencyP95Milliseconds: 150, alertWindowSeconds: 60))
        #expect(MonitoringThresholds.CodingKeys.allCases.map(\.rawValue) == [
            "error_rate", "block_rate", "latency_p95_ms", "scrape_interval_s", "alert_window_s", "min_samples",
        ])
        let encoded = try JSONDecoder().decode(MonitoringThresholds.self, from: JSONEncoder().encode(thresholds))
        #expect(encoded == thresholds)
    }

    @Test(
        "out-of-range values are refused, naming the key",
        arguments: [
            (MonitoringThresholds(errorRate: 1.5), "monitoring.error_rate must be in 0...1, got 1.5"),
            (MonitoringThresholds(blockRate: -0.1), "monitoring.block_rate must be in 0...1, got -0.1"),
            (MonitoringThresholds(latencyP95Milliseconds: 0), "monitoring.latency_p95_ms must be a positive number of ms, got 0.0"),
            (MonitoringThresholds(scrapeIntervalSeconds: 0), "monitoring.scrape_interval_s must be at least 1, got 0"),
            (MonitoringThresholds(alertWindowSeconds: 9), "monitoring.alert_window_s must be at least twice scrape_interval_s (5), got 9"),
            (MonitoringThresholds(minSamples: 0), "monitoring.min_samples must be at least 1, got 0"),
        ]
    )
    func validation(_ thresholds: MonitoringThresholds, _ message: String) {
        #expect(throws: AlertingError(code: .invalidThreshold, message: message)) { try thresholds.validate() }
    }
}
