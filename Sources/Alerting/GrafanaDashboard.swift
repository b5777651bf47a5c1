import JSONCore

/// The seed's `Rate Limiting` dashboard (`rateLimitDashboard` in the seed's
/// `deploy.ts`) as Grafana dashboard JSON over the nodes' Prometheus metrics,
/// for `ratelimit dashboards export --format grafana` (DESIGN.md §8).
///
/// The seed's four metrics become one time series panel each, per version,
/// plus the block rate the `High Block Rate` alert watches and the error
/// rate `error_rate` bounds. Every query
/// reads the node metrics directly, so the dashboard works with any
/// Prometheus that scrapes the nodes' `/metrics`; the data source is the
/// `datasource` template variable, so one import serves every environment.
/// The alert rules are not in the dashboard (they are
/// ``AlertRule/prometheusRulesFile(_:windowSeconds:group:)``'s), and it has
/// no annotations: the thresholds only show as lines on their panels.
public enum GrafanaDashboard {
    /// The dashboard JSON model version written (Grafana 10.4 / 11).
    public static let schemaVersion = 39
    public static let title = "Rate Limiting"
    public static let uid = "rate-limiting"

    /// One time series panel: its query and how its axis reads.
    public struct Panel: Sendable, Hashable {
        public var title: String
        public var description: String
        /// PromQL, one series per version (`legendFormat` `{{version}}`).
        public var expression: String
        /// A Grafana unit id: `reqps`, `percentunit`, `s`, ...
        public var unit: String
        /// Drawn as a red line, in the panel's unit; nil draws none.
        public var threshold: Double?
    }

    /// The panels, in layout order: the seed's four metrics, the block rate
    /// after blocked/s and the error rate after errors/s. Rates are over
    /// `windowSeconds` (the seed's 5 m); thresholds are `thresholds`'
    /// (`block_rate`, `latency_p95_ms`, `error_rate`) and the `Error Spike` limit.
    public static func panels(thresholds: MonitoringThresholds = MonitoringThresholds(), windowSeconds: Int = 300) -> [Panel] {
        let range = AlertRule.promDuration(milliseconds: Int64(windowSeconds) * 1_000)
        func perVersion(_ metric: String) -> String { "sum by (version) (rate(\(metric)[\(range)]))" }
        return [
            Panel(
                title: "Requests/s", description: "Decisions per second, per version (seed: rate_limit.requests.total).",
                expression: perVersion("rate_limit_requests_total"), unit: "reqps", threshold: nil),
            Panel(
                title: "Blocked/s", description: "Denied decisions per second, per version (seed: rate_limit.requests.blocked).",
                expression: perVersion("rate_limit_requests_blocked_total"), unit: "reqps", threshold: nil),
            Panel(
                title: "Block rate",
                description: "Blocked / total per version; the line is High Block Rate's threshold (monitoring.block_rate).",
                expression: "\(perVersion("rate_limit_requests_blocked_total")) / \(perVersion("rate_limit_requests_total"))",
                unit: "percentunit", threshold: thresholds.blockRate),
            Panel(
                title: "Latency p95",
                description: "95th percentile decision latency per version (seed: rate_limit.latency.p95); "
                    + "the line is monitoring.latency_p95_ms.",
                expression: "histogram_quantile(0.95, sum by (le, version) (rate(rate_limit_latency_seconds_bucket[\(range)])))",
                unit: "s", threshold: thresholds.latencyP95Milliseconds / 1_000),
            Panel(
                title: "Errors/s",
                description: "5xx answers and failed decisions per second, per version (seed: rate_limit.errors.total); "
                    + "the line is Error Spike's threshold.",
                expression: perVersion("rate_limit_errors_total"), unit: "short", threshold: AlertRule.errorSpike().threshold),
            Panel(
                title: "Error rate",
                description: "Errors / decisions per version; the line is monitoring.error_rate (seed: alerts.errorRate).",
                expression: "\(perVersion("rate_limit_errors_total")) / \(perVersion("rate_limit_requests_total"))",
                unit: "percentunit", threshold: thresholds.errorRate),
        ]
    }

