/// The rules as Prometheus alerting rules, for `ratelimit alerts export
/// --format prometheus` (DESIGN.md §8): the seed's names, spaces included,
/// over the exported metric names, cluster-wide (`sum` over every node,
/// rule and version).
extension AlertRule {
    /// The PromQL condition over a window of `windowSeconds`.
    public func prometheusExpression(windowSeconds: Int) -> String {
        let range = Self.promDuration(milliseconds: Int64(windowSeconds) * 1_000)
        let threshold = Formatting.decimal(self.threshold, maxFractionDigits: 6)
        switch self.measure {
        case .blockRatio:
            return "sum(increase(rate_limit_requests_blocked_total[\(range)])) / "
                + "sum(increase(rate_limit_requests_total[\(range)])) > \(threshold)"
        case .errorsPerSecond:
            return "sum(rate(rate_limit_errors_total[\(range)])) > \(threshold)"
        }
    }

    /// A Prometheus rules file (YAML) with one group holding `rules`; the
    /// group's name is the conventional lower-case slug, the alerts keep the
    /// seed's names. `description` shows the measured `$value`, so a page
    /// says how far over the threshold the cluster is.
    public static func prometheusRulesFile(_ rules: [AlertRule], windowSeconds: Int, group: String = "rate-limiting") -> String {
        var lines = ["groups:", "  - name: \(quoted(group))", "    rules:"]
        for rule in rules {
            lines.append("      - alert: \(quoted(rule.name))")
            lines.append("        expr: \(quoted(rule.prometheusExpression(windowSeconds: windowSeconds)))")
            if rule.pendingFor > 0 { lines.append("        for: \(promDuration(milliseconds: rule.pendingFor))") }
            lines.append("        labels:")
            lines.append("          severity: \(quoted(rule.severity.rawValue))")
            lines.append("        annotations:")
            let window = promDuration(milliseconds: Int64(windowSeconds) * 1_000)
            lines.append("          summary: \(quoted("\(rule.measure.rawValue) over \(window) above \(Formatting.decimal(rule.threshold))"))")
            lines.append("          description: \(quoted(rule.prometheusDescription(window: window)))")
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// The alert's `description` annotation, a Go template over `$value`.
    func prometheusDescription(window: String) -> String {
        let threshold = Formatting.decimal(self.threshold)
        switch self.measure {
        case .blockRatio:
            return "blocked/total is {{ $value | humanizePercentage }} over the last \(window) (threshold \(threshold))"
        case .errorsPerSecond:
            return "{{ $value | humanize }} errors/s over the last \(window) (threshold \(threshold)/s)"
        }
    }

    /// A Prometheus duration: the largest whole unit ("5m", "1h", "45s", "500ms").
    static func promDuration(milliseconds: Int64) -> String {
        if milliseconds > 0, milliseconds % 3_600_000 == 0 { return "\(milliseconds / 3_600_000)h" }
        if milliseconds > 0, milliseconds % 60_000 == 0 { return "\(milliseconds / 60_000)m" }
        if milliseconds % 1_000 == 0 { return "\(milliseconds / 1_000)s" }
        return "\(milliseconds)ms"
    }

    /// A YAML double-quoted scalar.
    static func quoted(_ text: String) -> String {
        var result = "\""
        for character in text {
            switch character {
            case "\"": result += "\\\""
            case "\\": result += "\\\\"
            case "\n": result += "\\n"
            default: result.append(character)
            }
        }
        return result + "\""
    }
}
