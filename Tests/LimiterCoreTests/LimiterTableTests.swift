import LimiterCore
import Testing

@Suite("LimiterTable")
struct LimiterTableTests {
    let api = Rule(name: "API", limit: 2, periodSeconds: 10, algorithm: .fixedWindow)
    let login = Rule(name: "login", limit: 1, periodSeconds: 60, algorithm: .gcra)

    @Test("stores a counter only once hits are admitted")
    func storesOnlyLimitedKeys() {
        var table = LimiterTable()
        #expect(table.check(rule: api, key: "u1", hits: 0, now: 0).remaining == 2)
        #expect(table.check(rule: api, key: "u1", hits: 3, now: 0).allowed == false)
        #expect(table.count == 0)
        #expect(table.check(rule: api, key: "u1", hits: 1, now: 0).remaining == 1)
        #expect(table.count == 1)
        #expect(table.state(rule: "API", key: "u1") == .fixedWindow(FixedWindowState(windowStart: 0, count: 1)))
    }

    @Test("keeps separate counters per rule and per key")
    func separateCounters() {
        var table = LimiterTable()
        #expect(table.check(rule: api, key: "u1", hits: 2, now: 0).allowed)
        #expect(table.check(rule: api, key: "u2", hits: 2, now: 0).allowed)
        #expect(table.check(rule: login, key: "u1", hits: 1, now: 0).allowed)
        #expect(!table.check(rule: api, key: "u1", hits: 1, now: 0).allowed)
        #expect(table.count == 3)
    }

    @Test("apply records without checking, and later checks see the overdraft")
    func applyForces() {
        var table = LimiterTable()
        table.apply(rule: api, key: "u1", hits: 5, at: 1_000)
        let decision = table.check(rule: api, key: "u1", hits: 0, now: 1_000)
        #expect(decision.remaining == 0)
        #expect(!table.check(rule: api, key: "u1", hits: 1, now: 9_999).allowed)
        #expect(table.check(rule: api, key: "u1", hits: 1, now: 10_000).allowed)
        table.apply(rule: api, key: "u2", hits: 0, at: 1_000)
        #expect(table.state(rule: "API", key: "u2") == nil)
    }

    @Test("prune drops counters back at full capacity and keeps the limited ones")
    func prune() {
        var table = LimiterTable()
        _ = table.check(rule: api, key: "old", hits: 1, now: 0)
        _ = table.check(rule: api, key: "fresh", hits: 1, now: 15_000)
        _ = table.check(rule: login, key: "u1", hits: 1, now: 0)
        let rules = ["API": api, "login": login]
        #expect(table.prune(now: 15_000, rules: rules) == 1)
        #expect(table.state(rule: "API", key: "old") == nil)
        #expect(table.count == 2)
        #expect(table.prune(now: 59_999, rules: rules) == 1)
        #expect(table.state(rule: "login", key: "u1") != nil)
        #expect(table.prune(now: 60_000, rules: rules) == 1)
        #expect(table.count == 0)
    }

    @Test("prune keeps counters of rules it was not given, and drops ones of a replaced algorithm")
    func pruneUnknownAndChangedRules() {
        var table = LimiterTable()
        _ = table.check(rule: api, key: "u1", hits: 1, now: 0)
        _ = table.check(rule: login, key: "u1", hits: 1, now: 0)
        var apiAsBucket = api
        apiAsBucket.algorithm = .tokenBucket
        #expect(table.prune(now: 1, rules: ["API": apiAsBucket]) == 1)
        #expect(table.state(rule: "login", key: "u1") != nil)
    }

    @Test("a rule whose algorithm changed starts fresh, and the old state survives reads and denials")
    func algorithmChange() {
        var table = LimiterTable()
        _ = table.check(rule: api, key: "u1", hits: 2, now: 0)
        var v2 = api
        v2.algorithm = .gcra
        #expect(table.check(rule: v2, key: "u1", hits: 0, now: 0).remaining == 2)
        #expect(table.check(rule: v2, key: "u1", hits: 3, now: 0).allowed == false)
        #expect(table.state(rule: "API", key: "u1")?.algorithm == .fixedWindow)
        #expect(table.check(rule: v2, key: "u1", hits: 1, now: 0) == .allowed(1, limit: 2, reset: 5_000))
        #expect(table.state(rule: "API", key: "u1")?.algorithm == .gcra)
    }
}
