/// Every live counter of one node: the state behind `POST /v1/check` for the keys it owns.
///
/// A value type, owned by one actor (or `Mutex`) in the shell; the methods are the hot path,
/// so they hash the key once and mutate the stored state in place through the dictionary's
/// `_modify` accessor, with no allocation per check (except the growth of a `sliding_log`).
/// Keys whose counters are fully available are not stored (or dropped by
/// ``prune(now:rules:)``), so the table's size tracks the keys actually being limited.
public struct LimiterTable: Sendable, Equatable {
    /// The states, by rule name and key.
    public internal(set) var states: [CounterKey: CounterState]

    public init() {
        states = [:]
    }

    init(states: [CounterKey: CounterState]) {
        self.states = states
    }

    /// Number of stored counters.
    public var count: Int { states.count }

    /// The stored state of one counter, nil when it is fully available (or was never used).
    public func state(rule: String, key: String) -> CounterState? {
        states[CounterKey(rule: rule, key: key)]
    }

    /// Checks `hits` for `key` under `rule` at `now`, recording them if admitted: see
    /// ``Rule/decide(_:hits:now:)``. A read (`hits == 0`) or denial of an unknown key stores
    /// nothing.
    public mutating func check(rule: Rule, key: String, hits: Int, now: Int64) -> Decision {
        rule.decide(&states[CounterKey(rule: rule.name, key: key)], hits: hits, now: now)
    }

    /// Applies admitted hits without checking (log replay, replication): see
    /// ``Rule/record(_:hits:at:)``.
    public mutating func apply(rule: Rule, key: String, hits: Int, at: Int64) {
        rule.record(&states[CounterKey(rule: rule.name, key: key)], hits: hits, at: at)
    }

    /// Drops every counter that is back to full capacity at `now` (or holds a state of another
    /// algorithm than its rule's, which reads as fresh anyway), and returns how many it dropped.
    ///
    /// Counters of a rule missing from `rules` are kept: the rule may still live in another
    /// deployment version (a canary), and losing a count would admit more than the limit. Pass
    /// the rules of every version in service.
    @discardableResult
    public mutating func prune(now: Int64, rules: [String: Rule]) -> Int {
        let before = states.count
        states = states.filter { counter, state in
            guard let rule = rules[counter.rule] else { return true }
            return !rule.isFullyAvailable(state, now: now)
        }
        return before - states.count
    }

    /// Removes every counter.
    public mutating func removeAll() {
        states.removeAll()
    }
}
