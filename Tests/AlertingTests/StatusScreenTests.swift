import Alerting
import JSONCore
import Testing

@Suite("Status screen: /api/summary as the terminal lines of `ratelimit status`")
struct StatusScreenTests {
    /// The summary the coordinator serves, as in the monitoring issue.
    static let summary = """
        {"environment": "staging", "at_ms": 1796012345678, "scrape_interval_s": 5,
         "members": [{"id": "coordinator", "role": "coordinator", "status": "alive", "ring_share": 0},
                     {"id": "n1", "role": "node", "status": "alive", "ring_share": 0.3333},
                     {"id": "n2", "role": "node", "status": "suspect", "ring_share": 0.6667}],
         "deployment": {"epoch": 3, "stable": "v-0123456789abcdef", "canary": "v-fedcba9876543210", "percent": 25},
         "rollout": {"number": 2, "state": "stepping", "version": "v-fedcba9876543210",
                     "steps": [{"percent": 10, "outcome": "passed", "summary": "samples 420, errors 0"},
                               {"percent": 25, "outcome": "holding", "summary": "samples 12"}],
                     "ending": null},
         "series": [{"at_ms": 1796012335000, "versions": {"v-0123456789abcdef": {"requests_per_s": 1, "blocked_per_s": 0, "errors_per_s": 0, "p95_ms": null}}},
                    {"at_ms": 1796012340000, "versions": {"v-0123456789abcdef": {"requests_per_s": 12.5, "blocked_per_s": 1.0, "errors_per_s": 0.0, "p95_ms": 1.2},
                                                          "v-fedcba9876543210": {"requests_per_s": 4, "blocked_per_s": 0.25, "errors_per_s": 0.125, "p95_ms": 0.875}}}],
         "totals": {"requests_per_s": 16.5, "blocked_per_s": 1.25, "errors_per_s": 0.125, "p95_ms": 1.2, "block_rate": 0.0758},
         "alerts": [{"alert": "High Block Rate", "severity": "warning", "value": 0.43, "threshold": 0.2, "since_ms": 1796012300000}]}
        """

    @Test("every section of a busy cluster: members, totals, per version, deployment, rollout steps, firing alerts")
    func fullScreen() throws {
        let lines = StatusScreen.lines(try JSONParser.parse(Self.summary), coordinator: "http://127.0.0.1:8800")
        #expect(lines == [
            "Rate Limiting: staging at 2026-11-30T04:19:05Z (coordinator http://127.0.0.1:8800, scrapes every 5 s)",
            "",
            "Members: 2 of 3 alive",
            "  ID           ROLE         STATUS   RING",
            "  coordinator  coordinator  alive    -",
            "  n1           node         alive    33.3%",
            "  n2           node         suspect  66.7%",
            "",
            "Traffic, cluster-wide over the alert window:",
            "  requests 16.5/s   blocked 1.25/s   block rate 7.6%   p95 1.2 ms   errors 0.13/s",
            "",
            "Per version, latest scrape (2026-11-30T04:19:00Z):",
            "  VERSION             REQUESTS/S  BLOCKED/S  ERRORS/S  P95",
            "  v-0123456789abcdef  12.5        1          0         1.2 ms",
            "  v-fedcba9876543210  4           0.25       0.13      0.88 ms",
            "",
            "Deployment: epoch 3, stable v-0123456789abcdef, canary v-fedcba9876543210 at 25%",
            "Rollout: stepping (version v-fedcba9876543210)",
            "  10%  passed    samples 420, errors 0",
            "  25%  holding   samples 12",
            "",
            "Alerts: 1 firing",
            "  FIRING High Block Rate (warning): 0.43 > 0.2 since 2026-11-30T04:18:20Z (45 s)",
        ])
    }

    @Test("a coordinator that has not scraped twice: no rates, no per-version table, nothing firing")
    func freshCoordinator() throws {
        let summary = try JSONParser.parse("""
            {"environment": "development", "at_ms": 0, "scrape_interval_s": 1, "members": [],
             "deployment": {"epoch": 1, "stable": "v-1", "canary": null, "percent": 0},
             "rollout": {"state": "idle", "version": null, "steps": [], "ending": null},
             "series": [], "totals": {}, "alerts": []}
            """)
        let lines = StatusScreen.lines(summary, coordinator: "http://c:1")
        #expect(lines == [
            "Rate Limiting: development at 1970-01-01T00:00:00Z (coordinator http://c:1, scrapes every 1 s)",
            "",
            "Members: none seen",
            "",
            "Traffic, cluster-wide over the alert window:",
            "  no figures yet: the coordinator needs two scrapes",
            "",
            "Deployment: epoch 1, stable v-1, no canary",
            "Rollout: idle",
            "",
            "Alerts: none firing",
        ])
    }

    @Test("a rollout's ending: rolled back, with the percent and the reason")
    func rolledBack() throws {
        let summary = try JSONParser.parse("""
            {"rollout": {"state": "rolled back", "version": "v-2", "steps": [{"percent": 10, "outcome": "failed", "summary": "errors 9%"}],
                         "ending": {"outcome": "rolled-back", "percent": 10, "reason": "error rate 0.09 > 0.05"}}}
            """)
        let lines = StatusScreen.lines(summary, coordinator: "http://c:1")
        #expect(lines.contains("Rollout: rolled back (version v-2)"))
        #expect(lines.contains("  10%  failed    errors 9%"))
        #expect(lines.contains("  ended: rolled-back at 10%: error rate 0.09 > 0.05"))
    }

    @Test("missing or mistyped members show ? or -, never fail")
    func tolerant() throws {
        let lines = StatusScreen.lines(try JSONParser.parse(#"{"members": [{"id": 7}], "totals": {"requests_per_s": "x"}, "alerts": [{}]}"#),
                                       coordinator: "http://c:1")
        #expect(lines.first == "Rate Limiting: ? (coordinator http://c:1)")
        #expect(lines.contains("  ?   ?     ?       -"))
        #expect(lines.contains("  no figures yet: the coordinator needs two scrapes"))
        #expect(lines.contains("Deployment: none"))
        #expect(lines.contains("Rollout: none"))
        #expect(lines.contains("  FIRING ? (?): ? > ?"))
        #expect(StatusScreen.lines(.null, coordinator: "x").count > 3)
    }
}
