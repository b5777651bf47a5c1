import LimiterCore
import TestSupport
import Testing

@Suite("replaying admitted events")
struct ReplayPropertyTests {
    @Test("reproduces the live state exactly, after every step of random traces", arguments: Algorithm.allCases)
    func replayEqualsLive(algorithm: Algorithm) {
        for seed in propertySeeds {
            let trace = RandomTrace.make(algorithm, seed: seed)
            var live: CounterState?
            var replayed: CounterState?
            for step in trace.steps {
                let decision = trace.rule.decide(&live, hits: step.hits, now: step.at)
                if decision.allowed {
                    trace.rule.record(&replayed, hits: step.hits, at: step.at)
                }
                guard replayed == live else {
                    Issue.record("seed \(seed): replay \(String(describing: replayed)) != live \(String(describing: live)) at t=\(step.at)")
                    break
                }
            }
        }
    }

    @Test("reproduces the live state when clocks of different nodes disagree", arguments: Algorithm.allCases)
    func replayUnderClockSkew(algorithm: Algorithm) {
        for seed in propertySeeds {
            var rng = SplitMix64(seed: seed &* 7919)
            var trace = RandomTrace.make(algorithm, seed: seed)
            for index in trace.steps.indices where Bool.random(using: &rng) {
                trace.steps[index].at -= Int64.random(in: 0...(2 * trace.rule.periodMs), using: &rng)
            }
            let (records, live) = trace.run()
            var replayed: CounterState?
            for event in records.admitted {
                trace.rule.record(&replayed, hits: event.hits, at: event.at)
            }
            #expect(replayed == live, "seed \(seed)")
        }
    }

    @Test("of one table rebuilds the same table", arguments: Algorithm.allCases)
    func tableReplay(algorithm: Algorithm) {
        var rng = SplitMix64(seed: 99)
        let rule = Rule(name: "R", limit: 5, periodSeconds: 2, algorithm: algorithm, burst: 7)
        var live = LimiterTable()
        var replayed = LimiterTable()
        var now: Int64 = 1_000_000
        for _ in 0..<2_000 {
            now += Int64.random(in: 0...300, using: &rng)
            let key = "k\(Int.random(in: 0..<20, using: &rng))"
            let hits = Int.random(in: 0...3, using: &rng)
            if live.check(rule: rule, key: key, hits: hits, now: now).allowed {
                replayed.apply(rule: rule, key: key, hits: hits, at: now)
            }
        }
        #expect(replayed == live)
    }
}
