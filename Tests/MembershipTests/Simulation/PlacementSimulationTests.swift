import Membership
import Placement
import Testing

/// Membership + placement + forwarding on the deterministic simulation: the invariants of
/// `PlacementSimulation+Invariants.swift` over many seeded fault schedules, and a few named
/// scenarios. Simulated times are printed with a `SIM` prefix.
@Suite("Placement over simulated SWIM")
struct PlacementSimulationTests {
    /// After the last fault heals, every running node must agree within this long. Probes
    /// begun during the faults, with timeouts stretched by Lifeguard's local health, still
    /// raise suspicions up to ~3 s after the heal, and a paused node declared dead learns it
    /// only from its next push-pull (every 5 s); the observed worst case over the 1,000
    /// schedules is printed by the test (under 5 s when written).
    static let convergenceBound: Int64 = 8_000

    @Test("Over 1,000 seeded fault schedules every decision is made by a settled owner under its own view, once per key and epoch, and nodes converge after the faults heal")
    func thousandSchedules() async {
        let clock = ContinuousClock()
        let started = clock.now
        let rings = RingCache()
        var convergence: [Int64] = []
        var totals = PlacementSimulation.Counts()
        var concurrentKeys = 0
        var decisionsAfterAgreement = 0
        var faults: [String: Int] = [:]
        for seed in UInt64(1)...1_000 {
            let run = PlacementSimulation.Run(seed: seed, rings: rings, convergenceBound: Self.convergenceBound)
            let a = run.decisionsOutsideOwnView
            #expect(a.isEmpty, "(a) \(a.count) decisions not by a settled owner under its own view; first: \(a.prefix(3))")
            let b = run.keysDecidedTwicePerEpoch
            #expect(b.isEmpty, "(b) \(b.count) keys decided by two nodes under one epoch; first: \(b.prefix(3))")
            let c = run.unsettledDecisions
            #expect(c.isEmpty, "(c) \(c.count) decisions by unsettled nodes; first: \(c.prefix(3))")
            let d = run.convergenceFailures
            #expect(d.isEmpty, "(d) \(d.prefix(3))")
            #expect(run.decisionsAfterAgreement > 0, "seed \(seed): no decisions after agreement, (d) would be vacuous")

            if let at = run.convergedAt { convergence.append(at - run.chaos.lastHeal) }
            decisionsAfterAgreement += run.decisionsAfterAgreement
            concurrentKeys += run.keysDecidedConcurrently()
            totals.add(run.simulation.counts)
            totals.timedOut += run.simulation.unanswered
            for fault in run.chaos.faults { faults[fault.kind, default: 0] += 1 }
            // Seconds of CPU in all: between seeds, let the tests that wait
            // for deadlines run. Otherwise this and one other long test can
            // hold both threads of the test pool on this 2-core machine.
            await Task.yield()
        }
        let elapsed = clock.now - started
        convergence.sort()
        print(
            "SIM 1,000 schedules in \(elapsed): \(totals.checks) checks, \(totals.decided) decided "
                + "(\(decisionsAfterAgreement) after agreement), \(totals.forwards) forwards, \(totals.refusals) refusals, "
                + "\(totals.reroutedLocally) decided back at the sender, \(totals.notAgreed) failed as not agreed, "
                + "\(totals.timedOut) timed out, \(totals.unsettled) refused while unsettled, \(totals.unavailable) unavailable"
        )
        if !convergence.isEmpty {
            print(
                "SIM agreement after the last heal: median \(convergence[convergence.count / 2]) ms, "
                    + "p99 \(convergence[convergence.count * 99 / 100]) ms, max \(convergence.last!) ms; "
                    + "\(concurrentKeys) keys (summed over runs) decided by one node, then another within 1 s"
            )
        }
        print("SIM faults drawn: " + faults.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key)" }.joined(separator: ", "))
        #expect(totals.refusals > 0 && totals.notAgreed > 0 && totals.unsettled > 0 && totals.reroutedLocally > 0,
                "the schedules should exercise refusals, failures, unsettled nodes and local reroutes")
    }

    // MARK: Named scenarios (3 nodes unless stated, lossless 1-5 ms network)

    /// The three invariants over recorded decisions; (d) is checked by each scenario.
    private func expectSafe(_ simulation: PlacementSimulation, _ tag: String) {
        let a = simulation.decisionsOutsideOwnView(tag: tag)
        #expect(a.isEmpty, "(a) \(a.prefix(3))")
        let b = simulation.keysDecidedTwicePerEpoch(tag: tag)
        #expect(b.isEmpty, "(b) \(b.prefix(3))")
        let c = simulation.unsettledDecisions(tag: tag)
        #expect(c.isEmpty, "(c) \(c.prefix(3))")
    }

    private func epoch(_ nodes: [String]) -> UInt64 {
        PlacementView(selfID: nodes[0], aliveNodes: nodes, settled: true).epoch
    }

    @Test("During a 2|1 partition both sides decide, under different epochs and never one key twice under one epoch; after the heal they agree again and each key has one decider")
    func twoOnePartition() throws {
        let simulation = PlacementSimulation(nodeCount: 3, seed: 11)
        simulation.cluster.isolate("n3", at: 2_000, for: 6_000)
        simulation.clients(from: 0, until: 20_000, meanGap: 5)
        simulation.cluster.run(until: 7_900)
        #expect(simulation.views["n3"]?.ring.nodes == ["n3"])
        #expect(simulation.views["n1"]?.ring.nodes == ["n1", "n2"])

        let agreedAt = try #require(
            simulation.runUntilAgreed(after: 8_000, deadline: 8_000 + Self.convergenceBound, holding: 3_000),
            "\(simulation.disagreement(within: Self.convergenceBound))"
        )
        print("SIM 2|1 partition for 6 s: all three agree \(agreedAt - 8_000) ms after the heal")
        expectSafe(simulation, "2|1 partition")
        #expect(simulation.decisionsNotByAgreedOwner(after: agreedAt, agreed: simulation.agreedView!, tag: "2|1").isEmpty)

        // The split brain is real, and the epochs tell its two halves apart: some keys were
        // decided by n3 alone and by the majority in the same seconds.
        let minority = epoch(["n3"])
        let majority = epoch(["n1", "n2"])
        let during = simulation.decisions.filter { $0.time > 5_000 && $0.time < 8_000 }
        let byMinority = Set(during.filter { $0.epoch == minority }.map(\.key))
        let byMajority = Set(during.filter { $0.epoch == majority }.map(\.key))
        #expect(during.allSatisfy { $0.epoch == minority ? $0.decider == "n3" : $0.decider != "n3" })
        #expect(!byMinority.intersection(byMajority).isEmpty)
    }

    @Test("A restarted node that cannot reach its peers stays unsettled and decides nothing, then joins the ring once it hears from one")
    func restartedNodeWaitsToSettle() throws {
        let simulation = PlacementSimulation(nodeCount: 3, seed: 12)
        simulation.cluster.kill("n2", at: 2_000)
        simulation.cluster.restart("n2", at: 6_000)
        simulation.cluster.isolate("n2", at: 6_000, for: 1_500)
        simulation.clients(from: 0, until: 20_000, meanGap: 5)
        simulation.cluster.run(until: 6_000)
        let refusedBefore = simulation.counts.unsettled
        simulation.cluster.run(until: 7_400)

        #expect(simulation.views["n2"]?.isSettled == false, "\(simulation.views["n2"]!)")
        #expect(simulation.counts.unsettled > refusedBefore + 10, "checks reaching the fresh n2 should be refused")
        #expect(!simulation.decisions.contains { $0.decider == "n2" && $0.time >= 6_000 })

        let agreedAt = try #require(
            simulation.runUntilAgreed(after: 7_500, deadline: 7_500 + Self.convergenceBound, holding: 3_000),
            "\(simulation.disagreement(within: Self.convergenceBound))"
        )
        let settledAt = try #require(simulation.viewLog.first { $0.time >= 6_000 && $0.view.selfID == "n2" && $0.view.isSettled }?.time)
        print("SIM restarted n2 isolated until 7500 ms: settled at \(settledAt) ms, all agree from \(agreedAt) ms")
        #expect(settledAt >= 7_500)
        #expect(simulation.decisions.contains { $0.decider == "n2" && $0.time > agreedAt })
        expectSafe(simulation, "restart")
    }

    @Test("An owner paused past its death wakes with its old view and decides its queued checks under its old epoch, distinct from the survivors'; then all agree")
    func pausedOwnerWakesStale() throws {
        let simulation = PlacementSimulation(nodeCount: 3, seed: 13)
        simulation.cluster.pause("n3", at: 2_000, for: 6_000)
        simulation.clients(from: 0, until: 20_000, meanGap: 5)
        simulation.cluster.run(until: 7_900)
        #expect(simulation.views["n1"]?.ring.nodes == ["n1", "n2"])
        #expect(simulation.views["n3"]?.ring.nodes == ["n1", "n2", "n3"], "n3 has not run since 2 s")

        simulation.cluster.run(until: 8_000)
        let stale = simulation.decisions.filter { $0.decider == "n3" && $0.time == 8_000 }
        #expect(!stale.isEmpty, "n3 should decide the checks queued while it was stopped")
        #expect(stale.allSatisfy { $0.epoch == epoch(["n1", "n2", "n3"]) })

        let agreedAt = try #require(
            simulation.runUntilAgreed(after: 8_000, deadline: 8_000 + Self.convergenceBound, holding: 3_000),
            "\(simulation.disagreement(within: Self.convergenceBound))"
        )
        print("SIM n3 paused 6 s: decided \(stale.count) queued checks at resume under its old epoch; all agree \(agreedAt - 8_000) ms after resume")
        expectSafe(simulation, "paused owner")
    }

    @Test("A leaving node takes itself off its own ring at once: it forwards every check and decides none")
    func leavingNodeOwnsNothing() throws {
        let simulation = PlacementSimulation(nodeCount: 4, seed: 14)
        simulation.cluster.leave("n4", at: 2_000)
        simulation.cluster.kill("n4", at: 3_000)
        simulation.clients(from: 0, until: 10_000, meanGap: 5)
        simulation.cluster.run(until: 2_000)
        let forwardsBefore = simulation.counts.forwards
        #expect(simulation.views["n4"]?.ring.nodes == ["n1", "n2", "n3"])
        _ = try #require(simulation.runUntilAgreed(after: 3_000, deadline: 3_000 + Self.convergenceBound, holding: 3_000))

        #expect(!simulation.decisions.contains { $0.decider == "n4" && $0.time >= 2_000 })
        #expect(simulation.counts.forwards > forwardsBefore)
        #expect(simulation.agreedView?.ring.nodes == ["n1", "n2", "n3"])
        expectSafe(simulation, "leave")
    }

    @Test("The same seed replays exactly the same decisions")
    func deterministicReplay() {
        func history() -> [String] {
            let run = PlacementSimulation.Run(seed: 42, rings: RingCache(), convergenceBound: Self.convergenceBound)
            return run.simulation.decisions.map(\.description) + ["\(run.simulation.counts)"]
        }
        let first = history()
        #expect(first.count > 100)
        #expect(history() == first)
    }

    /// Two groups of two that declared each other dead find each other again through the
    /// periodic push-pull with a seed not seen alive (`gossip.reconnectInterval`, Serf's
    /// reconnect to failed members); without it they stayed apart after the network healed.
    @Test("A 2|2 partition longer than the suspicion timeout heals once the network does")
    func twoTwoPartition() {
        let simulation = PlacementSimulation(nodeCount: 4, seed: 15)
        simulation.cluster.partition(["n1", "n2"], at: 2_000, for: 6_000)
        simulation.clients(from: 0, until: 30_000, meanGap: 10)
        simulation.cluster.run(until: 8_000)
        let agreed = simulation.runUntilAgreed(after: 8_000, deadline: 8_000 + 20_000, holding: 3_000)
        expectSafe(simulation, "2|2 partition")
        #expect(agreed != nil, "\(simulation.disagreement(within: 20_000))")
    }
}

extension PlacementSimulation.Counts {
    mutating func add(_ other: Self) {
        checks += other.checks
        decided += other.decided
        forwards += other.forwards
        refusals += other.refusals
        reroutedLocally += other.reroutedLocally
        unsettled += other.unsettled
        unavailable += other.unavailable
        notAgreed += other.notAgreed
        timedOut += other.timedOut
    }
}
