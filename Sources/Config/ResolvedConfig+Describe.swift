import Alerting
import LimiterCore

extension ResolvedConfig {
    /// The resolved configuration as `ratelimit config check --env E` prints
    /// it: what the process would actually run with, after precedence and
    /// defaults, with secrets masked so the output can be pasted into a ticket.
    public func describe() -> String {
        var lines: [String] = []
        lines.append("environment: \(environment)")
        lines.append("base directory: \(baseDirectory)")
        lines.append(
            "service: \(wrangler.name) (main \(wrangler.main), compatibility_date \(wrangler.compatibilityDate))")

        lines.append("")
        lines.append("variables:")
        lines += runtime.masked.map { "  " + $0 }

        lines.append("")
        lines.append("rules (\(rules.count)):")
        lines += table(sortedRules.map(Self.ruleColumns)).map { "  " + $0 }

        lines.append("")
        lines += describeMonitoring()

        lines.append("")
        lines.append("durable objects:")
        if wrangler.durableObjectBindings.isEmpty { lines.append("  (none)") }
        for binding in wrangler.durableObjectBindings {
            lines.append("  \(binding.name) -> \(binding.className)")
        }
        for migration in wrangler.migrations {
            lines.append("  migration \(migration.tag): " + Self.migrationSummary(migration))
        }

        if let section = wrangler.environments[environment], !section.routes.isEmpty {
            lines.append("")
            lines.append("routes:")
            for route in section.routes {
                lines.append("  \(route.pattern)" + (route.zoneID.isEmpty ? "" : " (zone \(route.zoneID))"))
            }
        }

        lines.append("")
        lines += describeTopology()
        return lines.joined(separator: "\n") + "\n"
    }

    /// Each `[monitoring]` value and where it comes from: `default`,
    /// `monitoring` or `env.NAME.monitoring`.
    private func describeMonitoring() -> [String] {
        let values: [(MonitoringThresholds.CodingKeys, String)] = [
            (.errorRate, Self.number(monitoring.errorRate)),
            (.blockRate, Self.number(monitoring.blockRate)),
            (.latencyP95Milliseconds, Self.number(monitoring.latencyP95Milliseconds)),
            (.scrapeIntervalSeconds, String(monitoring.scrapeIntervalSeconds)),
            (.alertWindowSeconds, String(monitoring.alertWindowSeconds)),
            (.minSamples, String(monitoring.minSamples)),
        ]
        let rows = values.map { key, value in
            [key.rawValue, value, "(\(wrangler.monitoringSource(of: key, for: environment) ?? "default"))"]
        }
        return ["monitoring:"] + table(rows).map { "  " + $0 }
    }

    /// `100` rather than `100.0`; fractions as Swift prints them (`0.01`).
    private static func number(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 1e15 ? String(Int64(value)) : String(value)
    }

    private func describeTopology() -> [String] {
        guard let topology else {
            return ["topology: none (\(topologyFile) not found; single process)"]
        }
        var lines = ["topology (\(topologyFile)):"]
        lines.append("  replicas: \(topology.replicas)")
        lines.append("  on_unavailable: \(topology.onUnavailable.rawValue)")
        lines.append("  forward_window_us: \(topology.forwardWindowMicros)")
        lines.append("  certs: \(topology.certsDir)")
        if let coordinator = topology.coordinator {
            lines.append(
                "  coordinator: \(coordinator.host) http \(coordinator.httpPort) peer \(coordinator.peerPort)")
        }
        let rows = topology.nodes.map { node in
            [node.id, node.host, "http \(node.httpPort)", "peer \(node.peerPort)", "data \(node.dataDir)"]
        }
        lines.append("  nodes (\(topology.nodes.count)):")
        lines += table(rows).map { "    " + $0 }
        return lines
    }

    private static func ruleColumns(_ rule: Rule) -> [String] {
        let hasBurst = AlgorithmNames.withBurst.contains(rule.algorithm.rawValue)
        return [
            rule.name,
            rule.algorithm.rawValue,
            "limit \(rule.limit) per \(rule.periodSeconds)s",
            hasBurst ? "burst \(rule.burst)" : "",
            "namespace \(rule.namespaceID)",
        ]
    }

    private static func migrationSummary(_ migration: WranglerConfig.Migration) -> String {
        var parts: [String] = []
        if !migration.newClasses.isEmpty { parts.append("new " + migration.newClasses.joined(separator: ", ")) }
        if !migration.renamedClasses.isEmpty {
            parts.append("rename " + migration.renamedClasses.map { "\($0.from) -> \($0.to)" }.joined(separator: ", "))
        }
        if !migration.deletedClasses.isEmpty {
            parts.append("delete " + migration.deletedClasses.joined(separator: ", "))
        }
        return parts.isEmpty ? "(no changes)" : parts.joined(separator: "; ")
    }

    /// Left-aligned columns, trailing spaces trimmed.
    private func table(_ rows: [[String]]) -> [String] {
        let columns = rows.map(\.count).max() ?? 0
        let widths = (0..<columns).map { column in
            rows.map { column < $0.count ? $0[column].count : 0 }.max() ?? 0
        }
        return rows.map { row in
            var line = ""
            for (column, cell) in row.enumerated() {
                let padded =
                    column == row.count - 1
                    ? cell : cell + String(repeating: " ", count: widths[column] - cell.count + 2)
                line += padded
            }
            while line.last == " " { line.removeLast() }
            return line
        }
    }
}
