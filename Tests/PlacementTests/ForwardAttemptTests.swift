import Testing

@testable import Placement

@Suite("ForwardAttempt: the sender's retry policy")
struct ForwardAttemptTests {
    static func view(_ selfID: String, _ nodes: [String]) -> PlacementView {
        PlacementView(selfID: selfID, aliveNodes: nodes, settled: true)
    }

    /// The first key `k0`, `k1`, ... whose owners on the given views are `owners`, in order.
    static func key(owners: [String?], on views: [PlacementView]) -> String {
        let key = (0..<100_000).lazy.map { "k\($0)" }.first { key in
            views.map { $0.ring.owner(namespace: "ns", key: key) } == owners
        }
        return key!
    }

    /// What `view` answers when the check for `key` reaches it; it must refuse.
    static func refusal(of key: String, by view: PlacementView) -> (hint: String?, epoch: UInt64) {
        guard case .notMine(let hint, let epoch) = view.accept(namespace: "ns", key: key, senderEpoch: 0) else {
            preconditionFailure("\(view) accepted \(key)")
        }
        return (hint, epoch)
    }

    // Owners follow one order per key: a node's first ring point after the key's hash. So a
    // refusal always hints a node earlier in that order than the refuser, and hints can only
    // lead back to a tried node (or the sender) through a node that is off its own ring:
    // one that is leaving. The scenarios below are built to be possible.

    @Test("a refusal with a new owner hint is retried at the hint")
    func retriesAtHint() {
        // n1 still sees n2 as owner; n2 already sees n4 joined, which owns the key there.
        let sender = Self.view("n1", ["n1", "n2", "n3"])
        let responder = Self.view("n2", ["n1", "n2", "n3", "n4"])
        let key = Self.key(owners: ["n2", "n4"], on: [sender, responder])
        var attempt = ForwardAttempt(namespace: "ns", key: key, to: "n2")
        let (hint, epoch) = Self.refusal(of: key, by: responder)
        #expect(hint == "n4" && epoch == responder.epoch)

        #expect(attempt.onNotMine(from: "n2", owner: hint, epoch: epoch, view: sender) == .retry(to: "n4"))
        #expect(attempt.targets == ["n2", "n4"])
        #expect(attempt.state == .awaiting(target: "n4"))
    }

    @Test("the sender decides locally only when its own current view says it owns the key")
    func decidesLocallyWhenItOwns() {
        // n1 forwarded to n2; n2 refused (it sees n4, the owner there); by the time the
        // refusal arrives n1 has declared n2 dead and the key is n1's.
        let old = Self.view("n1", ["n1", "n2", "n3"])
        let now = Self.view("n1", ["n1", "n3"])
        let responder = Self.view("n2", ["n1", "n2", "n3", "n4"])
        let key = Self.key(owners: ["n2", "n1", "n4"], on: [old, now, responder])
        let (hint, epoch) = Self.refusal(of: key, by: responder)

        var attempt = ForwardAttempt(namespace: "ns", key: key, to: "n2")
        #expect(attempt.onNotMine(from: "n2", owner: hint, epoch: epoch, view: now) == .decideLocally)
        #expect(attempt.state == .finished(.decideLocally))

        // With its old view, which gives the key to n2, it follows the hint instead.
        var again = ForwardAttempt(namespace: "ns", key: key, to: "n2")
        #expect(again.onNotMine(from: "n2", owner: hint, epoch: epoch, view: old) == .retry(to: "n4"))
    }

    @Test("a hint that was already tried fails, naming both nodes and both epochs, while the views disagree")
    func triedHintFails() {
        // n1 sees {n1, n2} and sends to n2. n2 is leaving (off its own ring) and hints n3.
        // n3 sees all three and hints n2 back, which n1 already tried.
        let sender = Self.view("n1", ["n1", "n2"])
        let leaving = Self.view("n2", ["n1", "n3"])
        let third = Self.view("n3", ["n1", "n2", "n3"])
        let key = Self.key(owners: ["n2", "n3", "n2"], on: [sender, leaving, third])
        var attempt = ForwardAttempt(namespace: "ns", key: key, to: "n2")
        let first = Self.refusal(of: key, by: leaving)
        #expect(attempt.onNotMine(from: "n2", owner: first.hint, epoch: first.epoch, view: sender) == .retry(to: "n3"))
        let second = Self.refusal(of: key, by: third)
        #expect(second.hint == "n2")
        let decision = attempt.onNotMine(from: "n3", owner: second.hint, epoch: second.epoch, view: sender)
        guard case .fail(let reason) = decision else {
            Issue.record("expected a failure, got \(decision)")
            return
        }
        #expect(reason.contains("placement not agreed for ns/\(key)"))
        #expect(reason.contains("n1 at epoch \(PlacementView.format(epoch: sender.epoch))"))
        #expect(reason.contains("n3 at epoch \(PlacementView.format(epoch: third.epoch))"))
        #expect(attempt.state == .finished(decision))
    }

