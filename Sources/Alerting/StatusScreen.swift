import JSONCore

/// The terminal screen of `ratelimit status` (DESIGN.md §8): the figures of
/// the coordinator's `GET /api/summary`, the same the `/dashboard` page
/// charts, as lines of text. Pure: the command fetches and prints; tests
/// feed it summaries.
///
/// Every member of the summary may be missing or null (a coordinator that
/// has not scraped twice has no rates yet, a rollout may have no version):
/// the screen then shows `-` or says why, and never fails.
public enum StatusScreen {
    /// The screen for `summary`, read from `coordinator` (its base URL,
    /// shown in the header so an operator knows which cluster this is).
    public static func lines(_ summary: JSONValue, coordinator: String) -> [String] {
        var lines: [String] = []
        let environment = summary[member: "environment"]?.text ?? "?"
        let at = summary[member: "at_ms"]?.integer
        var header = "Rate Limiting: \(environment)"
        if let at { header += " at \(UTCTimestamp.iso8601(milliseconds: at))" }
        header += " (coordinator \(coordinator)"
        if let interval = summary[member: "scrape_interval_s"]?.number { header += ", scrapes every \(Formatting.decimal(interval)) s" }
        lines.append(header + ")")

        lines.append("")
        lines += membersSection(summary[member: "members"]?.elements ?? [])
        lines.append("")
        lines += trafficSection(totals: summary[member: "totals"], series: summary[member: "series"]?.elements ?? [])
        lines.append("")
        lines += deploymentSection(summary[member: "deployment"], rollout: summary[member: "rollout"])
        lines.append("")
        lines += alertsSection(summary[member: "alerts"]?.elements ?? [], at: at)
        return lines
    }

    static func membersSection(_ members: [JSONValue]) -> [String] {
        guard !members.isEmpty else { return ["Members: none seen"] }
        var rows = [["ID", "ROLE", "STATUS", "RING"]]
        for member in members {
            let role = member[member: "role"]?.text ?? "?"
            let share = member[member: "ring_share"]?.number
            let ring = role == "node" || (share ?? 0) > 0 ? share.map(percent) ?? "-" : "-"
            rows.append([member[member: "id"]?.text ?? "?", role, member[member: "status"]?.text ?? "?", ring])
        }
        let alive = members.filter { $0[member: "status"]?.text == "alive" }.count
        return ["Members: \(alive) of \(members.count) alive"] + table(rows)
    }

    static func trafficSection(totals: JSONValue?, series: [JSONValue]) -> [String] {
        var lines = ["Traffic, cluster-wide over the alert window:"]
        if let totals, let requests = totals[member: "requests_per_s"]?.number {
            var figures = ["requests \(rate(requests))", "blocked \(rate(totals[member: "blocked_per_s"]?.number))"]
            figures.append("block rate \(totals[member: "block_rate"]?.number.map(percent) ?? "-")")
            figures.append("p95 \(milliseconds(totals[member: "p95_ms"]?.number))")
            figures.append("errors \(rate(totals[member: "errors_per_s"]?.number))")
            lines.append("  " + figures.joined(separator: "   "))
        } else {
            lines.append("  no figures yet: the coordinator needs two scrapes")
        }
        // The latest point of the dashboard's series: the rates since the
        // scrape before, per version.
        guard let latest = series.last, case .object(let versions)? = latest[member: "versions"], !versions.isEmpty else {
            return lines
        }
        var rows = [["VERSION", "REQUESTS/S", "BLOCKED/S", "ERRORS/S", "P95"]]
        for (version, figures) in versions {
            rows.append([
                version, rate(figures[member: "requests_per_s"]?.number, unit: ""), rate(figures[member: "blocked_per_s"]?.number, unit: ""),
                rate(figures[member: "errors_per_s"]?.number, unit: ""), milliseconds(figures[member: "p95_ms"]?.number),
            ])
        }
        var title = "Per version, latest scrape"
        if let at = latest[member: "at_ms"]?.integer { title += " (\(UTCTimestamp.iso8601(milliseconds: at)))" }
        return lines + ["", title + ":"] + table(rows)
    }

