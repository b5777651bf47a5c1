import LimiterCore
import TestSupport
import Testing

/// Compaction keeps the events inside the longest replay horizon so that a
/// rebuild from events alone (no readable snapshot) decides as the full
/// history would. These tests pin that claim down per algorithm.
@Suite("Rule.replayHorizonMs: the events a rebuild from the log alone needs")
struct ReplayHorizonTests {
    /// The decision for `hits` at `now` after recording `events` into a fresh counter.
    static func decide(_ rule: Rule, events: [(at: Int64, hits: Int)], hits: Int, now: Int64) -> Decision {
        var state: CounterState?
        for event in events { rule.record(&state, hits: event.hits, at: event.at) }
        return rule.decide(&state, hits: hits, now: now)
    }

    @Test("horizons: W for fixed_window and sliding_log, 2W for sliding_window, the refill time or W for the buckets")
    func values() {
        #expect(Rule(name: "F", limit: 5, periodSeconds: 60, algorithm: .fixedWindow).replayHorizonMs == 60_000)
        #expect(Rule(name: "L", limit: 5, periodSeconds: 86_400, algorithm: .slidingLog).replayHorizonMs == 86_400_000)
        #expect(Rule(name: "S", limit: 5, periodSeconds: 60, algorithm: .slidingWindow).replayHorizonMs == 120_000)
        // B * W / L = 30 * 1 s / 10 = 3 s, longer than W.
        #expect(Rule(name: "T", limit: 10, periodSeconds: 1, algorithm: .tokenBucket, burst: 30).replayHorizonMs == 3_000)
        // B * W / L = 5 * 3600 s / 60 = 300 s, shorter than W.
        #expect(Rule(name: "G", limit: 60, periodSeconds: 3_600, algorithm: .gcra, burst: 5).replayHorizonMs == 3_600_000)
        // Rounded up: 2 * 1000 / 3 = 666.7 ms, W = 1 s wins; 7 * 1000 / 3 = 2333.3 -> 2334 ms.
        #expect(Rule(name: "G", limit: 3, periodSeconds: 1, algorithm: .gcra, burst: 7).replayHorizonMs == 2_334)
        let rules = [Rule(name: "a", limit: 1, periodSeconds: 10, algorithm: .slidingWindow),
                     Rule(name: "b", limit: 1, periodSeconds: 15, algorithm: .fixedWindow)]
        #expect(rules.longestReplayHorizonMs == 20_000)
        #expect([Rule]().longestReplayHorizonMs == 0)
    }

    @Test("window algorithms: replaying only the events inside the horizon decides exactly as the whole history",
          arguments: [Algorithm.fixedWindow, .slidingWindow, .slidingLog])
    func windowAlgorithmsAreExact(algorithm: Algorithm) {
        for seed in propertySeeds {
            let trace = RandomTrace.make(algorithm, seed: seed)
            let events = trace.run().records.admitted
            guard let lastAt = events.last?.at else { continue }
            let rule = trace.rule
            var rng = SplitMix64(seed: seed)
            for _ in 0..<8 {
                let now = lastAt + Int64.random(in: 0...(3 * rule.periodMs), using: &rng)
                let kept = events.filter { $0.at >= now - rule.replayHorizonMs }
                for hits in 0...rule.capacity {
                    #expect(Self.decide(rule, events: kept, hits: hits, now: now)
                        == Self.decide(rule, events: events, hits: hits, now: now),
                        "seed \(seed), \(algorithm), now \(now), hits \(hits)")
                }
            }
        }
    }

    @Test("sliding_window needs two windows: a hit between 2W and W ago still lowers what is admitted")
    func slidingWindowNeedsTwoWindows() {
        let rule = Rule(name: "S", limit: 100, periodSeconds: 10, algorithm: .slidingWindow)
        // A full window's hits at 9.001 s, in the window [0, 10 s); checked at 19.002 s, 10.001 s
        // later, when the previous window still weighs (10 - 9.002) / 10: floor(100 * 0.0998) = 9.
        let events = [(at: Int64(9_001), hits: 100)]
        let now: Int64 = 19_002
        #expect(now - events[0].at > rule.periodMs)
        #expect(now - events[0].at <= rule.replayHorizonMs)
        let withHistory = Self.decide(rule, events: events, hits: 92, now: now)
        let withoutIt = Self.decide(rule, events: [], hits: 92, now: now)
        #expect(!withHistory.allowed)
        #expect(withoutIt.allowed)
    }

    @Test("buckets: replaying only the horizon errs towards admitting, by at most one burst",
          arguments: [Algorithm.tokenBucket, .gcra])
    func bucketsErrTowardsAdmitting(algorithm: Algorithm) {
        var exactOnes = 0
        for seed in propertySeeds {
            let trace = RandomTrace.make(algorithm, seed: seed)
            let events = trace.run().records.admitted
            guard let lastAt = events.last?.at else { continue }
            let rule = trace.rule
            let now = lastAt + 1
            let kept = events.filter { $0.at >= now - rule.replayHorizonMs }
            let partial = Self.decide(rule, events: kept, hits: 0, now: now)
            let full = Self.decide(rule, events: events, hits: 0, now: now)
            #expect(partial.remaining >= full.remaining, "seed \(seed)")
            #expect(partial.remaining - full.remaining <= rule.burst, "seed \(seed)")
            if partial == full { exactOnes += 1 }
        }
        // Most traces leave the bucket full at some point inside the horizon.
        #expect(exactOnes > propertySeeds.count / 2)
    }
}