    /// The dashboard as a JSON value, members in Grafana's usual order.
    public static func json(thresholds: MonitoringThresholds = MonitoringThresholds(), windowSeconds: Int = 300) -> JSONValue {
        let datasource = JSONValue.object([("type", .string("prometheus")), ("uid", .string("${datasource}"))])
        let panels = self.panels(thresholds: thresholds, windowSeconds: windowSeconds)
        var panelValues: [JSONValue] = []
        for (index, panel) in panels.enumerated() {
            // Two panels a row, 8 high; an odd last one takes the whole row.
            let isLastAlone = index == panels.count - 1 && panels.count % 2 == 1
            let gridPos = JSONValue.object([
                ("h", .integer(8)), ("w", .integer(isLastAlone ? 24 : 12)),
                ("x", .integer(index % 2 == 0 ? 0 : 12)), ("y", .integer(Int64(index / 2) * 8)),
            ])
            panelValues.append(panelJSON(panel, id: index + 1, gridPos: gridPos, datasource: datasource))
        }
        let datasourceVariable = JSONValue.object([
            ("name", .string("datasource")), ("label", .string("Data source")), ("type", .string("datasource")),
            ("query", .string("prometheus")), ("current", .object([])), ("options", .array([])),
            ("hide", .integer(0)), ("refresh", .integer(1)), ("regex", .string("")), ("includeAll", .bool(false)),
            ("multi", .bool(false)),
        ])
        return .object([
            ("id", .null), ("uid", .string(uid)), ("title", .string(title)),
            ("description", .string("The ratelimit cluster's decisions, denials, latency and errors per rule version.")),
            ("tags", .array([.string("ratelimit")])), ("timezone", .string("browser")), ("editable", .bool(true)),
            ("graphTooltip", .integer(1)), ("fiscalYearStartMonth", .integer(0)), ("liveNow", .bool(false)),
            ("refresh", .string("30s")), ("schemaVersion", .integer(Int64(schemaVersion))), ("version", .integer(1)),
            ("time", .object([("from", .string("now-1h")), ("to", .string("now"))])), ("timepicker", .object([])),
            ("annotations", .object([("list", .array([]))])), ("links", .array([])),
            ("templating", .object([("list", .array([datasourceVariable]))])),
            ("panels", .array(panelValues)),
        ])
    }

    /// The dashboard as indented JSON text, ending in a newline: a file to
    /// import into Grafana or keep in version control and diff.
    public static func text(thresholds: MonitoringThresholds = MonitoringThresholds(), windowSeconds: Int = 300) -> String {
        var text = ""
        appendIndented(json(thresholds: thresholds, windowSeconds: windowSeconds), indent: "", to: &text)
        return text + "\n"
    }

    static func panelJSON(_ panel: Panel, id: Int, gridPos: JSONValue, datasource: JSONValue) -> JSONValue {
        var steps: [JSONValue] = [.object([("color", .string("green")), ("value", .null)])]
        if let threshold = panel.threshold {
            steps.append(.object([("color", .string("red")), ("value", .double(threshold))]))
        }
        let custom = JSONValue.object([
            ("drawStyle", .string("line")), ("lineWidth", .integer(1)), ("fillOpacity", .integer(10)),
            ("showPoints", .string("never")), ("spanNulls", .bool(false)),
            ("thresholdsStyle", .object([("mode", .string(panel.threshold == nil ? "off" : "line"))])),
        ])
        let fieldConfig = JSONValue.object([
            ("defaults", .object([
                ("unit", .string(panel.unit)), ("min", .integer(0)), ("custom", custom),
                ("thresholds", .object([("mode", .string("absolute")), ("steps", .array(steps))])),
            ])),
            ("overrides", .array([])),
        ])
        let target = JSONValue.object([
            ("refId", .string("A")), ("datasource", datasource), ("editorMode", .string("code")),
            ("expr", .string(panel.expression)), ("legendFormat", .string("{{version}}")), ("range", .bool(true)),
        ])
        return .object([
            ("id", .integer(Int64(id))), ("type", .string("timeseries")), ("title", .string(panel.title)),
            ("description", .string(panel.description)), ("datasource", datasource), ("gridPos", gridPos),
            ("fieldConfig", fieldConfig),
            ("options", .object([
                ("legend", .object([("displayMode", .string("list")), ("placement", .string("bottom")), ("showLegend", .bool(true))])),
                ("tooltip", .object([("mode", .string("multi")), ("sort", .string("desc"))])),
            ])),
            ("targets", .array([target])),
        ])
    }

    /// Two-space indented JSON; scalars (and their escaping) are JSONWriter's.
    static func appendIndented(_ value: JSONValue, indent: String, to text: inout String) {
        let inner = indent + "  "
        switch value {
        case .array(let elements) where !elements.isEmpty:
            text += "[\n"
            for (index, element) in elements.enumerated() {
                text += inner
                appendIndented(element, indent: inner, to: &text)
                text += index == elements.count - 1 ? "\n" : ",\n"
            }
            text += indent + "]"
        case .object(let members) where !members.isEmpty:
            text += "{\n"
            for (index, (name, member)) in members.enumerated() {
                text += inner + scalarText(.string(name)) + ": "
                appendIndented(member, indent: inner, to: &text)
                text += index == members.count - 1 ? "\n" : ",\n"
            }
            text += indent + "}"
        default:
            text += scalarText(value)
        }
    }

    static func scalarText(_ value: JSONValue) -> String {
        var writer = JSONWriter(capacity: 32)
        writer.write(value)
        return String(decoding: writer.bytes, as: UTF8.self)
    }
}
