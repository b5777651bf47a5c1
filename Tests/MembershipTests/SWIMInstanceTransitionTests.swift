import Membership
import Testing

@Suite("SWIM instance transitions")
struct SWIMInstanceTransitionTests {
    @Test("A member that misses its direct and indirect probes becomes suspect, then dead when the suspicion times out")
    func missedProbesLeadToSuspicionThenDeath() throws {
        var swim = Fixtures.instance("n1", knowing: ["n2", "n3"])

        // Given n1 pings one of its two peers and the ping times out
        let ping = try #require(swim.onPeriodicTick(now: 0).pings.first)
        let target = ping.to
        let helper = target == "n2" ? "n3" : "n2"
        #expect(ping.timeout == 100)
        let indirect = swim.onPingResponse(.timeout(target: target), sequence: ping.sequence, now: 100)

        // Then it asks the other member to probe, and does not suspect yet
        let request = try #require(indirect.pingRequests.first)
        #expect(request.to == [helper])
        #expect(request.target == target)
        #expect(request.sequence == ping.sequence)
        #expect(swim.status(of: target) == .alive(incarnation: 0))

        // When the helper nacks and the indirect phase times out
        _ = swim.onIndirectPingResponse(.nack(target: target), sequence: request.sequence, now: 250)
        let suspected = swim.onIndirectPingResponse(.timeout(target: target), sequence: request.sequence, now: 300)

        // Then the target is suspect, by n1 alone
        let suspicion = MemberStatus.suspect(incarnation: 0, suspectedBy: ["n1"])
        #expect(swim.status(of: target) == suspicion)
        #expect(suspected.changes.map(\.to) == [suspicion])
        #expect(suspected.changes.first?.from == .alive(incarnation: 0))
        let deadline = try #require(swim.suspicionDeadline(of: target))
        #expect(deadline == 300 + swim.suspicionTimeout(confirmations: 0))

        // And it is declared dead by the first tick at or after the deadline
        _ = swim.onPeriodicTick(now: deadline - 1)
        #expect(swim.status(of: target) == suspicion)
        let expiry = swim.onPeriodicTick(now: deadline)
        #expect(swim.status(of: target) == .dead(incarnation: 0))
        #expect(expiry.changes.map(\.to) == [.dead(incarnation: 0)])
        #expect(expiry.changes.first?.isReachabilityChange == true)
    }

    @Test("A node told it is suspected refutes with a higher incarnation, and its ack carries the refutation")
    func suspicionAboutMyselfIsRefuted() throws {
        var swim = Fixtures.instance("n1", knowing: ["n2"])
        let suspicion = Fixtures.member("n1", .suspect(incarnation: 0, suspectedBy: ["n2"]))

        let reply = swim.onPing(
            from: "n2",
            payload: [Fixtures.member("n2", .alive(incarnation: 0)), suspicion],
            sequence: 7,
            now: 10
        )

        #expect(swim.incarnation == 1)
        let ack = try #require(reply.acks.first)
        #expect(ack.to == "n2")
        #expect(ack.sequence == 7)
        #expect(ack.incarnation == 1)
        #expect(ack.payload.first == Fixtures.member("n1", .alive(incarnation: 1)))

        // A stale suspicion (older incarnation) changes nothing
        _ = swim.onGossip(from: "n2", payload: [suspicion], now: 20)
        #expect(swim.incarnation == 1)

        // A death notice at the current incarnation is refuted as well
        _ = swim.onGossip(from: "n2", payload: [Fixtures.member("n1", .dead(incarnation: 1))], now: 30)
        #expect(swim.incarnation == 2)
        #expect(swim.myselfMember.status == .alive(incarnation: 2))
    }

    @Test("The higher incarnation wins: a stale alive does not clear a suspicion, a refutation does")
    func higherIncarnationWins() throws {
        var swim = Fixtures.instance("n1", knowing: ["n2"])
        _ = swim.onGossip(from: "n3", payload: [Fixtures.member("n2", .suspect(incarnation: 3, suspectedBy: ["n3"]))], now: 0)
        #expect(swim.status(of: "n2") == .suspect(incarnation: 3, suspectedBy: ["n3"]))

        _ = swim.onGossip(from: "n2", payload: [Fixtures.member("n2", .alive(incarnation: 3))], now: 1)
        _ = swim.onGossip(from: "n2", payload: [Fixtures.member("n2", .alive(incarnation: 2))], now: 2)
        #expect(swim.status(of: "n2") == .suspect(incarnation: 3, suspectedBy: ["n3"]))

        let refuted = swim.onGossip(from: "n2", payload: [Fixtures.member("n2", .alive(incarnation: 4))], now: 3)
        #expect(swim.status(of: "n2") == .alive(incarnation: 4))
        #expect(refuted.changes.first?.from == .suspect(incarnation: 3, suspectedBy: ["n3"]))

        _ = swim.onGossip(from: "n3", payload: [Fixtures.member("n2", .suspect(incarnation: 3, suspectedBy: ["n3"]))], now: 4)
        #expect(swim.status(of: "n2") == .alive(incarnation: 4))
    }

