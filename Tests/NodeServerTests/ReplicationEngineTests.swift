import LimiterCore
@testable import NodeServer
import Placement
import Synchronization
import Testing

/// Two real engines over real SQLite files, joined by an in-process sink that
/// hands each copy to the other engine's replica side: the replication rules
/// of DESIGN §6 without sockets (the end-to-end FailoverTests run them over mTLS).
@Suite("Replication between two engines: copies, fences, imports")
struct ReplicationEngineTests {
    static let exact = rule("EXACT", limit: 5, period: 3600, algorithm: .slidingLog, namespace: "1002")
    static let rules = ["EXACT": exact]

    /// Copies go to the first of `peers` not skipped (a third engine stands
    /// by, so a stand-in has somewhere to copy to); `receiverOwns` says which
    /// keys the receiving engine owns under its own view.
    final class Link: ReplicaSink {
        let from: String
        let peers = Mutex<[LimiterEngine]>([])
        let receiverOwns = Mutex<Set<String>>([])
        let copies = Mutex(0)

        init(from: String) { self.from = from }

        func candidates(namespace: String, key: String, skipping: [String]) -> [String] {
            peers.withLock { $0 }.map(\.nodeID).filter { !skipping.contains($0) }
        }

        func send(_ copy: ReplicaCopy, to candidates: [String], completion: @escaping @Sendable (CopyOutcome) -> Void) {
            guard let peer = peers.withLock({ $0 }).first(where: { $0.nodeID == candidates.first }) else {
                return completion(.noReplica(reason: "no peer"))
            }
            copies.withLock { $0 += 1 }
            let states = (try? LimiterTable(snapshot: copy.states)) ?? LimiterTable()
            let owned = receiverOwns.withLock { $0 }
            peer.applyCopy(from: from, events: copy.events, states: states, fences: copy.fences,
                           ownsHere: { _, key in owned.contains(key) },
                           rules: ReplicationEngineTests.rules) { result in
                switch result {
                case .success: completion(.committed)
                case .failure(let problem) where problem.code == "replica-refused":
                    completion(.refused(by: peer.nodeID, reason: problem.detail))
                case .failure(let problem): completion(.noReplica(reason: problem.detail))
                }
            }
        }
    }

    final class Pair: Sendable {
        let n1: LimiterEngine
        let n2: LimiterEngine
        let link1: Link
        let link2: Link
        let fencedBy = Mutex<[String]>([])

        init(n1: LimiterEngine, n2: LimiterEngine, link1: Link, link2: Link) {
            self.n1 = n1
            self.n2 = n2
            self.link1 = link1
            self.link2 = link2
        }
    }

    static func pair() throws -> Pair {
        let n1 = try makeTestEngine(node: "n1", rules: rules)
        let n2 = try makeTestEngine(node: "n2", rules: rules)
        let n3 = try makeTestEngine(node: "n3", rules: rules)
        let link1 = Link(from: "n1")
        let link2 = Link(from: "n2")
        link1.peers.withLock { $0 = [n2, n3] }
        link2.peers.withLock { $0 = [n1, n3] }
        n1.replicas.withLock { $0 = link1 }
        n2.replicas.withLock { $0 = link2 }
        let pair = Pair(n1: n1, n2: n2, link1: link1, link2: link2)
        n1.onFenced.withLock { $0 = { [pair] by in pair.fencedBy.withLock { $0.append(by) } } }
        return pair
    }

    static func check(_ engine: LimiterEngine, _ key: String, standingInFor: [String] = []) async -> Result<CheckResult, APIProblem> {
        let check = LimiterEngine.ResolvedCheck(request: CheckRequest(key: key, rule: "EXACT", hits: 1), rule: exact,
                                                version: "v1", standingInFor: standingInFor)
        return await LimiterEngine.Outcome.await { engine.check([check], onCommit: $0) }.map { $0[0] }
    }

    static func state(_ engine: LimiterEngine, _ key: String) -> CounterState? {
        engine.state.withLock { $0.table.state(rule: "EXACT", key: key) }
    }

