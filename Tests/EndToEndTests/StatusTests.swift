import Foundation
import TestSupport
import Testing

/// `ratelimit status` (DESIGN §8) against a real coordinator's
/// `/api/summary`, and against none.
@Suite("Status: the coordinator's summary in the terminal", .serialized)
struct StatusTests {
    @Test("with the coordinator down, status fails with one line naming it and how to start it")
    func coordinatorDown() async throws {
        let cluster = try NodeProcessCluster(nodeCount: 1, coordinator: true)
        let status = try await cluster.cli(["status"])
        #expect(status.status == 1)
        #expect(status.output == """
            Error: cannot reach the development coordinator at http://127.0.0.1:\(cluster.coordinatorPort) \
            ([coordinator] of cluster/development.toml): is it running? Start it with `ratelimit coordinator --env development` \
            (or the whole cluster with `ratelimit up --env development`)

            """)
    }

    @Test("status prints members, rates, the deployment and alerts; --watch redraws until interrupted")
    func liveCoordinator() async throws {
        let cluster = try NodeProcessCluster(nodeCount: 1, coordinator: true)
        try await cluster.startWithCoordinator()
        var screen = ""
        // The coordinator sees the node by gossip, and has rates after two
        // scrapes (1 s apart, over a 2 s window here): keep the traffic up
        // until they show. FIXED allows 3 a day, so most of it is blocked.
        try await cluster.eventually(within: .seconds(20), "status shows the node alive and traffic figures") {
            for _ in 0..<5 { _ = try await cluster.check("n1", key: "status", rule: "FIXED") }
            let status = try await cluster.cli(["status"])
            screen = status.output
            return status.status == 0 && screen.contains("Members: 2 of 2 alive") && screen.contains("  requests ")
                && !screen.contains("requests 0/s") && !screen.contains("block rate -")
        }
        let lines = screen.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        #expect(lines.first?.hasPrefix("Rate Limiting: development at ") == true, "\(screen)")
        #expect(lines.contains { $0.hasPrefix("  n1 ") && $0.contains(" node ") && $0.contains(" alive ") && $0.hasSuffix("100%") }, "\(screen)")
        #expect(lines.contains { $0.hasPrefix("Deployment: epoch ") && $0.contains("stable v-") }, "\(screen)")
        #expect(lines.contains { $0.hasPrefix("Rollout: ") }, "\(screen)")
        #expect(lines.contains { $0.hasPrefix("Alerts: ") }, "\(screen)")

        // Nearly every check is blocked: High Block Rate fires (after one
        // more scrape round) and the screen lists it.
        try await cluster.eventually(within: .seconds(20), "status shows High Block Rate firing") {
            for _ in 0..<5 { _ = try await cluster.check("n1", key: "status", rule: "FIXED") }
            let status = try await cluster.cli(["status"])
            screen = status.output
            return screen.contains("  FIRING High Block Rate (warning): ") && screen.contains(" > 0.2 since ")
        }

        let watch = try cluster.launch(["status", "--watch", "--interval", "0.2"])
        let clear = "\u{1B}[H\u{1B}[2J"
        try await cluster.eventually(within: .seconds(10), "status --watch redraws twice") {
            watch.output.components(separatedBy: clear).count - 1 >= 2
        }
        #expect(watch.isRunning)
        watch.signal(SIGINT)
        #expect(await watch.waitForExit(within: .seconds(5)), "status --watch ignored Ctrl-C")
        #expect(watch.output.contains("Members: 2 of 2 alive"))
        await cluster.stopAll()
    }
}
