/// The identity of one counter in the log: a key under a rule in a namespace.
///
/// The log stores each distinct `EventKey` once and refers to it by a small
/// integer id, so appends and replays move integers rather than strings.
public struct EventKey: Sendable, Hashable {
    public var namespace: String
    public var key: String
    public var rule: String

    public init(namespace: String, key: String, rule: String) {
        self.namespace = namespace
        self.key = key
        self.rule = rule
    }
}

extension EventKey {
    /// Equal keys are equal in every field; the key, which tells counters
    /// apart most often, is compared first.
    public static func == (lhs: EventKey, rhs: EventKey) -> Bool {
        lhs.key == rhs.key && lhs.rule == rhs.rule && lhs.namespace == rhs.namespace
    }

    /// Hashes the key alone: rules and namespaces are few, so keys that
    /// differ only there are rare, and every append looks each of its events'
    /// ids up by this hash (``EventLog/append(_:)``).
    public func hash(into hasher: inout Hasher) {
        hasher.combine(key)
    }
}
