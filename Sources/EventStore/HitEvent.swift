/// A committed event read back from the log, in `seq` order.
///
/// `seq` is assigned at append, strictly increasing and never reused, even
/// after compaction, so "replay everything after snapshot seq S" is exact.
public struct HitEvent: Sendable, Hashable {
    public var seq: Int64
    public var namespace: String
    public var key: String
    public var rule: String
    public var atMs: Int64
    public var hits: Int

    public init(seq: Int64, namespace: String, key: String, rule: String, atMs: Int64, hits: Int) {
        self.seq = seq
        self.namespace = namespace
        self.key = key
        self.rule = rule
        self.atMs = atMs
        self.hits = hits
    }
}

/// A committed event as stored: the counter is the integer `keyID`, resolved
/// through the key table that ``EventLog/replayRaw(after:keys:events:)``
/// hands out first. Replaying this form costs no string work per event.
public struct RawHitEvent: Sendable, Hashable {
    public var seq: Int64
    public var keyID: Int64
    public var atMs: Int64
    public var hits: Int

    public init(seq: Int64, keyID: Int64, atMs: Int64, hits: Int) {
        self.seq = seq
        self.keyID = keyID
        self.atMs = atMs
        self.hits = hits
    }
}
