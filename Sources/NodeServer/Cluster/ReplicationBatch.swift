import EventStore
import Wire

/// What a node that decided admitted hits sends to the key's replica, in one
/// round trip per batch (DESIGN §6): the events, which the replica appends to
/// its own log, and the counters' states after the decision, which replace
/// the replica's, so its copy equals the decider's whatever it missed before.
/// A resync after a membership change carries states only.
struct ReplicationBatch: Sendable, Equatable {
    struct Event: Sendable, Equatable {
        var namespace: String
        var rule: String
        var key: String
        var atMs: Int64
        var hits: Int

        var newEvent: NewEvent { NewEvent(namespace: namespace, key: key, rule: rule, atMs: atMs, hits: hits) }
    }

    var requestID: UInt64
    var events: [Event]
    /// The counters concerned, each part in the `LimiterTable` snapshot
    /// format, applied in order (a batch joins the copies of several decisions).
    var states: [[UInt8]]
    /// Owners the deciders stood in for (``ReplicaCopy/fences``).
    var fences: [String] = []

    func encode(into writer: inout WireWriter) {
        writer.varint(requestID)
        writer.count(events.count, field: "events.count")
        for event in events {
            writer.string(event.namespace)
            writer.string(event.rule)
            writer.string(event.key)
            writer.signed(event.atMs)
            writer.count(event.hits, field: "event.hits")
        }
        writer.count(states.count, field: "states.count")
        for part in states { writer.blob(part) }
        writer.count(fences.count, field: "fences.count")
        for node in fences { writer.string(node) }
    }

    init(requestID: UInt64, events: [Event], states: [[UInt8]], fences: [String] = []) {
        self.requestID = requestID
        self.events = events
        self.states = states
        self.fences = fences
    }

    init(reading reader: inout WireReader) throws(WireError) {
        requestID = try reader.varint("replicate.request_id")
        let count = try reader.count("replicate.events", limit: 100_000, minimumItemSize: 5)
        events = []
        events.reserveCapacity(count)
        for index in 0..<count {
            // Named only when a read fails: building the name per event is a cost on every batch.
            func field() -> String { "events[\(index)]" }
            let namespace = try reader.string("\(field()).namespace", maxBytes: PeerMessage.maxNameBytes)
            let rule = try reader.string("\(field()).rule", maxBytes: PeerMessage.maxNameBytes)
            let key = try reader.string("\(field()).key", maxBytes: CheckRequest.maxKeyBytes)
            let at = try reader.signed64("\(field()).at_ms")
            let hits = try reader.bounded("\(field()).hits", limit: CheckRequest.maxHits)
            events.append(Event(namespace: namespace, rule: rule, key: key, atMs: at, hits: Int(hits)))
        }
        let parts = try reader.count("replicate.states", limit: 100_000, minimumItemSize: 1)
        states = []
        var total = 0
        for index in 0..<parts {
            let part = try reader.blob("replicate.states[\(index)]", maxBytes: PeerMessage.maxStateBytes - total)
            total += part.count
            states.append(part)
        }
        let fenceCount = try reader.count("replicate.fences", limit: PeerMessage.maxNodes, minimumItemSize: 1)
        for index in 0..<fenceCount {
            fences.append(try reader.string("replicate.fences[\(index)]", maxBytes: PeerMessage.maxNameBytes))
        }
    }
}
