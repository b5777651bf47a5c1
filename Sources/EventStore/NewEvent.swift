/// An admitted hit about to be appended to the log: `hits` units of `rule`
/// consumed by `key` in `namespace` at `atMs` (milliseconds since the Unix
/// epoch).
///
/// Every allowed hit becomes one event before the node answers, the way a
/// Cloudflare Durable Object's output gate holds a response until its
/// storage write is durable.
public struct NewEvent: Sendable, Hashable {
    /// The counter this event belongs to (namespace, key, rule).
    public var eventKey: EventKey
    public var atMs: Int64
    public var hits: Int

    public init(namespace: String, key: String, rule: String, atMs: Int64, hits: Int) {
        self.init(eventKey: EventKey(namespace: namespace, key: key, rule: rule), atMs: atMs, hits: hits)
    }

    public init(eventKey: EventKey, atMs: Int64, hits: Int) {
        self.eventKey = eventKey
        self.atMs = atMs
        self.hits = hits
    }

    public var namespace: String {
        get { eventKey.namespace }
        set { eventKey.namespace = newValue }
    }

    public var key: String {
        get { eventKey.key }
        set { eventKey.key = newValue }
    }

    public var rule: String {
        get { eventKey.rule }
        set { eventKey.rule = newValue }
    }
}
