import Alerting
import JSONCore
import Testing

@Suite("Grafana dashboard export: the seed's Rate Limiting dashboard over the node metrics")
struct GrafanaDashboardTests {
    static func parsed(_ thresholds: MonitoringThresholds = MonitoringThresholds()) throws -> JSONValue {
        try JSONParser.parse(GrafanaDashboard.text(thresholds: thresholds))
    }

    static func panels(_ dashboard: JSONValue) -> [JSONValue] {
        guard case .array(let panels)? = dashboard[member: "panels"] else { return [] }
        return panels
    }

    static func string(_ value: JSONValue?) -> String? { if case .string(let text)? = value { text } else { nil } }

    static func expression(_ panel: JSONValue) -> String? {
        guard case .array(let targets)? = panel[member: "targets"], targets.count == 1 else { return nil }
        return string(targets[0][member: "expr"])
    }

    @Test("the text parses back to the same value, indented, ending in a newline")
    func textRoundTrips() throws {
        let text = GrafanaDashboard.text()
        #expect(try JSONParser.parse(text) == GrafanaDashboard.json())
        #expect(text.hasPrefix("{\n  \"id\": null,\n  \"uid\": \"rate-limiting\",\n  \"title\": \"Rate Limiting\","))
        #expect(text.hasSuffix("}\n"))
    }

    @Test("title, schema version, a prometheus `datasource` variable, no annotations")
    func dashboardFields() throws {
        let dashboard = try Self.parsed()
        #expect(Self.string(dashboard[member: "title"]) == "Rate Limiting")
        #expect(dashboard[member: "schemaVersion"] == .integer(39))
        #expect(dashboard[member: "annotations"] == .object([("list", .array([]))]))
        #expect(dashboard[member: "alert"] == nil)
        guard case .array(let variables)? = dashboard[member: "templating"]?[member: "list"] else {
            Issue.record("no templating list")
            return
        }
        #expect(variables.count == 1)
        #expect(Self.string(variables.first?[member: "name"]) == "datasource")
        #expect(Self.string(variables.first?[member: "type"]) == "datasource")
        #expect(Self.string(variables.first?[member: "query"]) == "prometheus")
    }

    @Test("the seed's four metrics, the block rate and the error rate, per version, in PromQL over the exported names")
    func panelQueries() throws {
        let panels = Self.panels(try Self.parsed())
        #expect(panels.map { Self.string($0[member: "title"]) } == ["Requests/s", "Blocked/s", "Block rate", "Latency p95", "Errors/s", "Error rate"])
        #expect(panels.map(Self.expression) == [
            "sum by (version) (rate(rate_limit_requests_total[5m]))",
            "sum by (version) (rate(rate_limit_requests_blocked_total[5m]))",
            "sum by (version) (rate(rate_limit_requests_blocked_total[5m])) / sum by (version) (rate(rate_limit_requests_total[5m]))",
            "histogram_quantile(0.95, sum by (le, version) (rate(rate_limit_latency_seconds_bucket[5m])))",
            "sum by (version) (rate(rate_limit_errors_total[5m]))",
            "sum by (version) (rate(rate_limit_errors_total[5m])) / sum by (version) (rate(rate_limit_requests_total[5m]))",
        ])
        for panel in panels {
            #expect(Self.string(panel[member: "type"]) == "timeseries")
            #expect(panel[member: "datasource"] == .object([("type", .string("prometheus")), ("uid", .string("${datasource}"))]))
            guard case .array(let targets)? = panel[member: "targets"] else { continue }
            #expect(Self.string(targets.first?[member: "legendFormat"]) == "{{version}}")
            #expect(targets.first?[member: "datasource"] == panel[member: "datasource"])
        }
    }

    @Test("panels have distinct ids and tile the 24-column grid without overlapping")
    func layout() throws {
        let panels = Self.panels(try Self.parsed())
        var ids: Set<Int64> = []
        var cells: Set<[Int64]> = []
        for panel in panels {
            guard case .integer(let id)? = panel[member: "id"] else { Issue.record("panel without id"); continue }
            ids.insert(id)
            guard let grid = panel[member: "gridPos"], case .integer(let x)? = grid[member: "x"], case .integer(let y)? = grid[member: "y"],
                  case .integer(let w)? = grid[member: "w"], case .integer(let h)? = grid[member: "h"] else {
                Issue.record("panel \(id) without gridPos")
                continue
            }
            #expect(x >= 0 && w > 0 && x + w <= 24)
            for column in x..<(x + w) {
                for row in y..<(y + h) { #expect(cells.insert([column, row]).inserted, "panel \(id) overlaps at \(column),\(row)") }
            }
        }
        #expect(ids.count == panels.count)
    }

    @Test("threshold lines come from [monitoring]: block_rate, latency_p95_ms in seconds, error_rate, Error Spike's 10/s")
    func thresholdLines() throws {
        let panels = Self.panels(try Self.parsed(MonitoringThresholds(errorRate: 0.03, blockRate: 0.35, latencyP95Milliseconds: 250)))
        func redLine(_ title: String) -> JSONValue? {
            let panel = panels.first { Self.string($0[member: "title"]) == title }
            guard case .array(let steps)? = panel?[member: "fieldConfig"]?[member: "defaults"]?[member: "thresholds"]?[member: "steps"]
            else { return nil }
            return steps.count == 2 ? steps[1][member: "value"] : nil
        }
        #expect(redLine("Block rate") == .double(0.35))
        #expect(redLine("Latency p95") == .double(0.25))
        #expect(redLine("Errors/s") == .double(10))
        #expect(redLine("Error rate") == .double(0.03))
        #expect(redLine("Requests/s") == nil)
    }

    @Test("the rate window follows windowSeconds")
    func window() {
        let panels = GrafanaDashboard.panels(windowSeconds: 120)
        #expect(panels.allSatisfy { $0.expression.contains("[2m]") && !$0.expression.contains("[5m]") })
    }
}
