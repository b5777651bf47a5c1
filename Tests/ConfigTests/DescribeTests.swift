import Testing

@testable import Config

@Suite("config check output")
struct DescribeTests {
    @Test("describe lists environment, masked secrets, every rule and the topology")
    func describesEverything() throws {
        let fixture = try ConfigFixture(
            appending: ratelimit(name: "API")
                + ratelimit(name: "SEARCH", namespaceID: "1003", limit: "10", period: "1",
                    algorithm: "token_bucket", extra: "burst = 30"),
            cluster: ["production": ConfigFixture.threeNodeTopology(basePort: 8720)])
        var process = ConfigFixture.secrets
        process["ADMIN_TOKEN"] = "admin-secret-9876"
        let config = try fixture.load(environment: "production", process: process)
        let text = config.describe()
        let lines = text.split(separator: "\n").map(String.init)

        #expect(lines.first == "environment: production")
        #expect(lines.contains("  MONITORING_TOKEN = ****abcd"))
        #expect(lines.contains("  ADMIN_TOKEN = ****9876"))
        #expect(lines.contains("  ALERT_WEBHOOK_URL = https://hooks.example.com/****"))
        #expect(lines.contains("  DEFAULT_RATE_LIMIT = 100"))
        #expect(!text.contains("mon-secret"))
        #expect(!text.contains("admin-secret"))
        #expect(!text.contains("T000"))

        #expect(lines.contains("rules (3):"))
        #expect(lines.contains { $0.hasPrefix("  API ") && $0.contains("sliding_window") && $0.contains("limit 100 per 60s") })
        #expect(lines.contains { $0.hasPrefix("  SEARCH ") && $0.contains("token_bucket") && $0.contains("burst 30") })
        #expect(lines.contains { $0.hasPrefix("  default ") && $0.contains("limit 100 per 60s") })
        #expect(!lines.contains { $0.hasPrefix("  API ") && $0.contains("burst") }, "burst only where it applies")

        #expect(lines.contains("  RATE_LIMIT -> RateLimitDO"))
        #expect(lines.contains("topology (cluster/production.toml):"))
        #expect(lines.contains("  on_unavailable: deny"))
        #expect(lines.contains("  coordinator: 127.0.0.1 http 8720 peer 7720"))
        #expect(lines.contains { $0.hasPrefix("    n2 ") && $0.contains("http 8722") && $0.contains("peer 7722") })
    }

    @Test("describe prints each monitoring value with where it comes from")
    func describesMonitoring() throws {
        let fixture = try ConfigFixture(
            appending: "\n[monitoring]\nblock_rate = 0.3\nlatency_p95_ms = 12.5\n"
                + "\n[env.staging.monitoring]\nblock_rate = 0.5\n")
        let staging = try fixture.load(environment: "staging", process: ConfigFixture.secrets).describe()
        #expect(staging.contains("""

            monitoring:
              error_rate         0.01  (default)
              block_rate         0.5   (env.staging.monitoring)
              latency_p95_ms     12.5  (monitoring)
              scrape_interval_s  5     (default)
              alert_window_s     300   (default)
              min_samples        100   (default)

            """), "\(staging)")
        let development = try fixture.load().describe()
        #expect(development.contains("  block_rate         0.3   (monitoring)\n"), "\(development)")
    }

    @Test("describe says when there is no topology")
    func noTopology() throws {
        let text = try ConfigFixture().load().describe()
        #expect(text.contains("topology: none (cluster/development.toml not found; single process)"))
        #expect(text.contains("MONITORING_TOKEN = (unset)"))
    }
}
