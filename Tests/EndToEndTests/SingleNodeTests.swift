import JSONCore
import Foundation
import NodeServer
import Testing

@Suite("One node, end to end (real process, real SQLite, loopback HTTP)", .serialized)
struct SingleNodeTests {
    @Test("a check answers the decision with IETF RateLimit headers, and denial adds Retry-After")
    func checkAnswersWithHeaders() async throws {
        let cluster = try NodeProcessCluster(nodeCount: 1)
        try cluster.startAll()
        try await cluster.waitHealthy("n1")

        let first = try await cluster.check("n1", key: "user:42", rule: "FIXED")
        #expect(first.status == 200)
        let body = try #require(first.json)
        #expect(body[member: "allowed"]?.bool == true)
        #expect(body[member: "limit"]?.int == 3)
        #expect(body[member: "remaining"]?.int == 2)
        #expect(body[member: "retry_after_ms"]?.int == 0)
        #expect(body[member: "rule"]?.string == "FIXED")
        #expect(body[member: "node"]?.string == "n1")
        #expect(body[member: "version"]?.string?.hasPrefix("v-") == true)
        #expect(first.header("RateLimit-Policy") == "\"FIXED\";q=3;w=86400")
        #expect(first.header("RateLimit")?.hasPrefix("\"FIXED\";r=2;t=") == true)
        #expect(first.header("Retry-After") == nil)

        _ = try await cluster.check("n1", key: "user:42", rule: "FIXED")
        _ = try await cluster.check("n1", key: "user:42", rule: "FIXED")
        let denied = try await cluster.check("n1", key: "user:42", rule: "FIXED")
        #expect(denied.status == 200)
        #expect(denied.json?[member: "allowed"]?.bool == false)
        #expect(denied.json?[member: "remaining"]?.int == 0)
        let retryAfter = try #require(denied.header("Retry-After").flatMap(Int.init))
        #expect(retryAfter >= 1)
        #expect(retryAfter <= 86400)

        // Another key is independent; hits = 0 only reads.
        let read = try await cluster.check("n1", key: "user:43", rule: "FIXED", hits: 0)
        #expect(read.json?[member: "remaining"]?.int == 3)

        let batch = try await cluster.post("n1", path: "/v1/check/batch", body: """
            {"checks": [{"key": "b", "rule": "EXACT"}, {"key": "b", "rule": "EXACT", "hits": 6}, {"key": "b", "rule": "EXACT"}]}
            """)
        let results = try #require(batch.json?[member: "results"]?.array)
        #expect(results.map { $0[member: "allowed"]?.bool } == [true, true, false])
        #expect(results.map { $0[member: "remaining"]?.int } == [6, 0, 0])

        let health = try await cluster.get("n1", path: "/health")
        #expect(health.status == 200)
        #expect(health.json?[member: "status"]?.string == "ok")
        #expect(health.json?[member: "node"]?.string == "n1")
        #expect(health.json?[member: "members"]?.int == 1)

        let metrics = try await cluster.get("n1", path: "/metrics")
        #expect(metrics.text.contains("rate_limit_requests_total{"))
        #expect(metrics.text.contains("rate_limit_requests_blocked_total{"))
        #expect(metrics.text.contains("rate_limit_latency_seconds_bucket{"))
        #expect(metrics.text.contains("rule=\"FIXED\""))

        let unauthorized = try await cluster.get("n1", path: "/admin/members")
        #expect(unauthorized.status == 401)
        #expect(unauthorized.json?[member: "detail"]?.string?.contains("Authorization: Bearer <ADMIN_TOKEN>") == true, "\(unauthorized.text)")
        let wrong = try await NodeClient.request(.GET, host: "127.0.0.1", port: cluster.node("n1").httpPort, path: "/admin/members",
                                                 headers: [("authorization", "Bearer wrong")])
        #expect(wrong.status == 401)
        #expect(wrong.json?[member: "detail"]?.string == "the bearer token sent is not this server's ADMIN_TOKEN", "\(wrong.text)")
        let members = try await cluster.get("n1", path: "/admin/members", admin: true)
        #expect(members.status == 200)
        #expect(members.json?.array?.first?[member: "id"]?.string == "n1")
        let events = try await cluster.get("n1", path: "/admin/events?key=user:42", admin: true)
        #expect(events.json?.array?.count == 3)
        await cluster.stopAll()
    }

