import Foundation
import NodeServer
import TestSupport
import Testing

@Suite("Bounded event log: a real node under steady load", .serialized)
struct BoundedLogTests {
    /// At most 5 admitted hits per key per aligned second; 10 keys: at most
    /// 50 events/s, however fast the machine sends.
    static let rules = """
    [[ratelimits]]
    name = "API"
    namespace_id = "1001"
    simple = { limit = 5, period = 1 }
    algorithm = "fixed_window"
    """
    static let keys = 10
    static let maxEventsPerSecond = 50

    /// The sum of every sample of metric `name` in Prometheus text.
    static func metric(_ name: String, in text: String) -> Double? {
        var sum: Double?
        for line in text.split(separator: "\n") where line.hasPrefix(name) {
            let rest = line.dropFirst(name.count)
            guard rest.first == "{" || rest.first == " ", let value = line.split(separator: " ").last.flatMap({ Double($0) }) else {
                continue
            }
            sum = (sum ?? 0) + value
        }
        return sum
    }

    @Test("rate_limit_event_log_rows stays within a few seconds of events while the log outgrows that many times")
    func rowsStayBounded() async throws {
        let cluster = try NodeProcessCluster(nodeCount: 1, rules: Self.rules)
        defer { withExtendedLifetime(cluster) {} }
        // The implicit `default` rule is a sliding_window of DEFAULT_WINDOW s: its horizon is
        // two windows, 2 s with DEFAULT_WINDOW=1, and it is the longest of the installed rules.
        try cluster.start("n1", extraArguments: ["--snapshot-every-events", "20", "--snapshot-interval", "1s",
                                                 "--durability", "normal"],
                          environment: ["DEFAULT_WINDOW": "1"])
        try await cluster.waitHealthy("n1")

        // Horizon 2 s, plus events since the oldest kept snapshot and since the last
        // compaction (a 1 s tick each, stretched on a loaded machine): 5 s of the most the
        // rule admits.
        let bound = Double(Self.maxEventsPerSecond * 5)
        var samples: [Double] = []
        var walFrames: [Double] = []
        var admitted = 0.0
        let load = CheckLoad(cluster: cluster, keyPrefix: "bounded", keyCount: Self.keys, rule: "API", workers: 4)
        let (_, tally) = try await load.during {
            try await poll("\(3 * bound) events admitted with the row gauge at most \(bound)", within: .seconds(90),
                           every: .milliseconds(250)) {
                let text = try await cluster.get("n1", path: "/metrics").text
                let rows = try #require(Self.metric("rate_limit_event_log_rows", in: text))
                samples.append(rows)
                if let frames = Self.metric("rate_limit_event_log_wal_frames", in: text) { walFrames.append(frames) }
                #expect(rows <= bound, "event_log_rows \(rows) above \(bound); samples so far \(samples)")
                let requests = Self.metric("rate_limit_requests_total", in: text) ?? 0
                let blocked = Self.metric("rate_limit_requests_blocked_total", in: text) ?? 0
                admitted = requests - blocked
                return admitted >= 3 * bound || rows > bound
            }
        }
        #expect(tally.failed == 0, "\(tally)")
        #expect(admitted >= 3 * bound)
        #expect(samples.max()! > 0, "the gauge counts the events kept: \(samples)")
        // The maintenance tick checkpoints the WAL and exports the frames it held. (At this
        // load a checkpoint catches up on its own; EventLogTests shows the restart that keeps
        // the WAL from growing when commits outrun it.)
        #expect(walFrames.max().map { $0 > 0 } == true, "WAL frames \(walFrames)")
        let text = try await cluster.get("n1", path: "/metrics").text
        let age = Self.metric("rate_limit_snapshot_age_seconds", in: text)
        #expect(age.map { $0 >= 0 && $0 < 30 } == true, "snapshot_age \(String(describing: age))")
        // Every admitted hit was appended by a group commit, and nothing else was (the load
        // has stopped, so every commit's checks are answered and counted).
        let committed = try #require(Self.metric("rate_limit_event_log_committed_events_total", in: text))
        let commits = try #require(Self.metric("rate_limit_event_log_commits_total", in: text))
        let answered = (Self.metric("rate_limit_requests_total", in: text) ?? 0) - (Self.metric("rate_limit_requests_blocked_total", in: text) ?? 0)
        #expect(committed == answered, "committed \(committed), admitted \(answered)")
        #expect(commits >= 1 && commits <= committed, "commits \(commits) for \(committed) events")

        await cluster.stopAll()
    }

    @Test("snapshot flags out of range are refused with the flag named, before the node starts")
    func badFlags() async throws {
        let cluster = try NodeProcessCluster(nodeCount: 1, rules: Self.rules)
        for (flag, value) in [("--snapshot-every-events", "0"), ("--snapshot-interval", "2x"), ("--snapshot-interval", "25h"),
                              ("--kept-snapshots", "0")] {
            let result = try await cluster.run(["node", "--id", "n1", flag, value])
            #expect(result.status != 0, "\(flag) \(value)")
            #expect(result.output.contains("Error: \(flag): expected"), "\(flag) \(value): \(result.output)")
        }
    }
}
