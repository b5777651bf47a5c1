import Foundation
import JSONCore
import NodeServer
import TestSupport
import Testing

/// The coordinator and the deploy verbs end to end (DESIGN §7, §8): real
/// nodes and a real `ratelimit coordinator` on loopback, load driven from the
/// test, every verb run as the operator runs it.
@Suite("Coordinator: gradual rollouts, rollbacks, staging gate, restarts", .serialized)
struct CoordinatorTests {
    /// The rules the tests deploy: `API` (the limit the rollout tests change)
    /// and `SHARED` (an exact count, for the counters shared across versions).
    static func rules(apiLimit: Int, sharedLimit: Int = 20) -> String {
        """
        [[ratelimits]]
        name = "API"
        namespace_id = "1001"
        simple = { limit = \(apiLimit), period = 60 }
        algorithm = "sliding_window"

        [[ratelimits]]
        name = "SHARED"
        namespace_id = "1002"
        simple = { limit = \(sharedLimit), period = 3600 }
        algorithm = "sliding_log"
        """
    }

    /// Three nodes and a coordinator, serving `rules(apiLimit: 100)`.
    static func startedCluster(nodes: Int = 3, variables: [String: String] = [:]) async throws -> NodeProcessCluster {
        let cluster = try NodeProcessCluster(nodeCount: nodes, rules: rules(apiLimit: 100), coordinator: true)
        for (name, value) in variables { cluster.environmentVariables[name] = value }
        try await cluster.startWithCoordinator()
        return cluster
    }

    /// The percent of each step line `deploy --gradual` printed
    /// (`10%: samples 42, ... -> passed`), with its outcome.
    static func stepLines(_ output: String) -> [(percent: Int, outcome: String)] {
        output.split(separator: "\n").compactMap { line in
            guard let percent = line.split(separator: "%", maxSplits: 1).first.flatMap({ Int($0) }),
                  line.contains(": samples "), let arrow = line.range(of: " -> ", options: .backwards) else { return nil }
            return (percent, String(line[arrow.upperBound...]))
        }
    }

    /// Runs `deploy ARGS` in the background under load until it exits.
    static func deployUnderLoad(_ cluster: NodeProcessCluster, _ arguments: [String], load: CheckLoad,
                                within limit: Duration = .seconds(45)) async throws -> (status: Int32, output: String, tally: CheckLoad.Tally) {
        let (result, tally) = try await load.during { () async throws -> (Int32, String) in
            let deploy = try cluster.launch(["deploy"] + arguments)
            guard await deploy.waitForExit(within: limit) else {
                throw TestFailure("deploy \(arguments) still running after \(limit):\n\(deploy.output)\n\(cluster.outputs)")
            }
            return (deploy.exitStatus ?? -1, deploy.output)
        }
        return (result.0, result.1, tally)
    }

    // MARK: 1. A good version

    @Test("a good version rolls out through all five steps, printing one line each, and ends stable on every node with no canary")
    func goodVersionCompletesAllSteps() async throws {
        let cluster = try await Self.startedCluster()
        let before = try await cluster.deployment(on: "n1")
        try cluster.writeRules(Self.rules(apiLimit: 1000))
        let load = CheckLoad(cluster: cluster, keyPrefix: "good", keyCount: 5_000)

        let deploy = try await Self.deployUnderLoad(cluster, ["--gradual", "--duration", "10s", "--message", "looser API"], load: load)
        print("good rollout under \(deploy.tally):\n\(deploy.output)")

        #expect(deploy.status == 0, "\(deploy.output)\n\(deploy.tally)")
        let version = try #require(NodeProcessCluster.uploadedVersion(in: deploy.output), "\(deploy.output)")
        #expect(version != before.stable)
        // One line per judged step, as it happens; a step short of samples
        // may be held once more ("extended") on a slow machine, never failed.
        let steps = Self.stepLines(deploy.output)
        #expect(steps.filter { $0.outcome == "passed" }.map(\.percent) == [10, 25, 50, 75, 100], "\(deploy.output)")
        #expect(steps.allSatisfy { $0.outcome == "passed" || $0.outcome == "extended" }, "\(deploy.output)")
        #expect(deploy.output.contains("\(version) is stable at 100%"), "\(deploy.output)")
        let final = try await cluster.waitForDeployment(within: .seconds(5), "\(version) stable with no canary") {
            $0.stable == version && $0.canary == nil && $0.percent == 0
        }
        #expect(final.epoch > before.epoch)
        for node in cluster.nodes {
            let answer = try await cluster.check(node.id, key: "after-good:\(node.id)")
            #expect(answer.json?[member: "version"]?.string == version)
            #expect(answer.json?[member: "limit"]?.int == 1000)
        }
        let completed = try await cluster.journalEntries().first
        #expect(completed?[member: "outcome"]?.string == "completed", "\(String(describing: completed))")
        await cluster.stopAll()
    }

