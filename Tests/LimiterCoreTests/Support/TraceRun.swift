import LimiterCore

/// One check of a random trace, with the counter state just before and just after it.
struct CheckRecord {
    var at: Int64
    var hits: Int
    var before: CounterState?
    var decision: Decision
    var after: CounterState?
}

extension RandomTrace {
    /// Runs every step through `Rule.decide` on one counter.
    func run() -> (records: [CheckRecord], final: CounterState?) {
        var state: CounterState?
        var records: [CheckRecord] = []
        records.reserveCapacity(steps.count)
        for step in steps {
            let before = state
            let decision = rule.decide(&state, hits: step.hits, now: step.at)
            records.append(CheckRecord(at: step.at, hits: step.hits, before: before, decision: decision, after: state))
        }
        return (records, state)
    }
}

extension [CheckRecord] {
    /// The admitted events, as an event log would hold them.
    var admitted: [(at: Int64, hits: Int)] {
        filter { $0.decision.allowed && $0.hits > 0 }.map { ($0.at, $0.hits) }
    }
}
