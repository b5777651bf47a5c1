import Foundation
import LimiterCore
import Testing

@Suite("Rule")
struct RuleTests {
    @Test("burst defaults to the limit and the period converts to ms")
    func defaults() {
        let rule = Rule(name: "API", namespaceID: "1001", limit: 100, periodSeconds: 60, algorithm: .slidingWindow)
        #expect(rule.burst == 100)
        #expect(rule.periodMs == 60_000)
        #expect(rule.capacity == 100)
        #expect(Rule(name: "b", limit: 10, periodSeconds: 1, algorithm: .tokenBucket, burst: 25).capacity == 25)
    }

    @Test("validation names the rule and the field", arguments: [
        (0, 60, nil as Int?, RuleError.Code.invalidLimit, "limit"),
        (-5, 60, nil, .invalidLimit, "limit"),
        (10, 0, nil, .invalidPeriod, "period"),
        (10, 4_000_000_000, nil, .invalidPeriod, "period"),
        (10, 60, 0, .invalidBurst, "burst"),
        (3_000_000_000, 60, 1, .invalidLimit, "limit"),
    ])
    func validation(limit: Int, period: Int, burst: Int?, code: RuleError.Code, field: String) throws {
        let error = try #require(throws: RuleError.self) {
            try Rule.validated(name: "API", limit: limit, periodSeconds: period, algorithm: .gcra, burst: burst)
        }
        #expect(error.code == code)
        #expect(error.message.contains("rule \"API\": \(field)"))
        #expect(throws: RuleError(code: .emptyName, message: "rule name must not be empty")) {
            try Rule.validated(name: "", limit: 1, periodSeconds: 1, algorithm: .gcra)
        }
    }

    @Test("encodes with the configuration's names and decodes a missing burst as the limit")
    func codable() throws {
        let rule = Rule(name: "API", namespaceID: "1001", limit: 7, periodSeconds: 30, algorithm: .tokenBucket, burst: 9)
        let data = try JSONEncoder().encode(rule)
        #expect(try JSONDecoder().decode(Rule.self, from: data) == rule)
        let text = #"{"name":"x","limit":4,"period_seconds":2,"algorithm":"sliding_log"}"#
        let decoded = try JSONDecoder().decode(Rule.self, from: Data(text.utf8))
        #expect(decoded == Rule(name: "x", limit: 4, periodSeconds: 2, algorithm: .slidingLog))
        #expect(decoded.burst == 4)
    }

    @Test("algorithm raw values are the configuration spellings")
    func algorithmNames() {
        #expect(Algorithm.allCases.map(\.rawValue) == ["fixed_window", "sliding_window", "sliding_log", "token_bucket", "gcra"])
    }

    @Test("out-of-range hand-built rules and extreme inputs never trap", arguments: Algorithm.allCases)
    func extremes(algorithm: Algorithm) {
        let rules = [
            Rule(name: "zero", limit: 0, periodSeconds: 0, algorithm: algorithm, burst: -3),
            Rule(name: "huge", limit: .max, periodSeconds: .max, algorithm: algorithm, burst: .max),
        ]
        for rule in rules {
            var state: CounterState?
            for now in [Int64.min, -1, 0, 1_700_000_000_000, Int64.max] {
                for hits in [Int.min, -1, 0, 1, Int(Int32.max), Int.max] {
                    _ = rule.decide(&state, hits: hits, now: now)
                    rule.record(&state, hits: hits, at: now)
                }
            }
            _ = rule.isFullyAvailable(state, now: 0)
        }
    }
}

@Suite("hand-built states")
struct HandBuiltStateTests {
    @Test("a sliding log built from unordered entries is sorted and merged per millisecond")
    func logNormalizes() {
        let log = SlidingLogState(entries: [.init(at: 5, hits: 1), .init(at: 1, hits: 1), .init(at: 5, hits: 2), .init(at: 3, hits: 0)])
        #expect(Array(log.entries) == [.init(at: 1, hits: 1), .init(at: 5, hits: 3)])
        #expect(log.total == 4)
    }

    @Test("extreme hand-built states are clamped so every algorithm decides without trapping")
    func extremeStates() {
        let states: [CounterState] = [
            .fixedWindow(FixedWindowState(windowStart: .max, count: .max)),
            .fixedWindow(FixedWindowState(windowStart: .min, count: -1)),
            .slidingWindow(SlidingWindowState(windowStart: .max, current: .max, previous: .max)),
            .slidingLog(SlidingLogState(entries: [.init(at: .min, hits: .max), .init(at: .max, hits: .max)])),
            .tokenBucket(TokenBucketState(tokensScaled: .min, scale: 0, updatedAt: .max)),
            .tokenBucket(TokenBucketState(tokensScaled: .max, scale: .max, updatedAt: .min)),
            .gcra(GCRAState(tatScaled: .max, scale: 0)),
            .gcra(GCRAState(tatScaled: .min, scale: .max)),
        ]
        for state in states {
            let rules = [
                Rule(name: "r", limit: 5, periodSeconds: 7, algorithm: state.algorithm, burst: 9),
                Rule(name: "r", limit: Int(Int32.max), periodSeconds: 3_153_600_000, algorithm: state.algorithm, burst: 1),
                Rule(name: "r", limit: 1, periodSeconds: 3_153_600_000, algorithm: state.algorithm, burst: Int(Int32.max)),
            ]
            for rule in rules {
                for now in [Int64.min, 0, Int64.max] {
                    for hits in [0, 1, Int(Int32.max)] {
                        var copy: CounterState? = state
                        _ = rule.decide(&copy, hits: hits, now: now)
                        rule.record(&copy, hits: hits, at: now)
                        _ = rule.decide(&copy, hits: hits, now: now)
                        _ = rule.isFullyAvailable(copy, now: now)
                    }
                }
            }
        }
    }
}
