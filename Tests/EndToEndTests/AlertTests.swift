import Foundation
import JSONCore
import NodeServer
import TestSupport
import Testing

/// The seed's alerts as the coordinator evaluates them over the nodes'
/// metrics and POSTs them to a real webhook receiver (DESIGN §8).
@Suite("Alerts: fired once, resolved once, delivered through failures", .serialized)
struct AlertTests {
    @Test("High Block Rate is POSTed once when it fires and once when it resolves, with the bearer token, through two 500s")
    func highBlockRateFiresAndResolves() async throws {
        try await WebhookReceiver.serving(failingFirst: 2) { receiver in
            let cluster = try NodeProcessCluster(nodeCount: 2, rules: CoordinatorTests.rules(apiLimit: 3), coordinator: true)
            cluster.environmentVariables["MONITORING_TOKEN"] = NodeProcessCluster.monitoringToken
            cluster.environmentVariables["ALERT_WEBHOOK_URL"] = receiver.url(path: "/hooks/alerts")
            try await cluster.startWithCoordinator()

            func blockRate(_ status: String) -> [WebhookReceiver.Request] {
                receiver.requests.filter {
                    $0.answered < 300 && $0.json?[member: "alert"]?.string == "High Block Rate" && $0.json?[member: "status"]?.string == status
                }
            }
            // Four keys of a 3-per-minute rule, hit over and over: nearly every check is blocked.
            let load = CheckLoad(cluster: cluster, keyPrefix: "blocked", keyCount: 4, workers: 2)
            _ = try await load.during {
                try await cluster.eventually(within: .seconds(20), "High Block Rate firing delivered") { !blockRate("firing").isEmpty }
            }
            // No traffic: once the window holds none, the alert resolves.
            try await cluster.eventually(within: .seconds(20), "High Block Rate resolved delivered") { !blockRate("resolved").isEmpty }
            // A few more evaluation rounds bring no repeat of either.
            let repeated = try? await poll("a repeated High Block Rate notification", within: .seconds(3)) {
                blockRate("firing").count > 1 || blockRate("resolved").count > 1
            }
            #expect(repeated == nil, "\(receiver.requests)")

            let firing = try #require(blockRate("firing").first?.json)
            #expect(firing[member: "severity"]?.string == "warning")
            #expect(firing[member: "environment"]?.string == "development")
            #expect(firing[member: "threshold"] == .double(0.2), "\(firing)")
            if case .double(let value)? = firing[member: "value"] { #expect(value > 0.2) } else { Issue.record("no value: \(firing)") }
            #expect(firing[member: "at"]?.string?.hasSuffix("Z") == true)
            // The firing alert was refused twice with 500 and delivered on the third try, the same body each time.
            let firingBody = try #require(blockRate("firing").first).body
            let deliveries = receiver.requests.filter { $0.body == firingBody }
            #expect(deliveries.map(\.answered) == [500, 500, 204], "\(receiver.requests)")
            for request in receiver.requests {
                #expect(request.header("authorization") == "Bearer \(NodeProcessCluster.monitoringToken)")
            }
            await cluster.stopAll()
        }
    }

    @Test("a firing alert survives a coordinator restart: not announced again while it keeps firing, and its resolve is still sent, once")
    func firingSurvivesRestart() async throws {
        try await WebhookReceiver.serving { receiver in
            // A window longer than the restart takes, as the default 300 s is.
            let cluster = try NodeProcessCluster(nodeCount: 2, rules: CoordinatorTests.rules(apiLimit: 3), coordinator: true,
                                                 monitoring: "[monitoring]\nscrape_interval_s = 1\nalert_window_s = 10\n")
            cluster.environmentVariables["MONITORING_TOKEN"] = NodeProcessCluster.monitoringToken
            cluster.environmentVariables["ALERT_WEBHOOK_URL"] = receiver.url(path: "/hooks/restart")
            try await cluster.startWithCoordinator()

            func blockRate(_ status: String) -> [WebhookReceiver.Request] {
                receiver.requests.filter {
                    $0.answered < 300 && $0.json?[member: "alert"]?.string == "High Block Rate" && $0.json?[member: "status"]?.string == status
                }
            }
            let load = CheckLoad(cluster: cluster, keyPrefix: "restart", keyCount: 4, workers: 2)
            _ = try await load.during {
                try await cluster.eventually(within: .seconds(30), "High Block Rate firing delivered") { !blockRate("firing").isEmpty }
                // The coordinator restarts while the alert fires and the load goes on.
                await cluster.processes["coordinator"]!.stop()
                try cluster.startCoordinator()
                try await cluster.waitCoordinatorHealthy()
                // Several evaluation rounds under the same load: nothing new to say.
                let repeated = try? await poll("a second firing or a resolve", within: .seconds(4)) {
                    blockRate("firing").count > 1 || !blockRate("resolved").isEmpty
                }
                #expect(repeated == nil, "\(receiver.requests)")
            }
            try await cluster.eventually(within: .seconds(40), "High Block Rate resolved delivered") { !blockRate("resolved").isEmpty }
            #expect(blockRate("firing").count == 1 && blockRate("resolved").count == 1, "\(receiver.requests)")
            await cluster.stopAll()
        }
    }
}
