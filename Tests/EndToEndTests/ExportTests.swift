import Foundation
import JSONCore
import TestSupport
import Testing

/// `ratelimit alerts export` and `ratelimit dashboards export` (DESIGN §8)
/// checked by what reads them: Prometheus' own `promtool` for the rules,
/// JSONCore's parser for the dashboard, and a live node's `/metrics` for
/// every metric name either file queries.
@Suite("Exports: Prometheus rules and the Grafana dashboard over a live node's metrics", .serialized)
struct ExportTests {
    /// `[monitoring]` away from the defaults, so the export shows it read them.
    static let monitoring = """
        [monitoring]
        block_rate = 0.35
        scrape_interval_s = 10
        alert_window_s = 120
        """

    @Test("the rules file passes `promtool check rules`, and its alerts fire and stay quiet as `promtool test rules` expects")
    func rulesPassPromtool() async throws {
        let cluster = try NodeProcessCluster(nodeCount: 1, monitoring: Self.monitoring)
        let export = try await cluster.run(["alerts", "export", "--format", "prometheus", "--output", "rules.yml"])
        #expect(export.status == 0, "\(export.output)")
        let rules = try String(contentsOfFile: cluster.directory + "/rules.yml", encoding: .utf8)
        #expect(rules.contains(#"- name: "rate-limiting""#))
        #expect(rules.contains(#"- alert: "High Block Rate""#))
        #expect(rules.contains(#"- alert: "Error Spike""#))
        #expect(rules.contains("[2m])) > 0.35\""), "block_rate and alert_window_s of [monitoring]:\n\(rules)")

        let check = try Self.promtool(["check", "rules", "rules.yml"], in: cluster.directory)
        #expect(check.status == 0, "promtool check rules:\n\(check.output)\n\(rules)")
        #expect(check.output.contains("SUCCESS: 2 rules found"), "\(check.output)")

        try Self.promtoolUnitTests.write(toFile: cluster.directory + "/rules_test.yml", atomically: true, encoding: .utf8)
        let test = try Self.promtool(["test", "rules", "rules_test.yml"], in: cluster.directory)
        #expect(test.status == 0, "promtool test rules:\n\(test.output)\n\(rules)")
    }

    /// Counters as two nodes export them, in `promtool test rules` notation
    /// (`a+bxn`: n+1 samples from a, b apart, one every 15 s):
    /// - blocked/total is 80 of 200 per scrape (0.4 > block_rate 0.35) from
    ///   the start, so `High Block Rate` fires;
    /// - errors are 0 for 5 min, then 3000 per 15 s (200/s > 10), so `Error
    ///   Spike` is quiet at 4 min and fires at 9 min;
    /// - a cluster without traffic (0/0) fires nothing.
    static let promtoolUnitTests = """
        rule_files:
          - rules.yml
        evaluation_interval: 15s
        tests:
          - interval: 15s
            input_series:
              - series: 'rate_limit_requests_total{node="n1",rule="API",version="v-1"}'
                values: '0+100x40'
              - series: 'rate_limit_requests_total{node="n2",rule="API",version="v-1"}'
                values: '0+100x40'
              - series: 'rate_limit_requests_blocked_total{node="n1",rule="API",version="v-1"}'
                values: '0+80x40'
              - series: 'rate_limit_requests_blocked_total{node="n2",rule="API",version="v-1"}'
                values: '0x40'
              - series: 'rate_limit_errors_total{node="n1",rule="",version=""}'
                values: '0x20 0+3000x20'
            alert_rule_test:
              - eval_time: 4m
                alertname: High Block Rate
                exp_alerts:
                  - exp_labels:
                      severity: warning
                    exp_annotations:
                      summary: "block_ratio over 2m above 0.35"
                      description: "blocked/total is 40% over the last 2m (threshold 0.35)"
              - eval_time: 4m
                alertname: Error Spike
                exp_alerts: []
              - eval_time: 9m
                alertname: Error Spike
                exp_alerts:
                  - exp_labels:
                      severity: critical
                    exp_annotations:
                      summary: "errors_per_second over 2m above 10"
                      description: "200 errors/s over the last 2m (threshold 10/s)"
          - interval: 15s
            input_series:
              - series: 'rate_limit_requests_total{node="n1",rule="API",version="v-1"}'
                values: '0x40'
              - series: 'rate_limit_requests_blocked_total{node="n1",rule="API",version="v-1"}'
                values: '0x40'
              - series: 'rate_limit_errors_total{node="n1",rule="",version=""}'
                values: '0x40'
            alert_rule_test:
              - eval_time: 5m
                alertname: High Block Rate
                exp_alerts: []
              - eval_time: 5m
                alertname: Error Spike
                exp_alerts: []

        """

