import LimiterCore
import Testing

/// Properties of the admitted hits alone: what each algorithm promises an operator.
@Suite("admission bounds over random traces")
struct AdmissionBoundTests {
    @Test("sliding_log never admits more than L in any interval of length W")
    func slidingLogBound() {
        for seed in propertySeeds {
            let trace = RandomTrace.make(.slidingLog, seed: seed, length: 300)
            let events = trace.run().records.admitted
            let w = trace.rule.periodMs
            // The busiest half-open interval (a - W, a] ends at an admitted event.
            var start = 0
            var inWindow = 0
            for (index, event) in events.enumerated() {
                inWindow += event.hits
                while events[start].at <= event.at - w {
                    inWindow -= events[start].hits
                    start += 1
                }
                #expect(inWindow <= trace.rule.limit, "seed \(seed) at \(event.at), index \(index)")
            }
        }
    }

    @Test("fixed_window and sliding_window never admit more than L in one aligned window",
          arguments: [Algorithm.fixedWindow, .slidingWindow])
    func alignedWindowBound(algorithm: Algorithm) {
        for seed in propertySeeds {
            let trace = RandomTrace.make(algorithm, seed: seed, length: 300)
            let w = trace.rule.periodMs
            let perWindow = Dictionary(grouping: trace.run().records.admitted) { $0.at / w }
                .mapValues { $0.reduce(0) { $0 + $1.hits } }
            for (window, admitted) in perWindow {
                #expect(admitted <= trace.rule.limit, "seed \(seed) window \(window)")
            }
        }
    }

    @Test("token_bucket and gcra never admit more than burst + rate * elapsed",
          arguments: [Algorithm.tokenBucket, .gcra])
    func rateBound(algorithm: Algorithm) {
        for seed in propertySeeds {
            let trace = RandomTrace.make(algorithm, seed: seed, length: 200)
            let rule = trace.rule
            let events = trace.run().records.admitted
            // Over every closed interval [a, b] between admitted events, in exact integers:
            // hits * W <= B * W + L * (b - a).
            var violations: [String] = []
            for first in events.indices {
                var hits = 0
                for last in first..<events.count {
                    hits += events[last].hits
                    let elapsed = events[last].at - events[first].at
                    let bound = Int64(rule.burst) * rule.periodMs + Int64(rule.limit) * elapsed
                    if Int64(hits) * rule.periodMs > bound {
                        violations.append("[\(events[first].at), \(events[last].at)]: \(hits) hits")
                    }
                }
            }
            #expect(violations.isEmpty, "seed \(seed): \(violations.prefix(3))")
        }
    }

    @Test("the window algorithms decide exactly as a naive model over the whole admitted history",
          arguments: [Algorithm.fixedWindow, .slidingWindow, .slidingLog])
    func matchesNaiveModel(algorithm: Algorithm) {
        for seed in propertySeeds {
            let trace = RandomTrace.make(algorithm, seed: seed)
            let rule = trace.rule
            var history: [(at: Int64, hits: Int)] = []
            var state: CounterState?
            for step in trace.steps {
                let decision = rule.decide(&state, hits: step.hits, now: step.at)
                let used = NaiveModel.used(algorithm, history: history, at: step.at, period: rule.periodMs)
                let expected = step.hits <= rule.limit && used + step.hits <= rule.limit
                #expect(decision.allowed == expected, "seed \(seed) t=\(step.at)")
                if decision.allowed && step.hits > 0 { history.append((step.at, step.hits)) }
                let usedAfter = NaiveModel.used(algorithm, history: history, at: step.at, period: rule.periodMs)
                #expect(decision.remaining == max(0, rule.limit - usedAfter), "seed \(seed) t=\(step.at)")
            }
        }
    }
}

/// The definitions of DESIGN.md §4, computed from scratch from every admitted hit.
enum NaiveModel {
    static func used(_ algorithm: Algorithm, history: [(at: Int64, hits: Int)], at t: Int64, period w: Int64) -> Int {
        let start = t / w * w
        func sum(_ range: Range<Int64>) -> Int {
            history.filter { range.contains($0.at) }.reduce(0) { $0 + $1.hits }
        }
        switch algorithm {
        case .fixedWindow:
            return sum(start..<(start + w))
        case .slidingLog:
            return sum((t - w + 1)..<(t + 1))
        case .slidingWindow:
            let previous = sum((start - w)..<start)
            let current = sum(start..<(start + w))
            return previous * Int(w - (t - start)) / Int(w) + current
        case .tokenBucket, .gcra:
            fatalError("not a window algorithm")
        }
    }
}