    // MARK: 2. A far stricter version

    @Test("a far stricter version is rolled back at 10%: exit 1, the old stable on every node, one critical alert with the monitoring token, delivered through two 500s")
    func strictVersionRolledBackWithOneAlert() async throws {
        try await WebhookReceiver.serving(failingFirst: 2) { receiver in
            let cluster = try await Self.startedCluster(variables: [
                "MONITORING_TOKEN": NodeProcessCluster.monitoringToken, "ALERT_WEBHOOK_URL": receiver.url(path: "/hooks/alerts"),
            ])
            let old = try await cluster.deployment(on: "n1")
            try cluster.writeRules(Self.rules(apiLimit: 1))
            // A small pool hit over and over: the canary's limit of 1 denies nearly every check.
            let load = CheckLoad(cluster: cluster, keyPrefix: "strict", keyCount: 200)

            let deploy = try await Self.deployUnderLoad(cluster, ["--gradual", "--duration", "10s"], load: load)
            print("strict rollout under \(deploy.tally):\n\(deploy.output)")

            #expect(deploy.status == 1, "\(deploy.output)")
            #expect(deploy.output.contains("Rollout failed at 10%"), "\(deploy.output)")
            let canary = try #require(NodeProcessCluster.uploadedVersion(in: deploy.output))
            #expect(Self.stepLines(deploy.output).map(\.percent) == [10], "\(deploy.output)")
            let restored = try await cluster.waitForDeployment(within: .seconds(5), "the old stable alone") {
                $0.stable == old.stable && $0.canary == nil && $0.percent == 0
            }
            #expect(restored.epoch == old.epoch + 2, "one epoch for the 10% split, one for the rollback")
            for node in cluster.nodes {
                let answer = try await cluster.check(node.id, key: "after-strict:\(node.id)")
                #expect(answer.json?[member: "version"]?.string == old.stable)
            }

            // Two 500s, then accepted: three deliveries of one alert, and no other.
            func rollbackAlerts() -> [WebhookReceiver.Request] {
                receiver.requests.filter { $0.json?[member: "alert"]?.string == "Automatic rollback" }
            }
            try await cluster.eventually(within: .seconds(15), "the rollback alert delivered after two 500s") {
                rollbackAlerts().count >= 3
            }
            let waitedMore = try? await poll("a further rollback alert", within: .seconds(3)) { rollbackAlerts().count > 3 }
            #expect(waitedMore == nil, "\(receiver.requests)")
            let requests = rollbackAlerts()
            #expect(requests.map(\.answered) == [500, 500, 204], "\(requests)")
            #expect(Set(requests.map(\.text)).count == 1, "every retry carries the same alert: \(requests)")
            for request in receiver.requests {
                #expect(request.method == "POST" && request.path == "/hooks/alerts")
                #expect(request.header("authorization") == "Bearer \(NodeProcessCluster.monitoringToken)")
                #expect(request.header("content-type") == "application/json")
            }
            let alert = try #require(requests.last?.json, "\(requests)")
            #expect(alert[member: "alert"]?.string == "Automatic rollback")
            #expect(alert[member: "severity"]?.string == "critical")
            #expect(alert[member: "status"]?.string == "firing")
            #expect(alert[member: "message"]?.string == "Automatic rollback triggered")
            #expect(alert[member: "environment"]?.string == "development")
            let details = try #require(alert[member: "details"], "\(alert)")
            #expect(details[member: "version"]?.string == canary)
            #expect(details[member: "percent"]?.int == 10)
            #expect(details[member: "reason"]?.string?.contains("block rate") == true, "\(details)")
            await cluster.stopAll()
        }
    }