    @Test("Dead is final for its incarnation, but a rejoin with a higher incarnation revives the member")
    func deadIsFinalUntilAHigherIncarnation() throws {
        var swim = Fixtures.instance("n1", knowing: ["n2"])
        _ = swim.onGossip(from: "n3", payload: [Fixtures.member("n2", .dead(incarnation: 2))], now: 0)
        #expect(swim.status(of: "n2") == .dead(incarnation: 2))
        #expect(swim.onPeriodicTick(now: 200).pings.isEmpty, "dead members are not probed")

        _ = swim.onGossip(from: "n2", payload: [Fixtures.member("n2", .alive(incarnation: 2))], now: 300)
        _ = swim.onGossip(
            from: "n3",
            payload: [Fixtures.member("n2", .suspect(incarnation: 2, suspectedBy: ["n3"]))],
            now: 300
        )
        #expect(swim.status(of: "n2") == .dead(incarnation: 2))

        let revived = swim.onGossip(from: "n2", payload: [Fixtures.member("n2", .alive(incarnation: 3))], now: 400)
        #expect(swim.status(of: "n2") == .alive(incarnation: 3))
        let change = try #require(revived.changes.first)
        #expect(change.from == .dead(incarnation: 2))
        #expect(change.isReachabilityChange)
        #expect(swim.onPeriodicTick(now: 600).pings.map(\.to) == ["n2"], "a revived member is probed again")
    }

    @Test("A member we hold dead that pings us is answered with its death notice, so it can refute and rejoin")
    func deadMemberIsToldItIsDead() throws {
        var swim = Fixtures.instance("n1", knowing: ["n2"])
        _ = swim.onGossip(from: "n3", payload: [Fixtures.member("n2", .dead(incarnation: 3))], now: 0)

        let reply = swim.onPing(from: "n2", payload: [Fixtures.member("n2", .alive(incarnation: 3))], sequence: 5, now: 10)
        let ack = try #require(reply.acks.first)
        #expect(ack.to == "n2")
        #expect(ack.payload.contains(Fixtures.member("n2", .dead(incarnation: 3))))

        // n2, resumed at incarnation 3, reads the ack (even for a probe it already gave up on)
        var resumed = SWIMInstance(myself: Fixtures.metadata("n2"), incarnation: 3, randomSeed: 7)
        _ = resumed.onPingResponse(.ack(target: "n1", incarnation: 0, payload: ack.payload), sequence: 1, now: 20)
        #expect(resumed.incarnation == 4)
    }

    @Test("A graceful leave is announced to every active member and becomes final for that incarnation")
    func gracefulLeave() throws {
        var leaving = Fixtures.instance("n1", knowing: ["n2", "n3"])
        let announced = leaving.leave(now: 100)
        let left = Fixtures.member("n1", .left(incarnation: 0))
        #expect(announced.messages.map(\.to).sorted() == ["n2", "n3"])
        #expect(announced.messages.allSatisfy { $0.message == .leave(member: left) })
        #expect(announced.changes.map(\.to) == [.left(incarnation: 0)])
        #expect(leaving.myselfMember == left)

        // A leaving node stops probing and never refutes
        #expect(leaving.onPeriodicTick(now: 200).pings.isEmpty)
        _ = leaving.onGossip(from: "n2", payload: [Fixtures.member("n1", .dead(incarnation: 0))], now: 300)
        #expect(leaving.incarnation == 0)
        #expect(leaving.leave(now: 400).isEmpty, "leaving twice is a no-op")

        // Receivers record it as left; stale alive gossip does not undo it
        var peer = Fixtures.instance("n2", knowing: ["n1", "n3"])
        let received = peer.onMessage(.leave(member: left), from: "n1", now: 150)
        #expect(peer.status(of: "n1") == .left(incarnation: 0))
        #expect(received.changes.first?.isReachabilityChange == true)
        _ = peer.onGossip(from: "n3", payload: [Fixtures.member("n1", .alive(incarnation: 0))], now: 160)
        _ = peer.onGossip(from: "n3", payload: [Fixtures.member("n1", .dead(incarnation: 0))], now: 170)
        #expect(peer.status(of: "n1") == .left(incarnation: 0))

        // Nobody may announce someone else's leave
        _ = peer.onMessage(.leave(member: Fixtures.member("n3", .left(incarnation: 0))), from: "n1", now: 180)
        #expect(peer.status(of: "n3") == .alive(incarnation: 0))
    }

