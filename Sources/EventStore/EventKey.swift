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
