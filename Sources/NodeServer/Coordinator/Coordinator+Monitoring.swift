import Alerting
import JSONCore
import Membership
import Placement
import Rollout

/// What the coordinator collects for operators (DESIGN §8): cluster-wide
/// counters per version at every scrape, the seed's alerts over them, and
/// the summary the dashboard, `ratelimit status` and the CLI read.
extension Coordinator {
    /// Points kept for the dashboard's charts.
    static let historyLength = 121

    /// Records one scrape round and evaluates the alerts; each alert that
    /// fires or resolves is queued for the webhook, never awaited.
    func observe(_ scrape: [String: MetricsScrape], now: Int64) {
        for (version, increase) in Self.increases(scrape, since: lastObserved) {
            observedTotals[version] = (observedTotals[version] ?? .zero).adding(increase)
        }
        lastObserved = scrape
        appendHistory(atMs: now, versions: observedTotals)
        var evaluator = alerting
        for (series, reading) in Self.alertReadings(scrape) { _ = evaluator.onScrape(reading, series: series, now: now) }
        let result = evaluator.evaluate(now: now)
        setAlerting(evaluator, at: now)
        for notification in result.notifications { alerts.send(notification) }
    }

    /// Each version's increase over all nodes from `previous` to `scrape`,
    /// one entry for every version `scrape` holds. A node seen for the first
    /// time adds nothing (its counters hold history from before); one that
    /// restarted (another start time) adds its counters whole, as they began
    /// again at 0; a counter that fell counts from 0 too.
    static func increases(_ scrape: [String: MetricsScrape], since previous: [String: MetricsScrape]) -> [String: VersionMetrics] {
        var increases: [String: VersionMetrics] = [:]
        for (node, metrics) in scrape {
            let before = previous[node]
            let restarted = metrics.restarted(since: before)
            for (version, current) in metrics.versions {
                var increase = VersionMetrics.zero
                if let before {
                    increase = current.increase(since: restarted ? .zero : before.versions[version] ?? .zero)
                }
                increases[version] = (increases[version] ?? .zero).adding(increase)
            }
        }
        return increases
    }

    /// What the alert window records of one scrape round: one series per node
    /// and version, each counter as the node exports it, plus each node's
    /// errors that name no version. A node that uninstalls an old version stops
    /// exporting its series; a sum over versions would drop by that version's
    /// whole history, which the window would take for a reset and count the
    /// other versions' history as new.
    static func alertReadings(_ scrape: [String: MetricsScrape]) -> [(series: String, reading: CounterReading)] {
        var readings: [(series: String, reading: CounterReading)] = []
        for (node, metrics) in scrape {
            for (version, figures) in metrics.versions {
                readings.append(("\(node) \(version)",
                                 CounterReading(total: figures.decisions, blocked: figures.blocked, errors: figures.errors)))
            }
            readings.append(("\(node) unattributed", CounterReading(total: 0, blocked: 0, errors: metrics.unattributedErrors)))
        }
        return readings
    }

    /// `GET /api/summary`: the figures every operator view shows.
    func summary(now: Int64) -> JSONValue {
        let members = members()
        let alive = members.filter { $0.metadata.role == .node && $0.status.isAlive }.map(\.id)
        let ring = PlacementView(selfID: "coordinator", aliveNodes: alive, settled: true).ring
        let memberList: [JSONValue] = members.sorted { $0.id < $1.id }.map { member in
            .object([("id", .string(member.id)), ("role", .string(member.metadata.role.description)),
                     ("status", .string(member.status.name)),
                     ("ring_share", .double(ring.contains(member.id) ? ring.share(of: member.id) : 0))])
        }
        var series: [JSONValue] = []
        for (previous, point) in zip(history, history.dropFirst()) {
            let seconds = Double(max(1, point.atMs - previous.atMs)) / 1000
            var versions: [(String, JSONValue)] = []
            for (version, metrics) in point.versions.sorted(by: { $0.key < $1.key }) {
                versions.append((version, Self.rates(metrics.increase(since: previous.versions[version] ?? .zero), over: seconds)))
            }
            series.append(.object([("at_ms", .integer(point.atMs)), ("versions", .object(versions))]))
        }
        let windowStart = history.last { $0.atMs <= now - Int64(monitoring.alertWindowSeconds) * 1000 } ?? history.first
        var totals = JSONValue.object([])
        if let first = windowStart, let last = history.last, last.atMs > first.atMs {
            var sum = VersionMetrics.zero
            for (version, metrics) in last.versions { sum = sum.adding(metrics.increase(since: first.versions[version] ?? .zero)) }
            totals = Self.rates(sum, over: Double(last.atMs - first.atMs) / 1000, blockRate: true)
        }
        let firing: [JSONValue] = alerting.firing.map { alert in
            .object([("alert", .string(alert.rule.name)), ("severity", .string(alert.rule.severity.rawValue)),
                     ("value", .double(alert.value)), ("threshold", .double(alert.rule.threshold)), ("since_ms", .integer(alert.since))])
        }
        return .object([
            ("environment", .string(environment)), ("at_ms", .integer(now)),
            ("scrape_interval_s", .integer(Int64(monitoring.scrapeIntervalSeconds))),
            ("members", .array(memberList)), ("deployment", rollout.deployment.json), ("rollout", rolloutJSON),
            ("series", .array(series)), ("totals", totals), ("alerts", .array(firing)),
        ])
    }

    /// The rollout as `/admin/rollout` and `/api/summary` show it.
    var rolloutJSON: JSONValue {
        var members: [(String, JSONValue)] = [
            ("number", .integer(Int64(rolloutNumber))),
            ("version", rolloutVersion.map { .string($0) } ?? .null),
            ("state", .string(rollout.state.description)),
            ("deployment", rollout.deployment.json),
            ("steps", .array(steps.map { line in
                .object([("percent", .integer(Int64(line.percent))), ("outcome", .string(line.outcome)),
                         ("summary", .string(line.verdict.summary))])
            })),
        ]
        switch ending {
        case nil: members.append(("ending", .null))
        case .completed(let version)?:
            members.append(("ending", .object([("outcome", .string("completed")), ("version", .string(version))])))
        case .rolledBack(let percent, let reason)?:
            members.append(("ending", .object([("outcome", .string("rolled-back")), ("percent", .integer(Int64(percent))),
                                                ("reason", .string(reason))])))
        case .aborted(let percent)?:
            members.append(("ending", .object([("outcome", .string("aborted")), ("percent", .integer(Int64(percent)))])))
        }
        return .object(members)
    }

    static func rates(_ metrics: VersionMetrics, over seconds: Double, blockRate: Bool = false) -> JSONValue {
        var members: [(String, JSONValue)] = [
            ("requests_per_s", .double(Double(metrics.decisions) / seconds)),
            ("blocked_per_s", .double(Double(metrics.blocked) / seconds)),
            ("errors_per_s", .double(Double(metrics.errors) / seconds)),
            ("p95_ms", metrics.latency.p95Milliseconds.map { .double($0) } ?? .null),
        ]
        if blockRate { members.append(("block_rate", metrics.blockRate.map { .double($0) } ?? .null)) }
        return .object(members)
    }
}
