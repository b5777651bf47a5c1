import Alerting
import ArgumentParser
import Foundation

struct DashboardsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dashboards",
        abstract: "Dashboards over the nodes' Prometheus metrics.",
        subcommands: [Export.self])

    struct Export: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write the Rate Limiting dashboard: requests/s, blocked/s, block rate, p95 latency, errors/s and error rate per version.",
            discussion: """
                Grafana dashboard JSON (schemaVersion \(GrafanaDashboard.schemaVersion)) whose queries read the nodes' /metrics \
                through a Prometheus data source chosen at import (the `datasource` variable). The threshold lines are \
                [monitoring]'s of wrangler.toml when it is there (--env picks the environment), else the defaults.
                """)

        static let formats = ["grafana"]

        @Option(name: .long, help: "Output format: grafana.")
        var format: String = "grafana"

        @OptionGroup var export: ExportOptions

        @OptionGroup var options: ConfigOptions

        func run() async throws {
            try ExportOptions.check(format: format, accepted: Self.formats)
            var thresholds = MonitoringThresholds()
            // Without a project the dashboard still makes sense: default lines. A --config
            // or --env that was given must load, so a typo is an error, not the defaults.
            if options.configFile != nil || options.env != nil || FileManager.default.fileExists(atPath: options.config) {
                thresholds = try options.load().monitoring
            }
            try export.emit(GrafanaDashboard.text(thresholds: thresholds), what: "the Grafana dashboard \"\(GrafanaDashboard.title)\"")
        }
    }
}
