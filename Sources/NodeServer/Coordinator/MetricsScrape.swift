import Rollout

/// The seed's four metrics read back from a node's `/metrics` text
/// (Prometheus exposition format, DESIGN §8), summed over rules per
/// version: what the coordinator's rollout analysis and alerts judge.
struct MetricsScrape: Sendable, Equatable {
    /// Per version: decisions, blocked, errors and the latency histogram.
    var versions: [String: VersionMetrics] = [:]
    /// Failed answers that name no rule or version (a request too malformed
    /// to name one), which alerts count with the rest.
    var unattributedErrors: Int64 = 0
    /// `rate_limit_node_start_time_seconds`: when the node's process started.
    /// Another value than at an earlier scrape means its counters restarted
    /// from 0 in between, even if they have since passed their old values.
    var startTime: Double?

    /// Whether the node restarted since `earlier`, a scrape of it: both
    /// carry a start time and they differ.
    func restarted(since earlier: MetricsScrape?) -> Bool {
        guard let startTime, let before = earlier?.startTime else { return false }
        return startTime != before
    }

    /// Parses exposition text; lines it does not need (comments, other
    /// metrics) are skipped, and a malformed sample line is skipped too:
    /// one odd line must not blind the rollout to the rest.
    init(text: String) {
        var decisions: [String: Int64] = [:]
        var blocked: [String: Int64] = [:]
        var errors: [String: Int64] = [:]
        var buckets: [String: [Double: Int64]] = [:]
        var counts: [String: Int64] = [:]
        for line in text.split(separator: "\n", omittingEmptySubsequences: true) where !line.hasPrefix("#") {
            guard let sample = Sample(line) else { continue }
            let version = sample.labels["version"] ?? ""
            switch sample.name {
            case "rate_limit_requests_total": decisions[version, default: 0] += sample.value
            case "rate_limit_requests_blocked_total": blocked[version, default: 0] += sample.value
            case "rate_limit_errors_total": errors[version, default: 0] += sample.value
            case "rate_limit_latency_seconds_count": counts[version, default: 0] += sample.value
            case "rate_limit_node_start_time_seconds": startTime = sample.exact
            case "rate_limit_latency_seconds_bucket":
                guard let le = sample.labels["le"].flatMap({ $0 == "+Inf" ? Double.infinity : Double($0) }) else { continue }
                buckets[version, default: [:]][le, default: 0] += sample.value
            default:
                continue
            }
        }
        unattributedErrors = errors[""] ?? 0
        for version in Set(decisions.keys).union(errors.keys) where !version.isEmpty {
            let histogram = LatencyHistogram(
                buckets: (buckets[version] ?? [:]).filter { $0.key.isFinite }.sorted { $0.key < $1.key }.map { (le: $0.key, count: $0.value) },
                count: counts[version] ?? 0)
            versions[version] = VersionMetrics(decisions: decisions[version] ?? 0, blocked: blocked[version] ?? 0,
                                               errors: errors[version] ?? 0, latency: histogram)
        }
    }

    init(versions: [String: VersionMetrics], startTime: Double? = nil) {
        self.versions = versions
        self.startTime = startTime
    }

    /// One sample line: `name{label="value",...} number`.
    struct Sample {
        var name: Substring
        var labels: [String: String] = [:]
        var value: Int64
        /// The value as written, fractions kept.
        var exact: Double

        init?(_ line: Substring) {
            guard let space = line.lastIndex(of: " ") else { return nil }
            let rawValue = line[line.index(after: space)...]
            // Int64(_:) traps beyond its range: such a line is skipped like any malformed one.
            guard let number = Double(rawValue), number.isFinite, number >= 0, number < 9.2e18 else { return nil }
            value = Int64(number)
            exact = number
            let head = line[..<space]
            guard let open = head.firstIndex(of: "{") else {
                name = head
                return
            }
            name = head[..<open]
            guard head.last == "}" else { return nil }
            var rest = head[head.index(after: open)..<head.index(before: head.endIndex)]
            while !rest.isEmpty {
                guard let equals = rest.firstIndex(of: "="), rest[rest.index(after: equals)...].first == "\"" else { return nil }
                let key = String(rest[..<equals]).trimmingCharacters(in: [" ", ","])
                var index = rest.index(equals, offsetBy: 2)
                var text = ""
                while index < rest.endIndex, rest[index] != "\"" {
                    if rest[index] == "\\", rest.index(after: index) < rest.endIndex {
                        index = rest.index(after: index)
                    }
                    text.append(rest[index])
                    index = rest.index(after: index)
                }
                guard index < rest.endIndex else { return nil }
                labels[key] = text
                rest = rest[rest.index(after: index)...].drop { $0 == "," || $0 == " " }
            }
        }
    }
}

private extension String {
    func trimmingCharacters(in set: Set<Character>) -> String {
        String(drop { set.contains($0) }.reversed().drop { set.contains($0) }.reversed())
    }
}
