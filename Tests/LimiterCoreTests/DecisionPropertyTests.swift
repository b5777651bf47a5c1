import LimiterCore
import Testing

@Suite("decisions over random traces")
struct DecisionPropertyTests {
    @Test("a denial, a read, or a request above capacity never changes the state", arguments: Algorithm.allCases)
    func denialsAndReadsAreSideEffectFree(algorithm: Algorithm) {
        for seed in propertySeeds {
            let trace = RandomTrace.make(algorithm, seed: seed)
            for record in trace.run().records where !record.decision.allowed || record.hits == 0 {
                #expect(record.after == record.before, "seed \(seed) t=\(record.at) hits=\(record.hits)")
            }
        }
    }

    @Test("a request above capacity is always denied, with a retry hint of at least one period", arguments: Algorithm.allCases)
    func aboveCapacityDenied(algorithm: Algorithm) {
        for seed in propertySeeds {
            let trace = RandomTrace.make(algorithm, seed: seed)
            for record in trace.run().records where record.hits > trace.rule.capacity {
                #expect(!record.decision.allowed)
                #expect(record.decision.retryAfterMs >= trace.rule.periodMs)
                #expect(record.decision.retryAfterMs >= record.decision.resetMs)
            }
        }
    }

    @Test("a read (hits = 0) is allowed and reports what a later check sees", arguments: Algorithm.allCases)
    func readsReportRemaining(algorithm: Algorithm) {
        for seed in propertySeeds {
            let trace = RandomTrace.make(algorithm, seed: seed)
            for record in trace.run().records {
                var copy = record.before
                let read = trace.rule.decide(&copy, hits: 0, now: record.at)
                #expect(read.allowed && read.retryAfterMs == 0)
                // Every remaining hit fits now, one more does not (when within capacity).
                if read.remaining > 0 {
                    var probe = record.before
                    #expect(trace.rule.decide(&probe, hits: read.remaining, now: record.at).allowed, "seed \(seed)")
                }
                if read.remaining < trace.rule.capacity {
                    var probe = record.before
                    #expect(!trace.rule.decide(&probe, hits: read.remaining + 1, now: record.at).allowed, "seed \(seed)")
                }
            }
        }
    }

    @Test("retry_after is the exact least wait: denied one ms earlier, admitted then", arguments: Algorithm.allCases)
    func retryAfterIsExact(algorithm: Algorithm) {
        var denials = 0
        for seed in propertySeeds {
            let trace = RandomTrace.make(algorithm, seed: seed)
            for record in trace.run().records where !record.decision.allowed && record.hits <= trace.rule.capacity {
                denials += 1
                let retry = record.decision.retryAfterMs
                #expect(retry > 0, "seed \(seed) t=\(record.at)")
                var atRetry = record.before
                #expect(trace.rule.decide(&atRetry, hits: record.hits, now: record.at + retry).allowed,
                        "seed \(seed) t=\(record.at) hits=\(record.hits) retry=\(retry)")
                var justBefore = record.before
                #expect(!trace.rule.decide(&justBefore, hits: record.hits, now: record.at + retry - 1).allowed,
                        "seed \(seed) t=\(record.at) hits=\(record.hits) retry=\(retry)")
            }
        }
        #expect(denials > 100, "the traces must exercise denials")
    }

    @Test("reset_ms is the exact time until the full capacity is back", arguments: Algorithm.allCases)
    func resetIsExact(algorithm: Algorithm) {
        for seed in propertySeeds {
            let trace = RandomTrace.make(algorithm, seed: seed)
            let rule = trace.rule
            for record in trace.run().records {
                let reset = record.decision.resetMs
                #expect(reset >= 0)
                var atReset = record.after
                #expect(rule.decide(&atReset, hits: 0, now: record.at + reset).remaining == rule.capacity,
                        "seed \(seed) t=\(record.at) reset=\(reset)")
                #expect(rule.isFullyAvailable(record.after, now: record.at + reset))
                if reset > 0 {
                    var justBefore = record.after
                    #expect(rule.decide(&justBefore, hits: 0, now: record.at + reset - 1).remaining < rule.capacity,
                            "seed \(seed) t=\(record.at) reset=\(reset)")
                    #expect(!rule.isFullyAvailable(record.after, now: record.at + reset - 1))
                }
            }
        }
    }

    @Test("remaining never exceeds capacity and an admission leaves what the next read reports", arguments: Algorithm.allCases)
    func remainingIsConsistent(algorithm: Algorithm) {
        for seed in propertySeeds {
            let trace = RandomTrace.make(algorithm, seed: seed)
            for record in trace.run().records {
                #expect((0...trace.rule.capacity).contains(record.decision.remaining))
                var copy = record.after
                #expect(trace.rule.decide(&copy, hits: 0, now: record.at).remaining == record.decision.remaining)
            }
        }
    }
}
