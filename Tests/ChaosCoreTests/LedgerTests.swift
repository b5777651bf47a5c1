import ChaosCore
import JSONCore
import LimiterCore
import Testing

@Suite("Ledger: what the clients were told")
struct LedgerTests {
    typealias Attempt = ClientOperation.Attempt

    static func answered(_ allowed: Bool, on node: String = "n1", at ms: Int64, live: Bool = true) -> Attempt {
        Attempt(node: node, sentMs: ms, receivedMs: ms + 2, nodeWasLive: live, result: .answered(allowed: allowed))
    }

    static func failed(on node: String = "n1", at ms: Int64, live: Bool, reason: String = "HTTP 503") -> Attempt {
        Attempt(node: node, sentMs: ms, receivedMs: ms + 2, nodeWasLive: live, result: .failed(reason: reason))
    }

    @Test("only acknowledged allowed: true answers become admitted hits, with their [sent, received]")
    func admittedOnlyWhenAllowed() {
        var ledger = Ledger()
        ledger.record(ClientOperation(key: "k", rule: "R", attempts: [Self.answered(true, at: 100)]))
        ledger.record(ClientOperation(key: "k", rule: "R", attempts: [Self.answered(false, at: 200)]))
        ledger.record(ClientOperation(key: "k", rule: "R", attempts: [Self.failed(at: 300, live: true)]))
        #expect(ledger.keys["k"]?.admitted == [AdmittedHit(sentMs: 100, receivedMs: 102)])
        #expect(ledger.keys["k"]?.denied == 1)
        #expect((ledger.operations, ledger.allowed, ledger.denied) == (3, 1, 1))
    }

    @Test("a failure retried and answered on another node is no client error; two failures are one")
    func retriesAndClientErrors() {
        var ledger = Ledger()
        // Asked a killed node, then a live one that answered.
        ledger.record(ClientOperation(key: "k", rule: "R", attempts: [
            Self.failed(on: "n2", at: 100, live: false, reason: "connection refused"), Self.answered(true, on: "n1", at: 101),
        ]))
        // Asked a live node that could not decide, then another that could not either.
        ledger.record(ClientOperation(key: "k", rule: "R", attempts: [
            Self.failed(on: "n1", at: 200, live: true), Self.failed(on: "n3", at: 201, live: true),
        ]))
        #expect(ledger.operations == 2)
        #expect(ledger.answeredOnRetry == 1)
        #expect(ledger.clientErrors == 1)
        #expect(ledger.failedAgainstDownNode == 1)
        #expect(ledger.failedAgainstLiveNode == 2)
        #expect(ledger.failureReasons == ["connection refused": 1, "HTTP 503": 2])
        #expect(ledger.allowed == 1)
    }

    @Test("longest unanswerable: from a failed attempt on a live node to the key's next answer")
    func longestUnanswerable() throws {
        var ledger = Ledger()
        ledger.record(ClientOperation(key: "a", rule: "R", attempts: [Self.answered(false, at: 1_000)]))
        ledger.record(ClientOperation(key: "a", rule: "R", attempts: [Self.failed(at: 2_000, live: true)]))
        ledger.record(ClientOperation(key: "a", rule: "R", attempts: [Self.failed(at: 2_500, live: true)]))
        ledger.record(ClientOperation(key: "a", rule: "R", attempts: [Self.answered(false, at: 4_998)]))
        // A failure on a down node does not make the key unanswerable.
        ledger.record(ClientOperation(key: "b", rule: "R", attempts: [Self.failed(at: 1_000, live: false)]))
        ledger.record(ClientOperation(key: "b", rule: "R", attempts: [Self.answered(true, at: 9_000)]))
        let span = try #require(ledger.longestUnanswerable(endMs: 10_000))
        #expect((span.key, span.fromMs, span.toMs, span.answered) == ("a", 2_000, 5_000, true))
        #expect(span.durationMs == 3_000)
    }

    @Test("a key never answered after its failure is unanswerable until the load stopped")
    func unansweredUntilTheEnd() throws {
        var ledger = Ledger()
        ledger.record(ClientOperation(key: "a", rule: "R", attempts: [Self.answered(true, at: 1_000)]))
        ledger.record(ClientOperation(key: "a", rule: "R", attempts: [Self.failed(at: 6_000, live: true)]))
        let span = try #require(ledger.longestUnanswerable(endMs: 10_000))
        #expect((span.key, span.fromMs, span.toMs, span.answered) == ("a", 6_000, 10_000, false))
        #expect(Ledger().longestUnanswerable(endMs: 10_000) == nil)
    }
}