    static func deploymentSection(_ deployment: JSONValue?, rollout: JSONValue?) -> [String] {
        var lines: [String] = []
        if let deployment, case .object = deployment {
            let epoch = deployment[member: "epoch"]?.integer.map(String.init) ?? "?"
            var line = "Deployment: epoch \(epoch), stable \(deployment[member: "stable"]?.text ?? "?")"
            if let canary = deployment[member: "canary"]?.text {
                line += ", canary \(canary) at \(deployment[member: "percent"]?.number.map { Formatting.decimal($0) } ?? "?")%"
            } else {
                line += ", no canary"
            }
            lines.append(line)
        } else {
            lines.append("Deployment: none")
        }
        guard let rollout, case .object = rollout else { return lines + ["Rollout: none"] }
        var line = "Rollout: \(rollout[member: "state"]?.text ?? "?")"
        if let version = rollout[member: "version"]?.text { line += " (version \(version))" }
        lines.append(line)
        for step in rollout[member: "steps"]?.elements ?? [] {
            let percent = step[member: "percent"]?.number.map { Formatting.decimal($0) + "%" } ?? "?"
            let outcome = step[member: "outcome"]?.text ?? "?"
            let summary = step[member: "summary"]?.text ?? ""
            lines.append("  " + pad(percent, 5) + pad(outcome, 10) + summary)
        }
        if let ending = rollout[member: "ending"], case .object = ending {
            var text = "  ended: \(ending[member: "outcome"]?.text ?? "?")"
            if let version = ending[member: "version"]?.text { text += " \(version)" }
            if let percent = ending[member: "percent"]?.number { text += " at \(Formatting.decimal(percent))%" }
            if let reason = ending[member: "reason"]?.text { text += ": \(reason)" }
            lines.append(text)
        }
        return lines
    }

    static func alertsSection(_ alerts: [JSONValue], at: Int64?) -> [String] {
        guard !alerts.isEmpty else { return ["Alerts: none firing"] }
        var lines = ["Alerts: \(alerts.count) firing"]
        for alert in alerts {
            var line = "  FIRING \(alert[member: "alert"]?.text ?? "?") (\(alert[member: "severity"]?.text ?? "?")): "
            line += "\(alert[member: "value"]?.number.map { Formatting.decimal($0) } ?? "?")"
            line += " > \(alert[member: "threshold"]?.number.map { Formatting.decimal($0) } ?? "?")"
            if let since = alert[member: "since_ms"]?.integer {
                line += " since \(UTCTimestamp.iso8601(milliseconds: since))"
                if let at, at >= since { line += " (\(duration(milliseconds: at - since)))" }
            }
            lines.append(line)
        }
        return lines
    }

    // MARK: - Text

    /// `12.5/s`; `-` when unknown.
    static func rate(_ value: Double?, unit: String = "/s") -> String {
        value.map { Formatting.decimal($0, maxFractionDigits: 2) + unit } ?? "-"
    }

    static func milliseconds(_ value: Double?) -> String {
        value.map { Formatting.decimal($0, maxFractionDigits: 2) + " ms" } ?? "-"
    }

    /// A share or ratio as a percentage with one decimal: 0.333 -> `33.3%`.
    static func percent(_ value: Double) -> String { Formatting.decimal(value * 100, maxFractionDigits: 1) + "%" }

    /// `45 s`, `3 min 5 s`, `2 h 10 min`.
    static func duration(milliseconds: Int64) -> String {
        let seconds = milliseconds / 1_000
        if seconds < 60 { return "\(seconds) s" }
        if seconds < 3_600 { return "\(seconds / 60) min \(seconds % 60) s" }
        return "\(seconds / 3_600) h \(seconds / 60 % 60) min"
    }

    /// Left-aligned columns two spaces apart, indented two.
    static func table(_ rows: [[String]]) -> [String] {
        let columns = rows.map(\.count).max() ?? 0
        let widths = (0..<columns).map { column in rows.map { column < $0.count ? $0[column].count : 0 }.max() ?? 0 }
        return rows.map { row in
            var line = "  "
            for (index, cell) in row.enumerated() {
                line += index == row.count - 1 ? cell : pad(cell, widths[index] + 2)
            }
            return line
        }
    }

    static func pad(_ text: String, _ width: Int) -> String {
        text.count >= width ? text + " " : text + String(repeating: " ", count: width - text.count)
    }
}

extension JSONValue {
    fileprivate var text: String? { if case .string(let value) = self { value } else { nil } }
    fileprivate var integer: Int64? { if case .integer(let value) = self { value } else { nil } }
    fileprivate var elements: [JSONValue]? { if case .array(let value) = self { value } else { nil } }
    /// Integers and doubles alike: the summary writes `0` as well as `0.5`.
    fileprivate var number: Double? {
        switch self {
        case .integer(let value): Double(value)
        case .double(let value): value
        default: nil
        }
    }
}