    @Test("Acks, nacks and timeouts for unknown sequences are ignored without any effect")
    func unknownSequencesAreIgnored() throws {
        var swim = Fixtures.instance("n1", knowing: ["n2", "n3"])
        let members = swim.members

        var directives = swim.onPingResponse(.ack(target: "n2", incarnation: 9, payload: []), sequence: 999, now: 5)
        directives += swim.onPingResponse(.timeout(target: "n2"), sequence: 999, now: 5)
        directives += swim.onIndirectPingResponse(.nack(target: "n2"), sequence: 999, now: 5)
        directives += swim.onIndirectPingResponse(.timeout(target: "n2"), sequence: 999, now: 5)

        #expect(directives.withoutLogs.isEmpty)
        #expect(swim.members == members)
        #expect(swim.localHealth == 0)

        // An ack naming another member than the probed one does not settle the probe
        let ping = try #require(swim.onPeriodicTick(now: 10).pings.first)
        let other = ping.to == "n2" ? "n3" : "n2"
        _ = swim.onPingResponse(.ack(target: other, incarnation: 0, payload: []), sequence: ping.sequence, now: 20)
        let afterTimeout = swim.onPingResponse(.timeout(target: ping.to), sequence: ping.sequence, now: 110)
        #expect(afterTimeout.pingRequests.count == 1)

        // A message claiming to come from myself is dropped
        let fromMyself = swim.onMessage(.ping(sequence: 1, payload: []), from: "n1", now: 120)
        #expect(fromMyself.withoutLogs.isEmpty)
    }

