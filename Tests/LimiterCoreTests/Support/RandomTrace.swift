import LimiterCore
import TestSupport

/// A seeded random workload for one counter: a rule with small numbers (so denials are
/// common) and checks at non-decreasing times with gaps from 0 ms to a few periods.
struct RandomTrace {
    struct Step {
        var at: Int64
        var hits: Int
    }

    var rule: Rule
    var steps: [Step]

    static func make(_ algorithm: Algorithm, seed: UInt64, length: Int = 150) -> RandomTrace {
        var rng = SplitMix64(seed: seed)
        let limit = Int.random(in: 1...9, using: &rng)
        let burst = Bool.random(using: &rng) ? limit : Int.random(in: 1...12, using: &rng)
        let rule = Rule(
            name: "R", limit: limit, periodSeconds: Int.random(in: 1...4, using: &rng),
            algorithm: algorithm, burst: burst
        )
        let period = rule.periodMs
        var now = Int64.random(in: 0...(3 * period), using: &rng) + 1_700_000_000_000
        var steps: [Step] = []
        for _ in 0..<length {
            switch UInt8.random(in: 0..<20, using: &rng) {
            case 0: now += Int64.random(in: period...(3 * period), using: &rng)
            case 1...6: break
            default: now += Int64.random(in: 1...(period / 3), using: &rng)
            }
            let hits: Int
            switch UInt8.random(in: 0..<10, using: &rng) {
            case 0: hits = 0
            case 1: hits = rule.capacity + Int.random(in: 1...3, using: &rng)
            case 2...5: hits = Int.random(in: 1...rule.capacity, using: &rng)
            default: hits = 1
            }
            steps.append(Step(at: now, hits: hits))
        }
        return RandomTrace(rule: rule, steps: steps)
    }
}

/// Seeds for the property tests: enough traces to hit every branch, few enough to stay fast.
let propertySeeds: [UInt64] = Array(1...120)
