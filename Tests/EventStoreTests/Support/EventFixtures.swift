import EventStore

/// A one-line event builder for tests.
func hit(_ key: String, namespace: String = "1001", rule: String = "API", at atMs: Int64, hits: Int = 1) -> NewEvent {
    NewEvent(namespace: namespace, key: key, rule: rule, atMs: atMs, hits: hits)
}

extension EventLog {
    /// Every event after `seq`, collected.
    func allEvents(after seq: Int64 = 0) throws -> [HitEvent] {
        var events: [HitEvent] = []
        try replay(after: seq) { events.append($0) }
        return events
    }
}

extension HitEvent {
    /// The event as it was submitted, without its seq.
    var newEvent: NewEvent { NewEvent(namespace: namespace, key: key, rule: rule, atMs: atMs, hits: hits) }
}