    @Test("An intermediary relays the target's ack to the prober, or nacks when its own ping times out")
    func pingRequestsAreRelayed() throws {
        var helper = Fixtures.instance("n2", knowing: ["n1", "n3"])
        let prober = [Fixtures.member("n1", .alive(incarnation: 0))]

        let relayed = helper.onPingRequest(
            target: Fixtures.metadata("n3"),
            from: "n1",
            payload: prober,
            sequence: 77,
            timeout: 200,
            now: 0
        )
        let ping = try #require(relayed.pings.first)
        #expect(ping.to == "n3")
        #expect(ping.timeout == 160, "the relay gives up at 80% of the prober's timeout so its nack arrives in time")

        let answer = helper.onMessage(
            .ack(sequence: ping.sequence, target: "n3", incarnation: 5, payload: [Fixtures.member("n3", .alive(incarnation: 5))]),
            from: "n3",
            now: 10
        )
        let forwarded = try #require(answer.acks.first)
        #expect(forwarded.to == "n1")
        #expect(forwarded.target == "n3")
        #expect(forwarded.incarnation == 5)
        #expect(forwarded.sequence == 77)
        #expect(helper.status(of: "n3") == .alive(incarnation: 5))

        let second = try #require(
            helper.onPingRequest(
                target: Fixtures.metadata("n3"),
                from: "n1",
                payload: prober,
                sequence: 78,
                timeout: 200,
                now: 20
            ).pings.first
        )
        let failed = helper.onPingResponse(.timeout(target: "n3"), sequence: second.sequence, now: 180)
        #expect(failed.nacks.map(\.to) == ["n1"])
        #expect(failed.nacks.map(\.sequence) == [78])
        #expect(helper.localHealth == 0, "relaying says nothing about our own health")
    }

    @Test("Dead members stay listed for the retention period, then are reaped behind a tombstone")
    func deadMembersAreReaped() throws {
        var settings = SWIMSettings()
        settings.retention.deadMember = 1_000
        var swim = Fixtures.instance("n1", knowing: ["n2"], settings: settings)
        _ = swim.onGossip(from: "n3", payload: [Fixtures.member("n2", .dead(incarnation: 1))], now: 0)

        #expect(swim.onPeriodicTick(now: 999).compactMap { if case .memberRemoved = $0 { 1 } else { nil } }.isEmpty)
        #expect(swim.status(of: "n2") == .dead(incarnation: 1))

        let reaped = swim.onPeriodicTick(now: 1_000)
        #expect(reaped.contains(.memberRemoved(Fixtures.member("n2", .dead(incarnation: 1)))))
        #expect(swim.member(id: "n2") == nil)

        _ = swim.onGossip(from: "n3", payload: [Fixtures.member("n2", .alive(incarnation: 1))], now: 1_100)
        #expect(swim.member(id: "n2") == nil, "the tombstone refuses stale gossip")
        _ = swim.onGossip(from: "n2", payload: [Fixtures.member("n2", .alive(incarnation: 2))], now: 1_200)
        #expect(swim.status(of: "n2") == .alive(incarnation: 2))
    }

    @Test("Push-pull adds new live members, turns a remote death into a local suspicion, and returns the merged state")
    func pushPullMerge() throws {
        var swim = Fixtures.instance("n1", knowing: ["n2", "n3"])
        let (state, directives) = swim.onPushPull(
            remoteState: [
                Fixtures.member("n2", .alive(incarnation: 0)),
                Fixtures.member("n3", .dead(incarnation: 0)),
                Fixtures.member("n4", .alive(incarnation: 1)),
                Fixtures.member("n5", .dead(incarnation: 0)),
            ],
            from: "n2",
            now: 0
        )
        #expect(swim.status(of: "n3") == .suspect(incarnation: 0, suspectedBy: ["n2"]))
        #expect(swim.status(of: "n4") == .alive(incarnation: 1))
        #expect(swim.member(id: "n5") == nil, "a stranger's death notice is not admitted")
        #expect(state.map(\.id) == ["n1", "n2", "n3", "n4"])
        #expect(directives.changes.map(\.member.id).sorted() == ["n3", "n4"])
    }

    @Test("Joining sends a push-pull to each seed but not to itself, and the seed answers with its full state")
    func joinThroughASeed() throws {
        var seed = SWIMInstance(myself: Fixtures.metadata("n1"), randomSeed: 1)
        #expect(seed.onJoin(seeds: [], now: 0).tickDelays == [200])

        var joiner = SWIMInstance(myself: Fixtures.metadata("n2"), randomSeed: 2)
        let join = joiner.onJoin(seeds: [Fixtures.metadata("n1"), Fixtures.metadata("n2")], now: 0)
        #expect(join.tickDelays == [200])
        #expect(join.messages.map(\.to) == ["n1"])
        let request = try #require(join.messages.first?.message)
        #expect(request == .pushPullRequest(state: [Fixtures.member("n2", .alive(incarnation: 0))]))

        let answer = seed.onMessage(request, from: "n2", now: 5)
        #expect(seed.status(of: "n2") == .alive(incarnation: 0))
        #expect(answer.changes.first?.from == nil)
        let response = try #require(answer.messages.first)
        #expect(response.to == "n2")
        _ = joiner.onMessage(response.message, from: "n1", now: 10)
        #expect(joiner.status(of: "n1") == .alive(incarnation: 0))
        #expect(joiner.onJoin(seeds: [], now: 20).tickDelays.isEmpty, "only the first join starts the ticks")
    }

    @Test("A joiner whose seeds do not answer retries the push-pull every join retry interval")
    func joinIsRetried() throws {
        var lonely = SWIMInstance(myself: Fixtures.metadata("n2"), randomSeed: 3)
        _ = lonely.onJoin(seeds: [Fixtures.metadata("n1")], now: 0)
        #expect(lonely.onPeriodicTick(now: 200).messages.isEmpty)
        #expect(lonely.onPeriodicTick(now: 1_000).messages.map(\.to) == ["n1"])
        #expect(lonely.onPeriodicTick(now: 1_200).messages.isEmpty)
    }

    @Test("Probe targets are chosen round-robin: every member once per pass")
    func roundRobinProbing() throws {
        let others = ["n2", "n3", "n4", "n5"]
        var swim = Fixtures.instance("n1", knowing: others)
        for pass in 0..<3 {
            var targets: [String] = []
            for step in 0..<others.count {
                let now = Int64((pass * others.count + step) * 200)
                targets += swim.onPeriodicTick(now: now).pings.map(\.to)
            }
            #expect(targets.sorted() == others, "pass \(pass) probed \(targets)")
        }
    }

    @Test("A ping to a suspect carries its suspicion, so it can refute at once (Lifeguard buddy system)")
    func buddySystem() throws {
        var swim = Fixtures.instance("n1", knowing: ["n2"])
        let suspicion = Fixtures.member("n2", .suspect(incarnation: 0, suspectedBy: ["n3"]))
        _ = swim.onGossip(from: "n3", payload: [suspicion], now: 0)

        let ping = try #require(swim.onPeriodicTick(now: 200).pings.first)
        #expect(ping.to == "n2")
        #expect(ping.payload.prefix(2) == [Fixtures.member("n1", .alive(incarnation: 0)), suspicion])
    }
}
