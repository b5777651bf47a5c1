/// An opaque image of the limiter state covering every event up to and
/// including `seq`. Restart loads the latest snapshot, then replays the log
/// after `seq` (snapshot + log tail, as in DESIGN.md §6 Durability).
///
/// The store never interprets `state`; the node encodes it (for example with
/// `LimiterTable.encodeSnapshot()`).
public struct Snapshot: Sendable, Hashable {
    public var seq: Int64
    public var takenAtMs: Int64
    public var state: [UInt8]

    public init(seq: Int64, takenAtMs: Int64, state: [UInt8]) {
        self.seq = seq
        self.takenAtMs = takenAtMs
        self.state = state
    }
}
