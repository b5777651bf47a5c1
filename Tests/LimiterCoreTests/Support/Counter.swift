import LimiterCore

/// One counter under one rule: the smallest harness for hand-worked vectors.
struct Counter {
    var rule: Rule
    var state: CounterState?

    init(_ rule: Rule) {
        self.rule = rule
    }

    /// A live check: records admitted hits.
    @discardableResult
    mutating func hit(_ hits: Int = 1, at now: Int64) -> Decision {
        rule.decide(&state, hits: hits, now: now)
    }

    /// The decision a check would get, without touching this counter.
    func peek(_ hits: Int = 1, at now: Int64) -> Decision {
        var copy = state
        return rule.decide(&copy, hits: hits, now: now)
    }
}

extension Decision {
    static func allowed(_ remaining: Int, limit: Int, reset: Int64) -> Decision {
        Decision(allowed: true, limit: limit, remaining: remaining, resetMs: reset, retryAfterMs: 0)
    }

    static func denied(_ remaining: Int, limit: Int, reset: Int64, retry: Int64) -> Decision {
        Decision(allowed: false, limit: limit, remaining: remaining, resetMs: reset, retryAfterMs: retry)
    }
}
