import Membership
import Testing

@Suite("Lifeguard: local health and suspicion timeouts")
struct LifeguardTests {
    /// Runs one probe of n1 that fails directly and indirectly; `nacks`
    /// intermediaries report back before the indirect timeout.
    private func failOneProbe(_ swim: inout SWIMInstance, nacks: Int, now: Int64) throws {
        let ping = try #require(swim.onPeriodicTick(now: now).pings.first)
        let request = try #require(
            swim.onPingResponse(.timeout(target: ping.to), sequence: ping.sequence, now: now + 1).pingRequests.first
        )
        for _ in 0..<nacks {
            _ = swim.onIndirectPingResponse(.nack(target: ping.to), sequence: request.sequence, now: now + 2)
        }
        _ = swim.onIndirectPingResponse(.timeout(target: ping.to), sequence: request.sequence, now: now + 3)
    }

    @Test("Local health rises by the number of intermediaries that did not nack, not at all when all nacked, and falls on success")
    func localHealthFollowsNacksAndAcks() throws {
        var swim = Fixtures.instance("n1", knowing: ["n2", "n3", "n4", "n5"])

        try self.failOneProbe(&swim, nacks: 1, now: 0)
        #expect(swim.localHealth == 2, "3 intermediaries, 1 nack: 2 missed nacks")

        try self.failOneProbe(&swim, nacks: 3, now: 10)
        #expect(swim.localHealth == 2, "every intermediary nacked: the target is the problem, not us")

        // A stretched period and timeouts while unhealthy (Lifeguard IV.A)
        let tick = swim.onPeriodicTick(now: 20)
        #expect(tick.tickDelays == [600])
        let ping = try #require(tick.pings.first)
        #expect(ping.timeout == 300)

        _ = swim.onPingResponse(.ack(target: ping.to, incarnation: 0, payload: []), sequence: ping.sequence, now: 25)
        #expect(swim.localHealth == 1)
        #expect(swim.probeInterval == 400)
    }

    @Test("Local health saturates at its maximum; a failed probe with nobody to ask counts as one miss")
    func localHealthSaturates() throws {
        var swim = Fixtures.instance("n1", knowing: ["n2"])
        for step in 0..<12 {
            let now = Int64(step * 2)
            let ping = try #require(swim.onPeriodicTick(now: now).pings.first)
            let failed = swim.onPingResponse(.timeout(target: "n2"), sequence: ping.sequence, now: now + 1)
            #expect(failed.pingRequests.isEmpty)
        }
        #expect(swim.localHealth == SWIMSettings().lifeguard.maxLocalHealth)
        #expect(swim.probeInterval == 200 * 9)
        #expect(swim.status(of: "n2") == .suspect(incarnation: 0, suspectedBy: ["n1"]))
    }

    @Test("Refuting a suspicion about myself raises local health")
    func refutationRaisesLocalHealth() {
        var swim = Fixtures.instance("n1", knowing: ["n2"])
        _ = swim.onGossip(from: "n2", payload: [Fixtures.member("n1", .suspect(incarnation: 0, suspectedBy: ["n2"]))], now: 0)
        #expect(swim.localHealth == 1)
        #expect(swim.incarnation == 1)
    }

    @Test("A tick that fires long after it was due means we were stalled: it raises local health and defers suspicion expiry one period")
    func stalledTickDefersExpiry() throws {
        var swim = Fixtures.instance("n1", knowing: ["n2"])
        _ = swim.onJoin(seeds: [], now: 0)
        _ = swim.onGossip(from: "n3", payload: [Fixtures.member("n2", .suspect(incarnation: 0, suspectedBy: ["n3"]))], now: 0)
        #expect(swim.suspicionDeadline(of: "n2") == 2_000)
        _ = swim.onPeriodicTick(now: 200)

        // Stalled from 200 until 2500: the refutation may be waiting unread
        let late = swim.onPeriodicTick(now: 2_500)
        #expect(swim.status(of: "n2")?.isSuspect == true)
        #expect(swim.localHealth == 1)
        #expect(late.tickDelays == [400])

        // Input processed in between wins; otherwise the next, punctual tick expires it
        _ = swim.onPeriodicTick(now: 2_900)
        #expect(swim.status(of: "n2") == .dead(incarnation: 0))
    }

    @Test("The suspicion timeout starts at the maximum and shrinks logarithmically to the minimum with confirmations")
    func suspicionTimeoutShrinks() {
        // 10 members: scale max(1, log10(10)) = 1, min = 10 * 200 = 2000, max = 4 * min, K = 3
        let swim = Fixtures.instance("n1", knowing: (2...10).map { "n\($0)" })
        let timeouts = (0...5).map { swim.suspicionTimeout(confirmations: $0) }
        #expect(timeouts[0] == 8_000)
        #expect(timeouts[1] == 5_000)  // 8000 - 6000 * ln 2 / ln 4
        #expect(timeouts[2] == 3_246)  // 8000 - 6000 * ln 3 / ln 4, rounded up
        #expect(timeouts[3] == 2_000)
        #expect(timeouts[4] == 2_000)
        #expect(timeouts[5] == 2_000)
    }

    @Test("The suspicion timeout grows with log10 of the cluster size, and small clusters get the minimum at once")
    func suspicionTimeoutScalesWithClusterSize() {
        let three = Fixtures.instance("n1", knowing: ["n2", "n3"])
        #expect(three.suspicionTimeout(confirmations: 0) == 2_000, "n - 2 < K: no confirmations to wait for")

        let twenty = Fixtures.instance("n1", knowing: (2...20).map { "n\($0)" })
        #expect(twenty.suspicionTimeout(confirmations: 3) == 2_603)  // 10 * log10(20) * 200
        #expect(twenty.suspicionTimeout(confirmations: 0) == 10_409)
    }

    @Test("Independent confirmations from other members bring the suspicion deadline forward")
    func confirmationsShortenTheDeadline() throws {
        var swim = Fixtures.instance("n1", knowing: ["n2", "n3", "n4", "n5", "n6"])
        func suspect(by suspectors: Set<String>, now: Int64) {
            _ = swim.onGossip(
                from: suspectors.sorted().first!,
                payload: [Fixtures.member("n2", .suspect(incarnation: 0, suspectedBy: suspectors))],
                now: now
            )
        }

        suspect(by: ["n3"], now: 1_000)
        #expect(swim.suspicionDeadline(of: "n2") == 9_000)

        suspect(by: ["n4"], now: 1_500)
        #expect(swim.suspicionDeadline(of: "n2") == 6_000, "measured from our first suspicion, not from the confirmation")

        suspect(by: ["n5", "n6"], now: 1_600)
        #expect(swim.suspicionDeadline(of: "n2") == 3_000)
        #expect(swim.status(of: "n2") == .suspect(incarnation: 0, suspectedBy: ["n3", "n4", "n5", "n6"]))

        _ = swim.onPeriodicTick(now: 2_999)
        #expect(swim.status(of: "n2")?.isSuspect == true)
        _ = swim.onPeriodicTick(now: 3_000)
        #expect(swim.status(of: "n2") == .dead(incarnation: 0))
    }

    @Test("Our own failed probe confirms a suspicion we heard about")
    func ownProbeConfirms() throws {
        var swim = Fixtures.instance("n1", knowing: ["n2", "n3", "n4", "n5", "n6"])
        _ = swim.onGossip(
            from: "n3",
            payload: [Fixtures.member("n2", .suspect(incarnation: 0, suspectedBy: ["n3"]))],
            now: 0
        )
        for step in 0..<5 {
            let now = Int64(step * 200)
            let tick = swim.onPeriodicTick(now: now)
            guard let ping = tick.pings.first, ping.to == "n2" else { continue }
            let request = try #require(
                swim.onPingResponse(.timeout(target: "n2"), sequence: ping.sequence, now: now + 100).pingRequests.first
            )
            _ = swim.onIndirectPingResponse(.timeout(target: "n2"), sequence: request.sequence, now: now + 150)
        }
        #expect(swim.status(of: "n2") == .suspect(incarnation: 0, suspectedBy: ["n1", "n3"]))
        #expect(swim.suspicionDeadline(of: "n2") == 5_000)
    }
}