    @Test("a hint that was already tried is retried once the sender's view has the refuser's epoch")
    func triedHintRetriedWhenViewsAgree() {
        // n2 refused while it saw n4, which owns the key there, and hinted n4. n4 has since
        // started leaving, so its view is n1's own, and it hints n2 back: the views agree, so
        // n2, though tried, is the owner in both and worth one more hop.
        let sender = Self.view("n1", ["n1", "n2", "n3"])
        let second = Self.view("n2", ["n1", "n2", "n3", "n4"])
        let leaving = Self.view("n4", ["n1", "n2", "n3"])
        let key = Self.key(owners: ["n2", "n4", "n2"], on: [sender, second, leaving])
        var attempt = ForwardAttempt(namespace: "ns", key: key, to: "n2")
        let first = Self.refusal(of: key, by: second)
        #expect(attempt.onNotMine(from: "n2", owner: first.hint, epoch: first.epoch, view: sender) == .retry(to: "n4"))
        let back = Self.refusal(of: key, by: leaving)
        #expect(back.epoch == sender.epoch)
        #expect(attempt.onNotMine(from: "n4", owner: back.hint, epoch: back.epoch, view: sender) == .retry(to: "n2"))
        #expect(attempt.targets == ["n2", "n4", "n2"])
    }

    @Test("a refusal without a hint (an unsettled responder) fails")
    func noHintFails() {
        let sender = Self.view("n1", ["n1", "n2", "n3"])
        let key = Self.key(owners: ["n2"], on: [sender])
        let (hint, epoch) = Self.refusal(of: key, by: PlacementView.unsettled(selfID: "n2"))
        #expect(hint == nil)
        var attempt = ForwardAttempt(namespace: "ns", key: key, to: "n2")
        let decision = attempt.onNotMine(from: "n2", owner: hint, epoch: epoch, view: sender)
        guard case .fail(let reason) = decision else {
            Issue.record("expected a failure, got \(decision)")
            return
        }
        #expect(reason.contains("owner hint none"))
    }

    @Test("a hint naming the sender, which does not own the key in its own view, fails")
    func hintAtSenderFails() {
        // n2 is leaving and hands the key to n1, but n1 still sees n2 as its owner.
        let sender = Self.view("n1", ["n1", "n2", "n3"])
        let leaving = Self.view("n2", ["n1", "n3"])
        let key = Self.key(owners: ["n2", "n1"], on: [sender, leaving])
        let (hint, epoch) = Self.refusal(of: key, by: leaving)
        var attempt = ForwardAttempt(namespace: "ns", key: key, to: "n2")
        let decision = attempt.onNotMine(from: "n2", owner: hint, epoch: epoch, view: sender)
        guard case .fail = decision else {
            Issue.record("expected a failure, got \(decision)")
            return
        }
    }

    @Test("retries are bounded: never more than maxHops forwards, however many new hints come back", arguments: [1, 2, 3, 5])
    func boundedHops(maxHops: Int) {
        let sender = Self.view("n0", ["n0", "n1"])
        let key = Self.key(owners: ["n1"], on: [sender])
        var attempt = ForwardAttempt(namespace: "ns", key: key, to: "n1", maxHops: maxHops)
        var forwards = 1
        var hop = 1
        while case .awaiting(let target) = attempt.state {
            hop += 1
            let decision = attempt.onNotMine(from: target, owner: "m\(hop)", epoch: UInt64(hop), view: sender)
            if case .retry = decision { forwards += 1 }
            #expect(forwards <= maxHops, "\(attempt)")
        }
        #expect(forwards == maxHops)
        #expect(attempt.hops == maxHops)
        guard case .finished(.fail(let reason)) = attempt.state else {
            Issue.record("expected the attempt to fail, got \(attempt.state)")
            return
        }
        #expect(reason.contains("after \(maxHops) hops"))
    }

    @Test("the default bound is 3 forwards")
    func defaultBound() {
        #expect(ForwardAttempt(namespace: "ns", key: "k", to: "n2").maxHops == 3)
    }

    @Test("a reply after the attempt finished fails loudly")
    func replyAfterFinishTraps() async {
        await #expect(processExitsWith: .failure) {
            let sender = PlacementView(selfID: "n1", aliveNodes: ["n1"], settled: true)
            var attempt = ForwardAttempt(namespace: "ns", key: "k", to: "n2")
            _ = attempt.onNotMine(from: "n2", owner: nil, epoch: 1, view: sender)
            _ = attempt.onNotMine(from: "n2", owner: nil, epoch: 1, view: sender)
        }
    }

    @Test("a reply from a node the check is not waiting on fails loudly")
    func replyFromWrongNodeTraps() async {
        await #expect(processExitsWith: .failure) {
            let sender = PlacementView(selfID: "n1", aliveNodes: ["n1", "n2", "n3"], settled: true)
            var attempt = ForwardAttempt(namespace: "ns", key: "k", to: "n2")
            _ = attempt.onNotMine(from: "n3", owner: nil, epoch: 1, view: sender)
        }
    }
}