    @Test("SIGTERM drains: the node exits 0 and a restart keeps every admitted hit")
    func gracefulShutdownKeepsCounts() async throws {
        let cluster = try NodeProcessCluster(nodeCount: 1)
        let process = try cluster.start("n1")
        try await cluster.waitHealthy("n1")
        for _ in 0..<5 { _ = try await cluster.check("n1", key: "k", rule: "EXACT") }
        await process.stop()
        #expect(process.exitStatus == 0)

        try cluster.start("n1")
        try await cluster.waitHealthy("n1")
        let after = try await cluster.check("n1", key: "k", rule: "EXACT", hits: 0)
        #expect(after.json?[member: "remaining"]?.int == 2)
        let events = try await cluster.run(["events", "--data-dir", cluster.node("n1").dataDir, "--key", "k"])
        #expect(events.status == 0)
        #expect(events.output.split(separator: "\n").filter { $0.hasSuffix("\tEXACT\tk\t1") }.count == 5)
        await cluster.stopAll()
    }

    @Test("ratelimit check prints the decision; a stopped node is one line naming it and why; a bad config exits 1 naming the key and file")
    func cliCheckAndConfigErrors() async throws {
        let cluster = try NodeProcessCluster(nodeCount: 1)
        try cluster.startAll()
        try await cluster.waitHealthy("n1")
        let check = try await cluster.run(["check", "user:7", "--rule", "FIXED"])
        #expect(check.status == 0)
        #expect(check.output.contains("RateLimit-Policy: \"FIXED\";q=3;w=86400"))
        #expect(check.output.contains("\"allowed\":true"))

        let unknown = try await cluster.run(["check", "user:7", "--rule", "NOPE"])
        #expect(unknown.status != 0)
        #expect(unknown.output.contains("unknown rule \"NOPE\""))
        await cluster.stopAll()
        // With the node stopped: one line naming it and the reason in words, not NIO's error dump.
        let stopped = try await cluster.run(["check", "user:7", "--rule", "FIXED"])
        #expect(stopped.status != 0)
        #expect(stopped.output.contains("cannot reach node n1 at http://127.0.0.1:\(cluster.node("n1").httpPort): connection refused"),
                "\(stopped.output)")
        #expect(!stopped.output.contains("SingleConnectionFailure") && stopped.output.split(separator: "\n").count == 1, "\(stopped.output)")

        let broken = try NodeProcessCluster(nodeCount: 1, rules: """
            [[ratelimits]]
            name = "API"
            namespace_id = "1"
            simple = { limit = -5, period = 60 }
            algorithm = "leaky"
            """)
        let result = try await broken.run(["config", "check"])
        #expect(result.status == 1)
        #expect(result.output.contains("wrangler.toml"))
        #expect(result.output.contains("ratelimits[0].simple.limit"))
        #expect(result.output.contains("ratelimits[0].algorithm"))
        let staging = try await broken.run(["config", "check", "--env", "staging"])
        #expect(staging.status == 1)
    }
}

@Suite("ratelimit compact", .serialized)
struct CompactTests {
    @Test("compact drops only events every kept snapshot covers, of one data dir or of every local node; counts survive a restart")
    func compactKeepsCounts() async throws {
        let cluster = try NodeProcessCluster(nodeCount: 1)
        let dataDir = cluster.node("n1").dataDir
        let none = try await cluster.run(["compact", "--data-dir", "nope"])
        #expect(none.status != 0)
        #expect(none.output.contains("nope/events.sqlite"))
        let noLogs = try await cluster.run(["compact"])
        #expect(noLogs.status != 0)
        #expect(noLogs.output.contains("no node of cluster/development.toml has an event log on this machine"), "\(noLogs.output)")

        let process = try cluster.start("n1")
        try await cluster.waitHealthy("n1")
        for _ in 0..<4 { _ = try await cluster.check("n1", key: "c", rule: "EXACT") }
        await process.stop()  // Drains and writes a snapshot covering all four.
        let compacted = try await cluster.run(["compact", "--data-dir", dataDir])
        #expect(compacted.status == 0, "\(compacted.output)")
        #expect(compacted.output.contains("removed 4 events"))

        try cluster.start("n1")
        try await cluster.waitHealthy("n1")
        let after = try await cluster.check("n1", key: "c", rule: "EXACT", hits: 0)
        #expect(after.json?[member: "remaining"]?.int == 3)

        // Without --data-dir: every node of the environment's topology found here.
        for _ in 0..<2 { _ = try await cluster.check("n1", key: "c", rule: "EXACT") }
        await cluster.stopAll()
        let everyNode = try await cluster.run(["compact"])
        #expect(everyNode.status == 0, "\(everyNode.output)")
        // The first snapshot (seq 4) is still kept beside the new one (seq 6): nothing older to drop.
        #expect(everyNode.output.contains("n1: removed 0 events up to seq 4"), "\(everyNode.output)")
        #expect(everyNode.output.contains("2 remain in ") && everyNode.output.contains("development/n1/events.sqlite"), "\(everyNode.output)")
        try cluster.start("n1")
        try await cluster.waitHealthy("n1")
        let last = try await cluster.check("n1", key: "c", rule: "EXACT", hits: 0)
        #expect(last.json?[member: "remaining"]?.int == 1)
        await cluster.stopAll()
    }
}
