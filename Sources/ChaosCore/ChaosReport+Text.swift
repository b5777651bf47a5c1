extension ChaosReport {
    /// The report as the CLI prints it after the run.
    public var text: String {
        var lines: [String] = []
        let seconds = Double(endMs - startMs) / 1000
        lines.append("chaos report: seed \(setup.seed), \(setup.long ? "long" : "short") form, \(formatted(seconds)) s of load, "
            + "\(setup.initialNodes) of \(setup.listedNodes) listed nodes started, replicas \(setup.replicas), "
            + "\(setup.clients) clients, \(setup.keys) keys")
        lines.append("")
        let faults = faultCounts
        let faultText = Fault.Kind.allCases.map { "\(faults[$0] ?? 0) \($0.rawValue)" }.joined(separator: ", ")
        lines.append(row("operations", "\(operations) (\(allowed) allowed, \(denied) denied, \(answeredOnRetry) answered only on the retry)"))
        lines.append(row("faults", "\(faults.values.reduce(0, +)) (\(faultText))"))
        lines.append(row("admitted", "\(admitted) acknowledged `allowed: true` (the rules allow at most \(capacity) over the run)"))
        let keysOverText = keysOver.isEmpty ? "no key over its limit" : "\(keysOver.count) of \(setup.keys) keys over their limit"
        lines.append(row("over-admissions", "\(overAdmissions) (\(keysOverText))"))
        lines.append(row("client errors", "\(clientErrors) (checks no node answered, the retry on another live node included)"))
        lines.append(row("node crashes", unexpectedExits.isEmpty ? "0" : "\(unexpectedExits.count): " + unexpectedExits.joined(separator: "; ")))
        lines.append(row("shutdown", shutdownProblems.isEmpty ? "every node exited on SIGTERM" : shutdownProblems.joined(separator: "; ")))
        lines.append(row("failed attempts", "\(failedAgainstDownNode) against a killed, frozen or stopped node; "
            + "\(failedAgainstLiveNode) while a live node was asked"))
        if let span = longestUnanswerable {
            let end = span.answered ? "until its next answer" : "and still unanswered when the load stopped"
            lines.append(row("longest unanswerable", "\(formatted(Double(span.durationMs) / 1000)) s (\(span.key): "
                + "from a failed attempt on a live node at +\(formatted(Double(span.fromMs - startMs) / 1000)) s \(end))"))
        } else {
            lines.append(row("longest unanswerable", "0 s (no attempt on a live node failed)"))
        }
        lines.append("")
        lines.append("bounds, per rule (a hit counts as decided somewhere in its [sent, received] interval):")
        var table = [["RULE", "ALGORITHM", "KEYS", "ADMITTED", "AT MOST", "OVER", "KEYS OVER", "BOUND PER KEY"]]
        for summary in rules {
            table.append([summary.rule.name, summary.rule.algorithm.rawValue, "\(summary.keys)", "\(summary.admitted)",
                          "\(summary.capacity)", "\(summary.excess)", "\(summary.keysOver)", summary.bound])
        }
        lines.append(contentsOf: Self.columns(table).map { "  " + $0 })
        let uncounted = rules.filter { $0.uncounted > 0 }
        for summary in uncounted {
            lines.append("  \(summary.rule.name): \(summary.uncounted) admitted hits straddled a window edge and were counted in no window")
        }
        if !keysOver.isEmpty {
            lines.append("")
            lines.append("keys over their limit (largest excess first):")
            for key in keysOver.prefix(15) {
                var line = "  \(key.key) (\(key.rule)): \(key.admitted) admitted, \(key.excess) over"
                if let worst = key.worst {
                    line += "; worst: \(worst.count) in [+\(formatted(Double(worst.fromMs - startMs) / 1000)) s, "
                        + "+\(formatted(Double(worst.toMs - startMs) / 1000)) s] where at most \(worst.bound) could be"
                }
                lines.append(line)
            }
            if keysOver.count > 15 { lines.append("  ... and \(keysOver.count - 15) more") }
        }
        if !failureReasons.isEmpty {
            lines.append("")
            lines.append("failure reasons (attempts):")
            for (reason, count) in failureReasons.sorted(by: { ($0.value, $1.key) > ($1.value, $0.key) }) {
                lines.append("  \(String(count).leftPadded(to: 6, with: " "))  \(reason)")
            }
        }
        return lines.joined(separator: "\n")
    }

    private func row(_ name: String, _ value: String) -> String {
        let label = name + ":"
        return label + String(repeating: " ", count: max(1, 22 - label.count)) + value
    }

    private func formatted(_ value: Double) -> String {
        let tenths = Int((value * 10).rounded())
        return "\(tenths / 10).\(abs(tenths % 10))"
    }

    /// Left-aligned columns two spaces apart; the last column is not padded.
    static func columns(_ rows: [[String]]) -> [String] {
        guard let first = rows.first else { return [] }
        let widths = first.indices.map { column in rows.map { $0[column].count }.max() ?? 0 }
        return rows.map { row in
            row.enumerated().map { index, cell in
                index == row.count - 1 ? cell : cell + String(repeating: " ", count: widths[index] - cell.count)
            }.joined(separator: "  ")
        }
    }
}
