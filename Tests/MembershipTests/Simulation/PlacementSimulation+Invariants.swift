import Placement

extension PlacementSimulation {
    /// One seeded fault schedule run to the end, with clients throughout.
    ///
    /// The network turns calm at the schedule's last heal. Nodes have converged if every
    /// running node then came to agree (``agreedView``) within `convergenceBound` ms and
    /// kept that agreement, with no view changing at all, for `settleFor` ms.
    struct Run {
        let seed: UInt64
        let chaos: Chaos
        let simulation: PlacementSimulation
        /// When the agreement that held for `settleFor` ms at the end began, if one did.
        let agreedSince: Int64?
        let agreed: PlacementView?
        let convergenceBound: Int64

        /// Runs until the views have agreed, unchanged, for `settleFor` ms (3 s outlasts any
        /// probe begun before the heal, even stretched 9x by Lifeguard's local health), or
        /// until `convergenceBound + settleFor` ms after the last heal.
        init(seed: UInt64, rings: RingCache, convergenceBound: Int64, settleFor: Int64 = 3_000, meanGap: Int64 = 20) {
            let chaos = Chaos(seed: seed)
            let simulation = PlacementSimulation(nodeCount: chaos.nodeCount, seed: seed, network: chaos.chaotic, rings: rings)
            chaos.apply(to: simulation)
            let deadline = chaos.lastHeal + convergenceBound + settleFor
            simulation.clients(from: 0, until: deadline, meanGap: meanGap)
            simulation.cluster.run(until: chaos.lastHeal)
            self.agreedSince = simulation.runUntilAgreed(after: chaos.lastHeal, deadline: deadline, holding: settleFor)
            self.agreed = simulation.agreedView
            self.seed = seed
            self.chaos = chaos
            self.simulation = simulation
            self.convergenceBound = convergenceBound
        }

        /// When the nodes converged after the last heal, if they did within the bound.
        var convergedAt: Int64? {
            agreedSince.flatMap { $0 <= chaos.lastHeal + convergenceBound ? $0 : nil }
        }

        private var tag: String { "seed \(seed) [\(chaos)]" }

        /// (a) Every decision was made by a settled node that owned the key under its own
        /// view at that moment.
        var decisionsOutsideOwnView: [String] { simulation.decisionsOutsideOwnView(tag: tag) }

        /// (b) No key was decided by two different nodes under the same epoch.
        var keysDecidedTwicePerEpoch: [String] { simulation.keysDecidedTwicePerEpoch(tag: tag) }

        /// (c) An unsettled node never decided.
        var unsettledDecisions: [String] { simulation.unsettledDecisions(tag: tag) }

        /// (d) After the last heal all running nodes came to agree on one epoch (whose ring
        /// is exactly the running, non-leaving nodes) within the bound and kept it to the
        /// end, and from agreement on every key was decided by one node only, its owner.
        var convergenceFailures: [String] {
            guard let convergedAt, let agreed else {
                return ["\(tag): \(simulation.disagreement(within: convergenceBound))"]
            }
            return simulation.decisionsNotByAgreedOwner(after: convergedAt, agreed: agreed, tag: tag)
        }

        /// Decisions after agreement: (d) is vacuous without some.
        var decisionsAfterAgreement: Int {
            guard let convergedAt else { return 0 }
            return simulation.decisions.count { $0.time > convergedAt }
        }

        /// Keys decided by one node and then by another within `window` ms: ownership moving
        /// with membership, and split brain during partitions and pauses. By (b) the two
        /// decisions are under different epochs; counters would not follow the key.
        func keysDecidedConcurrently(window: Int64 = 1_000) -> Int {
            var last: [String: Decision] = [:]
            var keys: Set<String> = []
            for decision in simulation.decisions {
                if let previous = last[decision.key], previous.decider != decision.decider,
                    decision.time - previous.time <= window
                {
                    keys.insert(decision.key)
                }
                last[decision.key] = decision
            }
            return keys.count
        }
    }
}

// The invariants over recorded decisions; each returns one message per violation, prefixed
// with `tag` (the seed and schedule).
extension PlacementSimulation {
    /// (a) Decisions by a node that was unsettled or did not own the key under its own view.
    func decisionsOutsideOwnView(tag: String) -> [String] {
        decisions.filter { !$0.settled || $0.owner != $0.decider }.map { "\(tag): \($0)" }
    }

    /// (b) Keys decided by two different nodes under the same epoch.
    func keysDecidedTwicePerEpoch(tag: String) -> [String] {
        var first: [String: [UInt64: Decision]] = [:]
        var violations: [String] = []
        for decision in decisions {
            if let earlier = first[decision.key]?[decision.epoch] {
                if earlier.decider != decision.decider {
                    violations.append("\(tag): \(decision.key) under epoch \(PlacementView.format(epoch: decision.epoch)) "
                        + "decided by \(earlier.decider) (\(earlier)) and by \(decision.decider) (\(decision))")
                }
            } else {
                first[decision.key, default: [:]][decision.epoch] = decision
            }
        }
        return violations
    }

    /// (c) Decisions by unsettled nodes.
    func unsettledDecisions(tag: String) -> [String] {
        decisions.filter { !$0.settled }.map { "\(tag): unsettled \($0.decider) decided: \($0)" }
    }

    /// (d) Decisions after `time` not made by the key's owner on the `agreed` ring, and keys
    /// decided by more than one node after `time`.
    func decisionsNotByAgreedOwner(after time: Int64, agreed: PlacementView, tag: String) -> [String] {
        var failures: [String] = []
        var deciders: [String: Set<String>] = [:]
        for decision in decisions where decision.time > time {
            deciders[decision.key, default: []].insert(decision.decider)
            let owner = agreed.ring.owner(namespace: Self.namespace, key: decision.key)
            if decision.decider != owner {
                failures.append("\(tag): after agreement at \(time) ms on \(agreed), \(decision); agreed owner \(owner ?? "none")")
            }
        }
        for (key, nodes) in deciders.sorted(by: { $0.key < $1.key }) where nodes.count > 1 {
            failures.append("\(tag): after agreement at \(time) ms, \(key) decided by \(nodes.sorted())")
        }
        return failures
    }

    /// Why the running nodes do not count as converged: their views now.
    func disagreement(within bound: Int64) -> String {
        let running = views.values.filter { cluster.isRunning($0.selfID) }.sorted { $0.selfID < $1.selfID }
        return "running nodes \(expectedMembers) did not agree for good within \(bound) ms of the last heal "
            + "(views last changed at \(viewChangedAt) ms); at \(cluster.now) ms: "
            + running.map(\.description).joined(separator: "; ")
    }
}