    @Test("an admitted hit is acknowledged after the replica committed its copy; the replica's counter equals the owner's")
    func copyBeforeAnswer() async throws {
        let pair = try Self.pair()
        for _ in 0..<3 { #expect(try await Self.check(pair.n1, "k").get().decision.allowed) }
        #expect(pair.link1.copies.withLock { $0 } == 3)
        #expect(Self.state(pair.n2, "k") == Self.state(pair.n1, "k"))
        let replicaLog = try #require(pair.n2.log)
        #expect(try replicaLog.events(key: "k").map(\.hits) == [1, 1, 1], "the replica's own log holds the copies")
    }

    @Test("after standing in for the owner, the replica refuses the owner's copies until the owner imports; no key passes its limit")
    func fenceUntilImport() async throws {
        let pair = try Self.pair()
        for _ in 0..<3 { _ = try await Self.check(pair.n1, "k").get() }
        // n1 is unreachable for an entry node: n2 decides in its stead, from the copies.
        for _ in 0..<2 { #expect(try await Self.check(pair.n2, "k", standingInFor: ["n1"]).get().decision.allowed) }
        #expect(try await Self.check(pair.n2, "k", standingInFor: ["n1"]).get().decision.allowed == false, "5 of 5 used")
        #expect(pair.n2.fencedOwners == ["n1"])

        // n1 wakes with its stale count (3) and admits a hit: its copy is refused, so the hit is not acknowledged.
        let stale = await Self.check(pair.n1, "k")
        #expect(throws: APIProblem.self) { try stale.get() }
        if case .failure(let problem) = stale { #expect(problem.code == "owner-fenced") }
        #expect(pair.fencedBy.withLock { $0 } == ["n2"], "n1 is told to import")

        // The import takes n2's counters and lifts the fence in one step.
        let imported = pair.n2.export(for: "n1", ring: HashRing(nodes: ["n1", "n2"]), places: 2,
                                      namespaceOf: { Self.rules[$0]?.namespaceID })
        #expect(pair.n2.fencedOwners.isEmpty)
        pair.n1.importStates([imported.states], rules: Self.rules)
        #expect(try await Self.check(pair.n1, "k").get().decision.allowed == false, "n1 now knows the limit is used up")
    }

    @Test("a copy of a decision made in the owner's stead fences the owner on the node that took it as well")
    func fenceTravelsWithTheCopy() async throws {
        let pair = try Self.pair()
        for _ in 0..<3 { _ = try await Self.check(pair.n1, "k").get() }
        // n2 stands in for n1 and copies to n3 (n1 is skipped): n3 fences n1 too.
        #expect(try await Self.check(pair.n2, "k", standingInFor: ["n1"]).get().decision.allowed)
        let n3 = try #require(pair.link2.peers.withLock { $0 }.first { $0.nodeID == "n3" })
        #expect(n3.fencedOwners == ["n1"])
        // n1 wakes believing n3 is its replica (n2 suspect in its view): the copy is refused there too.
        pair.link1.peers.withLock { $0 = [n3] }
        let stale = await Self.check(pair.n1, "k")
        if case .failure(let problem) = stale { #expect(problem.code == "owner-fenced") } else {
            Issue.record("expected owner-fenced, got \(stale)")
        }
    }

    @Test("an import keeps the most used state of each counter: a stale peer's never lowers a count")
    func importNeverLowersACount() async throws {
        let pair = try Self.pair()
        // n2's copy taken after 2 hits is stale once n1 has 4; n3 never saw the key.
        for _ in 0..<2 { _ = try await Self.check(pair.n1, "k").get() }
        let stale = pair.n2.export(for: "n1", ring: HashRing(nodes: ["n1", "n2"]), places: 2,
                                   namespaceOf: { Self.rules[$0]?.namespaceID }).states
        for _ in 0..<2 { _ = try await Self.check(pair.n1, "k").get() }
        let taken = pair.n1.importStates([stale, LimiterTable()], rules: Self.rules)
        #expect(taken.count == 0, "nothing taken: the import was staler")
        #expect(try await Self.check(pair.n1, "k").get().decision.remaining == 0, "4 + this 1 = the limit of 5")
        // The other way round: n3, which never saw the key, imports n1's state and takes it.
        let newer = pair.n1.export(for: "n3", ring: HashRing(nodes: ["n1", "n3"]), places: 2,
                                   namespaceOf: { Self.rules[$0]?.namespaceID }).states
        let n3 = try #require(pair.link2.peers.withLock { $0 }.first { $0.nodeID == "n3" })
        #expect(n3.importStates([newer], rules: Self.rules).count == 1)
        #expect(try await Self.check(n3, "k").get().decision.allowed == false, "n3 now knows the limit is used up")
    }

    @Test("states sent without events (a hand-off, a resync) never lower a count: a push older than the copies already taken leaves them; a newer one is taken, and so is a state of a rule the replica does not run")
    func statePushNeverLowersACount() async throws {
        let pair = try Self.pair()
        let n3 = try #require(pair.link2.peers.withLock { $0 }.first { $0.nodeID == "n3" })
        func push(_ states: LimiterTable, to engine: LimiterEngine) async throws {
            let applied: Result<Void, APIProblem> = await withCheckedContinuation { continuation in
                engine.applyCopy(from: "n1", events: [], states: states, ownsHere: { _, _ in false }, rules: Self.rules) {
                    continuation.resume(returning: $0)
                }
            }
            try applied.get()
        }
        // Given n1's state after 1 hit, kept aside as a hand-off that left late,
        _ = try await Self.check(pair.n1, "k").get()
        let older = pair.n1.export(for: "n2", ring: HashRing(nodes: ["n1", "n2"]), places: 2,
                                   namespaceOf: { Self.rules[$0]?.namespaceID }).states
        // and 3 more hits on n1, each copied to n2.
        for _ in 0..<3 { _ = try await Self.check(pair.n1, "k").get() }

        // A newer push is taken: n3 has never seen the key, and n1's state of 4 hits reaches it.
        try await push(pair.n1.export(for: "n3", ring: HashRing(nodes: ["n1", "n3"]), places: 2,
                                      namespaceOf: { Self.rules[$0]?.namespaceID }).states, to: n3)
        let fifth = try await Self.check(n3, "k").get().decision
        #expect(fifth.allowed && fifth.remaining == 0, "n3 counts n1's 4 hits: this one is the 5th of 5")

        // When the old push reaches n2 after the copies, n2 still counts all 4:
        // one more fits the limit of 5, the next does not.
        try await push(older, to: pair.n2)
        let onN2 = try await Self.check(pair.n2, "k").get().decision
        #expect(onN2.allowed && onN2.remaining == 0)
        #expect(try await Self.check(pair.n2, "k").get().decision.allowed == false)

        // A state of a rule n2 does not run has nothing to compare by: it is taken as it comes.
        var unknown = LimiterTable()
        _ = unknown.check(rule: rule("RETIRED", limit: 3, period: 60), key: "k", hits: 2, now: 0)
        try await push(unknown, to: pair.n2)
        let taken = pair.n2.state.withLock { $0.table.state(rule: "RETIRED", key: "k") }
        #expect(taken != nil && taken == unknown.state(rule: "RETIRED", key: "k"))
    }

    @Test("with no other node to hold a copy, an admitted hit is not acknowledged: on_unavailable (deny) answers it")
    func noReplicaNoAnswer() async throws {
        let pair = try Self.pair()
        pair.link1.peers.withLock { $0 = [] }
        let result = try await Self.check(pair.n1, "k").get()
        #expect(result.decision.allowed == false, "deny: the hit could not get its second copy")
        #expect(result.decision.retryAfterMs >= 1000)
    }

    @Test("a replica that owns the key under its own view refuses the copy of a node that decided it on a stale view")
    func ownerRefusesStaleDecider() async throws {
        let pair = try Self.pair()
        pair.link1.receiverOwns.withLock { $0 = ["k"] }
        let result = await Self.check(pair.n1, "k")
        if case .failure(let problem) = result { #expect(problem.code == "owner-fenced") } else {
            Issue.record("expected owner-fenced, got \(result)")
        }
        #expect(Self.state(pair.n2, "k") == nil, "the refused copy changed nothing on n2")
    }

    @Test("a node that left the ring is fenced: its next copy is refused")
    func leftTheRing() async throws {
        let pair = try Self.pair()
        pair.n2.fence(["n1"])
        let result = await Self.check(pair.n1, "k")
        if case .failure(let problem) = result { #expect(problem.code == "owner-fenced") } else {
            Issue.record("expected owner-fenced, got \(result)")
        }
    }

    @Test("fenced owners are capped at 4,096 names, so peers naming new ones cannot grow the set without bound; the first ones stay fenced")
    func fencedOwnersAreCapped() throws {
        let pair = try Self.pair()
        pair.n2.fence(["n1"])
        pair.n2.fence((0..<5_000).map { "bogus-\($0)" })
        #expect(pair.n2.fencedOwners.count == LimiterEngine.maxFenced)
        #expect(pair.n2.fencedOwners.contains("n1"))
    }

    @Test("an import is paged in counter order: the pages together are exactly the counters the requester holds a place for")
    func pagedExport() async throws {
        let pair = try Self.pair()
        for index in 0..<40 { _ = try await Self.check(pair.n1, "p\(index)").get() }
        let ring = HashRing(nodes: ["n1", "n2", "n3"])
        let namespaceOf: (String) -> String? = { Self.rules[$0]?.namespaceID }
        let whole = pair.n1.export(for: "n3", ring: ring, places: 2, namespaceOf: namespaceOf)
        #expect(whole.next == nil)
        #expect(whole.states.count > 7, "enough counters for several pages")
        var paged = LimiterTable()
        var after: CounterKey?
        var pages = 0
        var previous: CounterKey?
        repeat {
            let page = pair.n1.export(for: "n3", ring: ring, places: 2, namespaceOf: namespaceOf, after: after, limit: 3)
            #expect(page.states.count <= 3)
            // Counter order: every counter of a page comes after every counter of the pages before it.
            let keys = page.states.states.keys.sorted()
            if let previous, let first = keys.first { #expect(previous < first, "page \(pages) starts at \(first), not after \(previous)") }
            if let next = page.next { #expect(next == keys.last, "a page's cursor is its last counter") }
            previous = keys.last ?? previous
            paged.overwrite(with: page.states)
            after = page.next
            pages += 1
        } while after != nil && pages < 100
        #expect(paged == whole.states)
        #expect(pages >= whole.states.count / 3)
        // Exactly the counters n3 holds a place for: all of those, and nothing else.
        let holds = Set((0..<40).map { "p\($0)" }.filter { ring.replicas(namespace: "1002", key: $0, count: 2).contains("n3") })
        #expect(Set(whole.states.states.keys.map(\.key)) == holds)
    }
}