    // MARK: 3. Shared counters

    /// One hit on `key` of rule SHARED through `node`: the version that
    /// decided it, its limit and what remains.
    static func hit(_ cluster: NodeProcessCluster, _ key: String, via node: String) async throws -> (version: String, limit: Int64, remaining: Int64) {
        let response = try await cluster.check(node, key: key, rule: "SHARED")
        guard response.status == 200, let json = response.json, let version = json[member: "version"]?.string,
              let limit = json[member: "limit"]?.int, let remaining = json[member: "remaining"]?.int else {
            throw TestFailure("check \(key) via \(node): \(response.status) \(response.text)")
        }
        return (version, limit, remaining)
    }

    @Test("a key keeps its count across a promote, a rollback, a deploy at 100% and a canary rolled back: counters are shared by every version")
    func countsAreSharedAcrossVersions() async throws {
        let cluster = try await Self.startedCluster()
        let v1 = try await cluster.deployment(on: "n1").stable
        let key = "counted"
        // Given three hits under v1 (SHARED: 20 per hour, exact).
        for (index, node) in ["n1", "n2", "n3"].enumerated() {
            let answer = try await Self.hit(cluster, key, via: node)
            #expect(answer.version == v1 && answer.limit == 20 && answer.remaining == Int64(20 - 1 - index), "\(answer)")
        }

        // When v2 (40 per hour) takes half the keys and is promoted,
        try cluster.writeRules(Self.rules(apiLimit: 100, sharedLimit: 40))
        let split = try await cluster.cli(["deploy", "--percent", "50"])
        #expect(split.status == 0, "\(split.output)")
        let v2 = try #require(NodeProcessCluster.uploadedVersion(in: split.output), "\(split.output)")
        let promote = try await cluster.cli(["rollout", "promote"])
        #expect(promote.status == 0, "\(promote.output)")
        try await cluster.waitForDeployment("\(v2) promoted") { $0.stable == v2 && $0.canary == nil }
        // then v2 decides the fourth hit with the three before it counted.
        var answer = try await Self.hit(cluster, key, via: "n2")
        #expect(answer.version == v2 && answer.limit == 40 && answer.remaining == 40 - 4, "\(answer)")

        // When rolled back to v1, v1 counts all five.
        let rollback = try await cluster.cli(["rollback", v1, "--message", "back to v1"])
        #expect(rollback.status == 0, "\(rollback.output)")
        #expect(rollback.output.contains("rolled back to \(v1)") && rollback.output.contains("every node answered with it after"),
                "\(rollback.output)")
        try await cluster.waitForDeployment("\(v1) restored") { $0.stable == v1 && $0.canary == nil }
        answer = try await Self.hit(cluster, key, via: "n3")
        #expect(answer.version == v1 && answer.limit == 20 && answer.remaining == 20 - 5, "\(answer)")

        // When v2 goes to 100% directly (its content is already uploaded), it counts six.
        let direct = try await cluster.cli(["deploy", "--percent", "100"])
        #expect(direct.status == 0, "\(direct.output)")
        #expect(direct.output.contains("version \(v2) (already uploaded)"), "\(direct.output)")
        try await cluster.waitForDeployment("\(v2) at 100%") { $0.stable == v2 && $0.canary == nil }
        answer = try await Self.hit(cluster, key, via: "n1")
        #expect(answer.version == v2 && answer.remaining == 40 - 6, "\(answer)")