    @Test("the dashboard parses, has the seed's panels, and every expression names series a live node's /metrics exports")
    func dashboardOverLiveMetrics() async throws {
        let cluster = try NodeProcessCluster(nodeCount: 1, monitoring: Self.monitoring)
        try cluster.startAll()
        try await cluster.waitHealthy("n1")
        _ = try await cluster.check("n1", key: "export:1", rule: "API")
        let metrics = try await cluster.get("n1", path: "/metrics")
        #expect(metrics.status == 200)
        let exported = Self.seriesNames(metrics.text)

        let export = try await cluster.run(["dashboards", "export", "--format", "grafana", "--output", "dashboard.json"])
        #expect(export.status == 0, "\(export.output)")
        let text = try String(contentsOfFile: cluster.directory + "/dashboard.json", encoding: .utf8)
        let dashboard = try JSONParser.parse(text)
        #expect(dashboard[member: "title"]?.string == "Rate Limiting")
        #expect(dashboard[member: "schemaVersion"]?.int == 39)
        let panels = try #require(dashboard[member: "panels"]?.array)
        let expressions = panels.compactMap { $0[member: "targets"]?.array?.first?[member: "expr"]?.string }
        #expect(expressions.count == panels.count)
        #expect(expressions.count == 6, "the seed's four metrics, the block rate and the error rate")

        let rules = try await cluster.run(["alerts", "export", "--format", "prometheus"])
        #expect(rules.status == 0, "\(rules.output)")
        let ruleExpressions = rules.output.split(separator: "\n").compactMap { line -> String? in
            let trimmed = line.drop { $0 == " " }
            guard trimmed.hasPrefix("expr: \"") else { return nil }
            return String(trimmed.dropFirst("expr: \"".count).dropLast())
        }
        #expect(ruleExpressions.count == 2)

        var named: Set<String> = []
        for expression in expressions + ruleExpressions {
            let names = Self.metricNames(in: expression)
            #expect(!names.isEmpty, "no metric in \(expression)")
            for name in names {
                named.insert(name)
                #expect(exported.contains(name), "\(expression) reads \(name), which /metrics does not export:\n\(metrics.text)")
            }
        }
        #expect(named == [
            "rate_limit_requests_total", "rate_limit_requests_blocked_total", "rate_limit_latency_seconds_bucket",
            "rate_limit_errors_total",
        ])
        // The panels group by these labels: the series must carry them.
        for line in metrics.text.split(separator: "\n") where line.hasPrefix("rate_limit_latency_seconds_bucket{") {
            #expect(line.contains("version=\"") && line.contains("le=\""), "\(line)")
        }
        await cluster.stopAll()
    }

    @Test("an unknown --format is a one-line error naming the flag and the accepted values; a missing --config file names it")
    func unknownFormat() async throws {
        let cluster = try NodeProcessCluster(nodeCount: 1)
        let dashboards = try await cluster.run(["dashboards", "export", "--format", "kibana"])
        #expect(dashboards.status != 0)
        #expect(dashboards.output == "Error: --format: unknown format \"kibana\" (accepted: \"grafana\")\n")
        let alerts = try await cluster.run(["alerts", "export", "--format", "yaml"])
        #expect(alerts.status != 0)
        #expect(alerts.output == "Error: --format: unknown format \"yaml\" (accepted: \"prometheus\")\n")
        // A --config that names no file is an error, not the default thresholds.
        let typo = try await cluster.run(["dashboards", "export", "--config", "wrangler.tmol"])
        #expect(typo.status != 0 && typo.output.contains("wrangler.tmol"), "\(typo.output)")
    }

    // MARK: - Support

    /// The metric names a PromQL expression selects: its identifiers that
    /// are not functions or aggregations (followed by `(`, `by` or
    /// `without`), keywords, label
    /// names in `by`/`without`/`on`/`ignoring` lists or matchers, range
    /// durations or numbers.
    static func metricNames(in expression: String) -> Set<String> {
        let characters = Array(expression)
        let keywords: Set<String> = ["by", "without", "on", "ignoring", "group_left", "group_right", "bool", "and", "or", "unless", "offset"]
        let labelLists: Set<String> = ["by", "without", "on", "ignoring", "group_left", "group_right"]
        func isHead(_ c: Character) -> Bool { c.isLetter || c == "_" || c == ":" }
        func isTail(_ c: Character) -> Bool { isHead(c) || c.isNumber }
        func skip(past close: Character, from start: Int) -> Int {
            var index = start
            while index < characters.count, characters[index] != close { index += 1 }
            return index + 1
        }
        var names: Set<String> = []
        var index = 0
        while index < characters.count {
            let c = characters[index]
            if c == "{" { index = skip(past: "}", from: index); continue }
            if c == "[" { index = skip(past: "]", from: index); continue }
            if c == "\"" || c == "'" { index = skip(past: c, from: index + 1); continue }
            if c.isNumber || c == "." {
                while index < characters.count, isTail(characters[index]) || characters[index] == "." { index += 1 }
                continue
            }
            guard isHead(c) else { index += 1; continue }
            var end = index
            while end < characters.count, isTail(characters[end]) { end += 1 }
            let word = String(characters[index..<end])
            var next = end
            while next < characters.count, characters[next] == " " { next += 1 }
            // `sum by (le) (...)`: an aggregation whose grouping comes first.
            var following = next
            while following < characters.count, isTail(characters[following]) { following += 1 }
            let grouped = ["by", "without"].contains(String(characters[next..<following]))
            let call = grouped || (next < characters.count && characters[next] == "(")
            if labelLists.contains(word), call {
                index = skip(past: ")", from: next)
                continue
            }
            if !call, !keywords.contains(word) { names.insert(word) }
            index = end
        }
        return names
    }

    /// The sample names of a Prometheus text exposition (`name{...} value`).
    static func seriesNames(_ text: String) -> Set<String> {
        var names: Set<String> = []
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            let name = line.prefix { $0 != "{" && $0 != " " }
            if !name.isEmpty { names.insert(String(name)) }
        }
        return names
    }

    /// Runs Prometheus' `promtool` (Debian's `prometheus` package, which
    /// scripts/test installs through scripts/bootstrap).
    static func promtool(_ arguments: [String], in directory: String) throws -> (status: Int32, output: String) {
        let path = (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":")
            .map { "\($0)/promtool" } + ["/usr/bin/promtool"]
        guard let executable = path.first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
            throw TestFailure("promtool not found: install Debian's prometheus package (scripts/bootstrap prometheus; scripts/test does)")
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.currentDirectoryURL = URL(fileURLWithPath: directory)
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let output = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: output, as: UTF8.self))
    }
}

@Suite("metricNames: the metric names of a PromQL expression")
struct PromQLNamesTests {
    @Test("functions, aggregations, grouping labels, matchers, ranges and numbers are not metric names")
    func names() {
        #expect(ExportTests.metricNames(in: "histogram_quantile(0.95, sum by (le, version) (rate(a_bucket{x=\"y(\"}[5m])))") == ["a_bucket"])
        #expect(ExportTests.metricNames(in: "sum(increase(b[2m])) / sum(increase(c[2m])) > 0.35") == ["b", "c"])
        #expect(ExportTests.metricNames(in: "a / on (node) group_left (rule) b and bool c offset 5m") == ["a", "b", "c"])
        #expect(ExportTests.metricNames(in: "sum without(node)(rate(x:y_total[1h])) > 1e3") == ["x:y_total"])
    }
}
