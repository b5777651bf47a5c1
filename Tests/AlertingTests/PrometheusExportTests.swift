import Alerting
import Testing

@Suite("Prometheus rules export: the seed's alerts over the exported metrics")
struct PrometheusExportTests {
    @Test("the rules file keeps the seed's names, spaces included")
    func rulesFile() {
        let file = AlertRule.prometheusRulesFile(AlertRule.seedRules(MonitoringThresholds()), windowSeconds: 300)
        #expect(
            file == """
                groups:
                  - name: "rate-limiting"
                    rules:
                      - alert: "High Block Rate"
                        expr: "sum(increase(rate_limit_requests_blocked_total[5m])) / sum(increase(rate_limit_requests_total[5m])) > 0.2"
                        for: 5s
                        labels:
                          severity: "warning"
                        annotations:
                          summary: "block_ratio over 5m above 0.2"
                          description: "blocked/total is {{ $value | humanizePercentage }} over the last 5m (threshold 0.2)"
                      - alert: "Error Spike"
                        expr: "sum(rate(rate_limit_errors_total[5m])) > 10"
                        for: 5s
                        labels:
                          severity: "critical"
                        annotations:
                          summary: "errors_per_second over 5m above 10"
                          description: "{{ $value | humanize }} errors/s over the last 5m (threshold 10/s)"

                """
        )
    }

    @Test(
        "window and threshold spelling",
        arguments: [
            (AlertRule.errorSpike(), 90, "sum(rate(rate_limit_errors_total[90s])) > 10"),
            (AlertRule.errorSpike(threshold: 2.5), 3_600, "sum(rate(rate_limit_errors_total[1h])) > 2.5"),
            (AlertRule.highBlockRate(threshold: 0.125), 600, "sum(increase(rate_limit_requests_blocked_total[10m])) / sum(increase(rate_limit_requests_total[10m])) > 0.125"),
        ]
    )
    func expressions(_ rule: AlertRule, _ window: Int, _ expected: String) {
        #expect(rule.prometheusExpression(windowSeconds: window) == expected)
    }

    @Test("a rule without `for` has no for line")
    func noFor() {
        let file = AlertRule.prometheusRulesFile([.errorSpike(pendingFor: 0)], windowSeconds: 300)
        #expect(!file.contains("for:"))
    }

    @Test("the environment's [monitoring] sets the block-rate threshold, the window and the `for`")
    func thresholdsFromMonitoring() {
        let monitoring = MonitoringThresholds(blockRate: 0.35, scrapeIntervalSeconds: 10, alertWindowSeconds: 120)
        let file = AlertRule.prometheusRulesFile(AlertRule.seedRules(monitoring), windowSeconds: monitoring.alertWindowSeconds)
        #expect(file.contains(#"expr: "sum(increase(rate_limit_requests_blocked_total[2m])) / sum(increase(rate_limit_requests_total[2m])) > 0.35""#))
        #expect(file.contains(#"expr: "sum(rate(rate_limit_errors_total[2m])) > 10""#))
        #expect(file.split(separator: "\n").filter { $0 == "        for: 10s" }.count == 2)
        #expect(file.contains("(threshold 0.35)"))
    }

    @Test("names and texts are YAML double-quoted scalars: quotes and backslashes escaped")
    func quoting() {
        let rule = AlertRule(name: #"Odd "name" \ here"#, severity: .warning, measure: .blockRatio, threshold: 0.5, pendingFor: 0)
        let file = AlertRule.prometheusRulesFile([rule], windowSeconds: 60, group: "g")
        #expect(file.contains(#"      - alert: "Odd \"name\" \\ here""#))
        #expect(file.contains(#"  - name: "g""#))
    }
}
