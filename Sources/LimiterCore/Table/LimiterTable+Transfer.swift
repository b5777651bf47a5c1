/// Moving counters between nodes (DESIGN §6: replication, failover, handoff). A transfer is a
/// table of the counters concerned, carried in the snapshot format, and applied by
/// overwriting: the sender's state of a counter replaces the receiver's.
extension LimiterTable {
    /// The counters whose key satisfies `include`, as a table of their own.
    public func filter(_ include: (CounterKey) -> Bool) -> LimiterTable {
        LimiterTable(states: states.filter { include($0.key) })
    }

    /// The stored states of `counters` (a counter that is fully available has no state and is
    /// left out).
    public func subset(_ counters: some Sequence<CounterKey>) -> LimiterTable {
        var picked: [CounterKey: CounterState] = [:]
        for counter in counters {
            if let state = states[counter] { picked[counter] = state }
        }
        return LimiterTable(states: picked)
    }

    /// A table holding one counter.
    public init(counter: CounterKey, state: CounterState) {
        self.init(states: [counter: state])
    }

    /// Replaces the state of every counter `other` holds with `other`'s; the rest stay.
    public mutating func overwrite(with other: LimiterTable) {
        for (counter, state) in other.states { states[counter] = state }
    }
}
