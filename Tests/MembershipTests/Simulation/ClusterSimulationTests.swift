import Membership
import Testing

/// Multi-node scenarios on the deterministic simulation, with default
/// settings unless stated. Simulated times are printed with a `SIM` prefix.
@Suite("Simulated SWIM clusters")
struct ClusterSimulationTests {
    /// Runs until every node sees every node alive, or fails the test.
    private func converge(_ cluster: SimulatedCluster, within bound: Int64) throws -> Int64 {
        try #require(
            cluster.run(until: bound) { $0.everyoneSeesAlive() },
            "\(cluster.ids.count) nodes did not converge within \(bound) ms"
        )
    }

    @Test(
        "Nodes joining through one seed converge to everyone alive within a bounded time",
        arguments: [(5, Int64(3_000)), (20, 6_000), (50, 12_000)]
    )
    func joinConvergence(nodeCount: Int, bound: Int64) throws {
        let cluster = SimulatedCluster(nodeCount: nodeCount, seed: 1)
        let converged = try self.converge(cluster, within: bound)
        print("SIM \(nodeCount) nodes joined through one seed: everyone sees everyone alive at \(converged) ms")
        #expect(cluster.departures.isEmpty)
        #expect(cluster.decodeFailures == 0)
    }

    @Test("A killed node is declared dead by every survivor of a 3-node cluster in under 5 s, over 20 seeds")
    func killedNodeDetectedInThreeNodeCluster() throws {
        var detections: [Int64] = []
        for seed in UInt64(1)...20 {
            let cluster = SimulatedCluster(nodeCount: 3, seed: seed)
            let killedAt = try self.converge(cluster, within: 5_000) + 1_000
            cluster.kill("n3", at: killedAt)
            detections.append(try self.detect("n3", killedAt: killedAt, in: cluster, within: 10_000))
        }
        let sorted = detections.sorted()
        print("SIM 3 nodes, kill detected by all survivors after min \(sorted.first!) / median \(sorted[10]) / max \(sorted.last!) ms")
        #expect(sorted.last! < 5_000)
    }

    @Test("A killed node is declared dead by every survivor of a larger cluster", arguments: [5, 20])
    func killedNodeDetected(nodeCount: Int) throws {
        let cluster = SimulatedCluster(nodeCount: nodeCount, seed: 11)
        let killedAt = try self.converge(cluster, within: 10_000) + 1_000
        let victim = "n2"
        cluster.kill(victim, at: killedAt)
        let detection = try self.detect(victim, killedAt: killedAt, in: cluster, within: 20_000)
        print("SIM \(nodeCount) nodes, kill detected by all survivors after \(detection) ms")
        #expect(detection < 12_000)
    }

    /// Time from the kill until the last survivor declared `victim` dead; also
    /// checks that nobody else died.
    private func detect(_ victim: String, killedAt: Int64, in cluster: SimulatedCluster, within bound: Int64) throws
        -> Int64
    {
        let survivors = cluster.ids.filter { $0 != victim }
        try #require(
            cluster.run(until: killedAt + bound) { cluster in
                survivors.allSatisfy { cluster.status(of: victim, seenBy: $0).map { !$0.isActive } ?? false }
            } != nil,
            "not every survivor declared \(victim) dead within \(bound) ms"
        )
        let deaths = cluster.changes(about: victim) { if case .dead = $0 { true } else { false } }
        #expect(cluster.departures.allSatisfy { $0.change.member.id == victim })
        let declarations = survivors.map { survivor in deaths.first { $0.observer == survivor }?.time ?? .max }
        let lastDeclaration = try #require(declarations.max())
        return lastDeclaration - killedAt
    }

    @Test("With 10% message loss, 20 nodes run for 10 simulated minutes without a single false death")
    func noFalseDeathsUnderLoss() async throws {
        let cluster = SimulatedCluster(
            nodeCount: 20,
            seed: 7,
            network: .init(lossRate: 0.1, minDelay: 1, maxDelay: 10)
        )
        _ = try self.converge(cluster, within: 20_000)
        // Seconds of CPU: run in 10 simulated seconds at a time, letting the
        // tests that wait for deadlines run in between (see thousandSchedules).
        while cluster.now < 600_000 {
            cluster.run(until: min(cluster.now + 10_000, 600_000))
            await Task.yield()
        }

        let suspicions = cluster.changes.filter { $0.change.to.isSuspect }.count
        let maxIncarnation = cluster.ids.map { cluster.instance($0).incarnation }.max() ?? 0
        let maxHealth = cluster.ids.map { cluster.instance($0).localHealth }.max() ?? 0
        print(
            "SIM 20 nodes, 10% loss, 10 min: \(cluster.messagesSent) messages (\(cluster.messagesLost) lost), "
                + "\(suspicions) suspicions, all refuted; highest incarnation \(maxIncarnation), local health now <= \(maxHealth)"
        )
        #expect(cluster.departures.isEmpty, "false deaths: \(cluster.departures.prefix(5).map(\.change))")
        #expect(suspicions > 0, "the loss should have caused suspicions for the test to mean anything")
        #expect(cluster.ids.allSatisfy { observer in
            cluster.ids.allSatisfy { cluster.status(of: $0, seenBy: observer)?.isActive == true }
        })
        #expect(cluster.decodeFailures == 0)
    }

    @Test("An overloaded 3-node cluster (slow links, stalls of up to 1.5 s on every node) has no false deaths over 5 simulated minutes")
    func noFalseDeathsWhenOverloaded() throws {
        // A starved 2-core machine: messages take up to 150 ms each way (ping
        // timeout is 100 ms), and every node stalls for 0.1-1.5 s every few
        // seconds (the suspicion timeout is 2 s).
        let cluster = SimulatedCluster(nodeCount: 3, seed: 21, network: .init(lossRate: 0, minDelay: 1, maxDelay: 150))
        var random = SplitMix64(seed: 2121)
        for id in cluster.ids {
            var at: Int64 = 3_000
            while at < 300_000 {
                let stall = Int64.random(in: 100...1_500, using: &random)
                cluster.pause(id, at: at, for: stall)
                at += stall + Int64.random(in: 1_000...5_000, using: &random)
            }
        }
        cluster.run(until: 300_000)

        let suspicions = cluster.changes.filter { $0.change.to.isSuspect }.count
        let maxHealth = cluster.ids.map { cluster.instance($0).localHealth }.max() ?? 0
        print("SIM overloaded 3 nodes, 5 min: \(suspicions) suspicions, all refuted; local health now <= \(maxHealth)")
        #expect(cluster.departures.isEmpty, "false deaths: \(cluster.departures.prefix(5).map(\.change))")
        #expect(suspicions > 0, "the overload should have caused suspicions for the test to mean anything")
    }

    @Test("A live node partitioned for less than the suspicion timeout is suspected, refutes, and stays alive with a higher incarnation")
    func briefPartitionIsRefuted() throws {
        let cluster = SimulatedCluster(nodeCount: 5, seed: 3)
        let isolatedAt = try self.converge(cluster, within: 5_000) + 1_000
        cluster.isolate("n3", at: isolatedAt, for: 1_500)
        cluster.run(until: isolatedAt + 10_000)

        #expect(cluster.departures.isEmpty, "\(cluster.departures.map(\.change))")
        #expect(!cluster.changes(about: "n3") { $0.isSuspect }.isEmpty, "n3 should have been suspected")
        for observer in cluster.ids {
            let status = try #require(cluster.status(of: "n3", seenBy: observer))
            #expect(status.isAlive && status.incarnation >= 1, "\(observer) sees n3 as \(status)")
        }
    }

    @Test("A paused node is declared dead, and on resume refutes its death and rejoins with a higher incarnation")
    func pausedNodeDiesAndRejoins() throws {
        let cluster = SimulatedCluster(nodeCount: 5, seed: 5)
        let pausedAt = try self.converge(cluster, within: 5_000) + 1_000
        let pause: Int64 = 15_000
        cluster.pause("n4", at: pausedAt, for: pause)
        let others = cluster.ids.filter { $0 != "n4" }

        cluster.run(until: pausedAt + pause - 1)
        var deadIncarnation: Incarnation = 0
        for observer in others {
            let status = try #require(cluster.status(of: "n4", seenBy: observer))
            guard case .dead(let incarnation) = status else {
                Issue.record("\(observer) sees the paused n4 as \(status), expected dead")
                continue
            }
            deadIncarnation = max(deadIncarnation, incarnation)
        }
        let rejoined = try #require(
            cluster.run(until: pausedAt + pause + 10_000) { $0.everyoneSeesAlive() },
            "n4 did not rejoin within 10 s of resuming"
        )
        print("SIM paused n4 for \(pause) ms: everyone sees it alive again \(rejoined - pausedAt - pause) ms after resume")
        for observer in cluster.ids {
            let status = try #require(cluster.status(of: "n4", seenBy: observer))
            #expect(status.incarnation > deadIncarnation, "\(observer) sees n4 as \(status)")
        }
        #expect(cluster.departures.allSatisfy { $0.change.member.id == "n4" })
    }

    @Test("A graceful leave reaches every member as left, and never turns into dead")
    func gracefulLeavePropagates() throws {
        let cluster = SimulatedCluster(nodeCount: 5, seed: 9)
        let leftAt = try self.converge(cluster, within: 5_000) + 1_000
        cluster.leave("n5", at: leftAt)
        cluster.kill("n5", at: leftAt + 1_000)  // the shell drains for a second, then exits
        let others = cluster.ids.filter { $0 != "n5" }
        let propagated = try #require(
            cluster.run(until: leftAt + 1_000) { cluster in
                others.allSatisfy { cluster.status(of: "n5", seenBy: $0) == .left(incarnation: 0) }
            }
        )
        print("SIM graceful leave of n5 known to all 4 others after \(propagated - leftAt) ms")
        cluster.run(until: leftAt + 30_000)
        for observer in others {
            #expect(cluster.status(of: "n5", seenBy: observer) == .left(incarnation: 0))
        }
        #expect(cluster.departures.allSatisfy { $0.change.member.id == "n5" && $0.change.to == .left(incarnation: 0) })
        #expect(cluster.everyoneSeesAlive(others, observers: others))
    }

    @Test("The same seed replays exactly the same history")
    func deterministicReplay() {
        func history() -> [String] {
            let cluster = SimulatedCluster(nodeCount: 6, seed: 99, network: .init(lossRate: 0.2, minDelay: 1, maxDelay: 20))
            cluster.kill("n6", at: 5_000)
            cluster.run(until: 20_000)
            return cluster.changes.map { "\($0.time) \($0.observer) \($0.change)" } + ["sent \(cluster.messagesSent)"]
        }
        let first = history()
        #expect(first.count > 10)
        #expect(history() == first)
    }
}