        // When v3 (30 per hour) is a canary on every key, then rolled back,
        try cluster.writeRules(Self.rules(apiLimit: 100, sharedLimit: 30))
        let canary = try await cluster.cli(["deploy", "--percent", "99"])
        #expect(canary.status == 0, "\(canary.output)")
        let v3 = try #require(NodeProcessCluster.uploadedVersion(in: canary.output))
        try await cluster.waitForDeployment("\(v3) at 99%") { $0.canary == v3 && $0.percent == 99 }
        answer = try await Self.hit(cluster, key, via: "n2")
        let expected: (String, Int64) = answer.version == v3 ? (v3, 30 - 7) : (v2, 40 - 7)
        #expect(answer.version == expected.0 && answer.remaining == expected.1, "\(answer)")
        let dropCanary = try await cluster.cli(["rollback"])
        #expect(dropCanary.status == 0 && dropCanary.output.contains("rolled back to \(v2)"), "\(dropCanary.output)")
        // then v2 decides the eighth hit with all seven counted.
        answer = try await Self.hit(cluster, key, via: "n3")
        #expect(answer.version == v2 && answer.remaining == 40 - 8, "\(answer)")
        await cluster.stopAll()
    }

    // MARK: 4. Sticky keys

    /// The version each key is decided by, asked through `node` in one batch.
    static func versions(of keys: [String], via node: String, _ cluster: NodeProcessCluster) async throws -> [String: String] {
        let checks = keys.map { "{\"key\":\"\($0)\",\"rule\":\"API\"}" }.joined(separator: ",")
        let response = try await cluster.post(node, path: "/v1/check/batch", body: "{\"checks\":[\(checks)]}")
        guard response.status == 200, let results = response.json?[member: "results"]?.array, results.count == keys.count else {
            throw TestFailure("batch via \(node): \(response.status) \(response.text.prefix(300))")
        }
        var versions: [String: String] = [:]
        for (key, result) in zip(keys, results) { versions[key] = result[member: "version"]?.string ?? "?" }
        return versions
    }

    @Test("a key never changes version while the canary's share grows from 10 to 25 to 50%, and every node splits the keys alike")
    func keysStickToTheirVersionAsThePercentageGrows() async throws {
        let cluster = try await Self.startedCluster()
        let v1 = try await cluster.deployment(on: "n1").stable
        try cluster.writeRules(Self.rules(apiLimit: 200))
        let keys = (0..<600).map { "sticky:\($0)" }
        var v2: String?
        var previous: Set<String> = []
        for percent in [10, 25, 50] {
            let deploy = try await cluster.cli(["deploy", "--percent", "\(percent)"])
            #expect(deploy.status == 0, "\(deploy.output)")
            let version = try #require(NodeProcessCluster.uploadedVersion(in: deploy.output), "\(deploy.output)")
            #expect(v2 == nil || v2 == version)
            v2 = version
            try await cluster.waitForDeployment("\(version) at \(percent)%") { $0.canary == version && $0.percent == percent }

            var canary: Set<String>?
            for node in cluster.nodes {
                let versions = try await Self.versions(of: keys, via: node.id, cluster)
                #expect(Set(versions.values).isSubset(of: [v1, version]), "\(Set(versions.values))")
                let here = Set(keys.filter { versions[$0] == version })
                if let canary {
                    #expect(here == canary, "\(node.id) splits the keys unlike n1 at \(percent)%")
                } else {
                    canary = here
                }
            }
            let now = try #require(canary)
            #expect(previous.isSubset(of: now),
                    "keys left the canary at \(percent)%: \(previous.subtracting(now).sorted().prefix(5))")
            #expect(now.count > previous.count, "the canary took no new keys at \(percent)%")
            let share = Double(now.count) / Double(keys.count)
            #expect(abs(share - Double(percent) / 100) < 0.07, "canary share \(share) at \(percent)%")
            previous = now
        }
        await cluster.stopAll()
    }

    // MARK: 5. Staging first

    @Test("production refuses rules never completed on staging (or rolled back there, or when staging cannot tell), naming staging; accepts them once staging completed them; --force --message overrides and is journalled; a dry run says which and stores nothing")
    func productionNeedsStagingFirst() async throws {
        let variables = ["MONITORING_TOKEN": NodeProcessCluster.monitoringToken, "ALERT_WEBHOOK_URL": "http://127.0.0.1:9/unused"]
        let staging = try NodeProcessCluster(nodeCount: 1, rules: Self.rules(apiLimit: 100), environment: "staging", coordinator: true)
        let production = try NodeProcessCluster(nodeCount: 1, environment: "production", coordinator: true, sharing: staging)
        for cluster in [staging, production] {
            for (name, value) in variables { cluster.environmentVariables[name] = value }
        }
        // Outside development the secrets are required, by every verb.
        let bare = try await production.cli(["versions", "list"], environment: ["MONITORING_TOKEN": ""])
        #expect(bare.status != 0 && bare.output.contains("Missing required env var: MONITORING_TOKEN"), "\(bare.output)")
        try await staging.startWithCoordinator()
        try await production.startWithCoordinator()
        let v1 = try await production.deployment(on: "n1")

        // Rules staging has not seen: a dry run fails as the deploy would, saying it is
        // a dry run, and stores nothing: no version, no journal entry.
        try staging.writeRules(Self.rules(apiLimit: 150))
        let journalBefore = try await production.journalEntries().count
        let dryRefused = try await production.cli(["deploy", "--percent", "100", "--dry-run"])
        #expect(dryRefused.status != 0, "\(dryRefused.output)")
        #expect(dryRefused.output.contains("dry run: production refuses") && dryRefused.output.contains("staging"), "\(dryRefused.output)")
        #expect(NodeProcessCluster.uploadedVersion(in: dryRefused.output) == nil, "\(dryRefused.output)")
        #expect(try await production.journalEntries().count == journalBefore)
        let dryVersion = try #require(dryRefused.output.split(separator: " ").first { $0.hasPrefix("v-") }.map {
            String($0.prefix { $0 != ":" })
        }, "\(dryRefused.output)")
        let versionsAfterDryRun = try await production.cli(["versions", "list"])
        #expect(versionsAfterDryRun.status == 0 && !versionsAfterDryRun.output.contains(dryVersion), "\(versionsAfterDryRun.output)")

        // The deploy itself: refused, naming staging, nothing changes.
        let refused = try await production.cli(["deploy", "--percent", "100"])
        #expect(refused.status != 0, "\(refused.output)")
        #expect(refused.output.contains("staging"), "\(refused.output)")
        let v2 = try #require(NodeProcessCluster.uploadedVersion(in: refused.output), "\(refused.output)")
        #expect(try await production.deployment(on: "n1") == v1)
        // The dry run had named the same version without uploading it; the deploy uploaded it.
        #expect(dryVersion == v2, "\(dryRefused.output)")
        let versions = try await production.cli(["versions", "list"])
        #expect(versions.output.contains(v2), "\(versions.output)")

        // Completed on staging (at 100%), the same rules are accepted by production.
        let onStaging = try await staging.cli(["deploy", "--percent", "100"])
        #expect(onStaging.status == 0, "\(onStaging.output)")
        #expect(NodeProcessCluster.uploadedVersion(in: onStaging.output) == v2, "the same rules, the same id in both")
        let dryAccepted = try await production.cli(["deploy", "--percent", "100", "--dry-run"])
        #expect(dryAccepted.status == 0, "\(dryAccepted.output)")
        #expect(dryAccepted.output.contains("dry run: nothing changes")
                && dryAccepted.output.contains("staging completed these rules: production accepts \(v2)")
                && dryAccepted.output.contains("\(v2) would serve 100% of keys"), "\(dryAccepted.output)")
        #expect(try await production.deployment(on: "n1") == v1)
        let accepted = try await production.cli(["deploy", "--percent", "100"])
        #expect(accepted.status == 0, "\(accepted.output)")
        try await production.waitForDeployment("\(v2) stable on production") { $0.stable == v2 && $0.canary == nil }

        // Completed on staging and then rolled back there: refused again.
        try staging.writeRules(Self.rules(apiLimit: 160))
        let completedThenRolledBack = try await staging.cli(["deploy", "--percent", "100"])
        #expect(completedThenRolledBack.status == 0, "\(completedThenRolledBack.output)")
        let stagingRollback = try await staging.cli(["rollback", v2])
        #expect(stagingRollback.status == 0, "\(stagingRollback.output)")
        let afterRollback = try await production.cli(["deploy", "--percent", "100"])
        #expect(afterRollback.status != 0 && afterRollback.output.contains("staging"), "\(afterRollback.output)")
        try await production.waitForDeployment("\(v2) still stable on production") { $0.stable == v2 && $0.canary == nil }

        // --force needs a reason; with one it overrides the gate, and the journal says so.
        let why = "hotfix for partner outage INC-42"
        let forceAlone = try await production.cli(["deploy", "--percent", "100", "--force"])
        #expect(forceAlone.status != 0 && forceAlone.output.contains("--message"), "\(forceAlone.output)")
        let forced = try await production.cli(["deploy", "--percent", "100", "--force", "--message", why])
        #expect(forced.status == 0, "\(forced.output)")
        let v3 = try #require(NodeProcessCluster.uploadedVersion(in: forced.output))
        try await production.waitForDeployment("\(v3) forced onto production") { $0.stable == v3 && $0.canary == nil }
        let list = try await production.cli(["deployments", "list"])
        #expect(list.status == 0, "\(list.output)")
        let forcedRows = list.output.split(separator: "\n").filter { $0.contains(v3) && $0.contains("forced") }
        #expect(forcedRows.count == 1, "\(list.output)")
        #expect(list.output.contains(why), "\(list.output)")
        let journalled = try await production.journalEntries().filter { $0[member: "forced"]?.bool == true }
        #expect(journalled.count == 1 && journalled.first?[member: "version"]?.string == v3
                && journalled.first?[member: "force_message"]?.string == why, "\(journalled)")

        // With the staging coordinator down, production cannot tell: refused, naming staging.
        await staging.processes["coordinator"]!.stop()
        try staging.writeRules(Self.rules(apiLimit: 170))
        let unknown = try await production.cli(["deploy", "--percent", "100"])
        #expect(unknown.status != 0 && unknown.output.contains("staging"), "\(unknown.output)")
        #expect(unknown.output.contains("connection refused") && !unknown.output.contains("SingleConnectionFailure"), "\(unknown.output)")
        try await production.waitForDeployment("\(v3) still stable on production") { $0.stable == v3 }
        await production.stopAll()
        await staging.stopAll()
    }

    // MARK: 6. Coordinator restart

    @Test("a coordinator killed (SIGKILL) mid-rollout resumes from its journal when started again and finishes the rollout, and the deploy command follows it to the end")
    func killedCoordinatorResumesTheRollout() async throws {
        let cluster = try await Self.startedCluster()
        try cluster.writeRules(Self.rules(apiLimit: 1000))
        let load = CheckLoad(cluster: cluster, keyPrefix: "resume", keyCount: 5_000)
        let ((midway, version, final), tally) = try await load.during { () async throws -> (NodeProcessCluster.DeploymentView, String, NodeProcessCluster.DeploymentView) in
            let deploy = try cluster.launch(["deploy", "--gradual", "--duration", "10s"])
            // When the first step has passed (every node serves 25%),
            let midway = try await cluster.waitForDeployment(within: .seconds(15), "the canary at 25%") {
                $0.canary != nil && $0.percent == 25
            }
            await cluster.processes["coordinator"]!.kill9()
            let version = try #require(NodeProcessCluster.uploadedVersion(in: deploy.output), "\(deploy.output)")
            // the nodes keep serving the split without it,
            for node in cluster.nodes { #expect(try await cluster.deployment(on: node.id) == midway) }
            // and the coordinator started again takes the rollout up where it was.
            try cluster.startCoordinator()
            try await cluster.waitCoordinatorHealthy()
            do {
                let final = try await cluster.waitForDeployment(within: .seconds(30), "\(version) stable after the restart") {
                    $0.stable == version && $0.canary == nil && $0.percent == 0
                }
                // The deploy command kept following through the restart: it prints the
                // last step, judged by the restarted coordinator, and the ending.
                #expect(await deploy.waitForExit(within: .seconds(30)), "\(deploy.output)")
                #expect(deploy.exitStatus == 0, "\(deploy.output)")
                // (The 10% line may or may not have been read before the kill.)
                for percent in [25, 50, 75] {
                    #expect(deploy.output.contains("\(percent)%: samples"), "the \(percent)% step's line: \(deploy.output)")
                }
                #expect(deploy.output.contains("\(version) is stable at 100%"), "\(deploy.output)")
                return (midway, version, final)
            } catch {
                let journal = (try? await cluster.journalEntries()) ?? []
                throw TestFailure("\(error)\njournal, newest first:\n" + journal.map(\.text).joined(separator: "\n"))
            }
        }
        print("rollout across a coordinator restart under \(tally)")
        #expect(cluster.processes["coordinator"]!.output.contains("resuming the rollout from the journal"))

        // The journal tells one rollout: started once, each step passed once
        // in order (none repeated after the restart), completed at the epoch
        // every node serves.
        let entries = try await cluster.journalEntries().reversed()
        let ofRollout = entries.filter { $0[member: "version"]?.string == version }
        let outcomes = ofRollout.map { "\($0[member: "outcome"]?.string ?? "?") \($0[member: "percent"]?.int ?? -1)" }
        #expect(outcomes == ["started 10", "step-passed 10", "step-passed 25", "step-passed 50", "step-passed 75", "completed 100"],
                "\(outcomes)")
        let journalEpochs = entries.compactMap { $0[member: "deployment"]?[member: "epoch"]?.int }
        #expect(final.epoch == journalEpochs.max(), "nodes serve epoch \(final.epoch); the journal has \(journalEpochs)")
        #expect(final.epoch > midway.epoch)
        await cluster.stopAll()
    }

    // MARK: 7. Node restart

    @Test("a node killed during a rollout and started again converges on the deployment the other nodes serve")
    func restartedNodeConverges() async throws {
        let cluster = try await Self.startedCluster()
        try cluster.writeRules(Self.rules(apiLimit: 1000))
        // Steps of 12 s: the rollout is at its first step throughout.
        let deploy = try cluster.launch(["deploy", "--gradual", "--duration", "60s"])
        let first = try await cluster.waitForDeployment("the canary at 10%") { $0.canary != nil && $0.percent == 10 }

        // When n3 is killed, and the rollout moves on without it,
        await cluster.processes["n3"]!.kill9()
        let promote = try await cluster.cli(["rollout", "promote"])
        #expect(promote.status == 0, "\(promote.output)")
        let version = try #require(first.canary)
        var current: NodeProcessCluster.DeploymentView?
        try await cluster.eventually(within: .seconds(10), "n1 and n2 serve \(version) as stable") {
            let views = [try? await cluster.deployment(on: "n1"), try? await cluster.deployment(on: "n2")]
            guard let view = views[0], views[1] == view, view.stable == version, view.canary == nil else { return false }
            current = view
            return true
        }
        #expect(await deploy.waitForExit(within: .seconds(10)) && deploy.exitStatus == 0, "\(deploy.output)")

        // then n3, started again, serves what they serve.
        try cluster.start("n3")
        try await cluster.waitHealthy("n3")
        let converged = try await cluster.waitForDeployment(within: .seconds(15), "n3 caught up") { $0 == current }
        #expect(converged.epoch == first.epoch + 1)
        let answer = try await cluster.check("n3", key: "after-restart")
        #expect(answer.json?[member: "version"]?.string == version)
        await cluster.stopAll()
    }
}
