import Alerting
import ArgumentParser

struct AlertsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "alerts",
        abstract: "The seed's alert rules (High Block Rate, Error Spike) for other monitoring systems.",
        subcommands: [Export.self])

    struct Export: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write the two alert rules as a Prometheus rules file.",
            discussion: """
                The rules the coordinator evaluates, over the nodes' metrics summed cluster-wide: `High Block Rate` \
                (warning) above [monitoring] block_rate and `Error Spike` (critical) above 10 errors/s, both over \
                alert_window_s and held for one scrape_interval_s, from the --env environment of wrangler.toml. \
                Check the file with `promtool check rules FILE`.
                """)

        static let formats = ["prometheus"]

        @Option(name: .long, help: "Output format: prometheus.")
        var format: String = "prometheus"

        @OptionGroup var export: ExportOptions
        @OptionGroup var options: ConfigOptions

        func run() async throws {
            try ExportOptions.check(format: format, accepted: Self.formats)
            let monitoring = try options.load().monitoring
            let rules = AlertRule.seedRules(monitoring)
            let file = AlertRule.prometheusRulesFile(rules, windowSeconds: monitoring.alertWindowSeconds)
            try export.emit(file, what: "\(rules.count) Prometheus alerting rules")
        }
    }
}
