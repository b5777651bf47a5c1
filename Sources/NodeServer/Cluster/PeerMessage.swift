import LimiterCore
import Membership
import NIOCore
import Rollout
import Wire

/// What nodes say to each other inside peer frames, each sealed in a
/// ``Wire/Envelope`` (protocol version, type, fields), the one wire format
/// of the cluster: membership gossip and forwarded checks.
///
/// Decoding never traps on hostile input: it throws. A message type this
/// build does not know decodes as ``unsupported(type:version:)`` so the
/// receiver can answer it instead of dropping the connection.
enum PeerMessage: Sendable, Equatable {
    /// A SWIM message (ping, ping-req, push-pull...).
    case swim(SWIMMessage)
    /// Checks for keys the sender believes this node owns.
    case checkBatch(ForwardedBatch)
    /// The owner's answers to a ``ForwardedBatch``, in request order.
    case checkResults(ForwardedResults)
    /// The owner could not decide the batch at all (for example its log is failing).
    case problem(status: Int, code: String, detail: String)
    /// A deployment and its rule sets: from the coordinator, or from a
    /// peer answering a pull. Answered with ``deploymentStatus(_:)``.
    case deploymentPush(DeploymentState)
    /// The deployment a node serves after handling a push or a pull.
    case deploymentStatus(Deployment)
    /// "Send me your deployment if its epoch is above mine": the
    /// anti-entropy that brings late and restarted nodes up to date.
    case deploymentPull(epoch: UInt64)
    /// Counters an owner (or a stand-in) decided, for a replica to commit
    /// before the hits are acknowledged (DESIGN §6). Answered with
    /// ``replicated(requestID:)`` or a `replica-refused` problem.
    case replicate(ReplicationBatch)
    /// The replica committed the batch with this id.
    case replicated(requestID: UInt64)
    /// "Send me the counters I hold a place for under this ring": the
    /// import of a node that starts, was fenced or was paused. Answered with
    /// ``pulled(states:next:)`` or a `not-yet` problem. Pages: `after` is the
    /// last counter of the previous page (nil for the first).
    case pull(nodes: [String], after: CounterKey?)
    /// One page of the counters a ``pull(nodes:after:)`` asked for, in the
    /// snapshot format, and the cursor of the next page (nil on the last).
    case pulled(states: [UInt8], next: CounterKey?)
    /// A message of a type this build does not know (a newer peer's).
    case unsupported(type: UInt64, version: UInt8)

    enum Kind: UInt64 {
        case swim = 1
        case checkBatch = 2
        case checkResults = 3
        case problem = 4
        case deploymentPush = 5
        case deploymentStatus = 6
        case deploymentPull = 7
        case replicate = 8
        case replicated = 9
        case pull = 10
        case pulled = 11
    }

    struct DecodingError: Error, CustomStringConvertible {
        var description: String
    }

    /// At most this many checks in one forwarded batch (the HTTP batch cap).
    static let maxChecks = CheckRequest.maxBatch
    static let maxVersionBytes = 64
    static let maxNameBytes = 255
    /// The largest counter transfer in one message, below the peer frame cap.
    static let maxStateBytes = 3 * 1024 * 1024
    static let maxNodes = 1024

    /// The message as an envelope of this build's protocol version.
    func encode(version: UInt8 = Envelope.currentVersion) -> [UInt8] {
        switch self {
        case .swim(let message):
            return Envelope.seal(type: Kind.swim.rawValue, capacity: 128, version: version) { message.encode(into: &$0) }
        case .checkBatch(let batch):
            return Envelope.seal(type: Kind.checkBatch.rawValue, capacity: 24 + batch.checks.count * 32, version: version) {
                batch.encode(into: &$0)
            }
        case .checkResults(let results):
            return Envelope.seal(type: Kind.checkResults.rawValue, capacity: 24 + results.items.count * 48, version: version) {
                results.encode(into: &$0)
            }
        case .problem(let status, let code, let detail):
            return Envelope.seal(type: Kind.problem.rawValue, version: version) { writer in
                writer.count(max(0, status), field: "problem.status")
                writer.string(code)
                writer.string(String(decoding: detail.utf8.prefix(4000), as: UTF8.self))
            }
        case .deploymentPush(let state):
            return Envelope.seal(type: Kind.deploymentPush.rawValue, capacity: 256, version: version) { state.encode(into: &$0) }
        case .deploymentStatus(let deployment):
            return Envelope.seal(type: Kind.deploymentStatus.rawValue, version: version) { deployment.encode(into: &$0) }
        case .deploymentPull(let epoch):
            return Envelope.seal(type: Kind.deploymentPull.rawValue, version: version) { $0.varint(epoch) }
        case .replicate(let batch):
            return Envelope.seal(type: Kind.replicate.rawValue, capacity: 32 + batch.events.count * 40 + batch.states.reduce(0) { $0 + $1.count },
                                 version: version) { batch.encode(into: &$0) }
        case .replicated(let requestID):
            return Envelope.seal(type: Kind.replicated.rawValue, version: version) { $0.varint(requestID) }
        case .pull(let nodes, let after):
            return Envelope.seal(type: Kind.pull.rawValue, version: version) { writer in
                writer.count(nodes.count, field: "pull.nodes")
                for node in nodes { writer.string(node) }
                Self.encode(cursor: after, into: &writer)
            }
        case .pulled(let states, let next):
            return Envelope.seal(type: Kind.pulled.rawValue, capacity: 16 + states.count, version: version) { writer in
                writer.blob(states)
                Self.encode(cursor: next, into: &writer)
            }
        case .unsupported(let type, _):
            preconditionFailure("PeerMessage: an unsupported message (type \(type)) is only ever decoded, never sent")
        }
    }

    var buffer: ByteBuffer { ByteBuffer(bytes: encode()) }

    /// A page cursor: a presence byte, then the counter's rule and key.
    private static func encode(cursor: CounterKey?, into writer: inout WireWriter) {
        writer.bool(cursor != nil)
        if let cursor {
            writer.string(cursor.rule)
            writer.string(cursor.key)
        }
    }

    private static func cursor(_ reader: inout WireReader, _ field: String) throws(WireError) -> CounterKey? {
        guard try reader.bool("\(field).present") else { return nil }
        let rule = try reader.string("\(field).rule", maxBytes: maxNameBytes)
        let key = try reader.string("\(field).key", maxBytes: CheckRequest.maxKeyBytes)
        return CounterKey(rule: rule, key: key)
    }

    init(decoding buffer: ByteBuffer) throws(DecodingError) {
        try self.init(decoding: Array(buffer.readableBytesView))
    }

    init(decoding bytes: [UInt8]) throws(DecodingError) {
        do {
            var envelope = try Envelope(opening: bytes)
            guard let kind = Kind(rawValue: envelope.type) else {
                self = .unsupported(type: envelope.type, version: envelope.version)
                return
            }
            switch kind {
            case .swim:
                do {
                    self = .swim(try SWIMMessage(reading: &envelope.body))
                } catch {
                    throw DecodingError(description: error.message)
                }
            case .checkBatch:
                self = .checkBatch(try ForwardedBatch(reading: &envelope.body, protocolVersion: envelope.version))
            case .checkResults:
                self = .checkResults(try ForwardedResults(reading: &envelope.body))
            case .problem:
                let status = try envelope.body.bounded("problem.status", limit: 999)
                let code = try envelope.body.string("problem.code", maxBytes: Self.maxNameBytes)
                let detail = try envelope.body.string("problem.detail", maxBytes: 4000)
                self = .problem(status: Int(status), code: code, detail: detail)
            case .deploymentPush:
                self = .deploymentPush(try DeploymentState(reading: &envelope.body))
            case .deploymentStatus:
                self = .deploymentStatus(try Deployment(reading: &envelope.body))
            case .deploymentPull:
                self = .deploymentPull(epoch: try envelope.body.varint("pull.epoch"))
            case .replicate:
                self = .replicate(try ReplicationBatch(reading: &envelope.body))
            case .replicated:
                self = .replicated(requestID: try envelope.body.varint("replicated.request_id"))
            case .pull:
                let count = try envelope.body.count("pull.nodes", limit: Self.maxNodes, minimumItemSize: 1)
                var nodes: [String] = []
                for index in 0..<count {
                    nodes.append(try envelope.body.string("pull.nodes[\(index)]", maxBytes: Self.maxNameBytes))
                }
                self = .pull(nodes: nodes, after: try Self.cursor(&envelope.body, "pull.after"))
            case .pulled:
                let states = try envelope.body.blob("pulled.states", maxBytes: Self.maxStateBytes)
                self = .pulled(states: states, next: try Self.cursor(&envelope.body, "pulled.next"))
            }
            try envelope.finish("\(kind) message")
        } catch let error as WireError {
            throw DecodingError(description: error.message)
        } catch let error as DecodingError {
            throw error
        } catch {
            throw DecodingError(description: "\(error)")
        }
    }
}

/// Checks forwarded to their owner in one round trip.
///
/// `requestID` is unique per sender (sender, id): a batch retried after a
/// lost connection carries the same id, and the owner answers it from its
/// reply cache instead of counting its hits twice. `epoch` is the sender's
/// placement epoch, so the owner can tell a sender whose view differs.
struct ForwardedBatch: Sendable, Equatable {
    struct Check: Sendable, Equatable {
        var request: CheckRequest
        /// The rule-set version the entry node chose for the key (DESIGN §7).
        var version: String
        /// Nodes ahead of the receiver in the key's placement that the entry
        /// node could not reach: the receiver decides in their stead when it
        /// is next (failover, DESIGN §6). Empty for a check sent to its owner.
        var unreachable: [String] = []
    }

    var requestID: UInt64
    var epoch: UInt64
    var checks: [Check]
    /// The protocol version the sender wrote the batch in (its envelope's):
    /// the owner answers in what that version reads. Where the batch came
    /// from, not what it asks, so `==` leaves it out.
    var senderVersion: UInt8 = Envelope.currentVersion

    static func == (lhs: Self, rhs: Self) -> Bool {
        lhs.requestID == rhs.requestID && lhs.epoch == rhs.epoch && lhs.checks == rhs.checks
    }

    func encode(into writer: inout WireWriter) {
        writer.varint(requestID)
        writer.varint(epoch)
        writer.count(checks.count, field: "checks.count")
        // Each check read in place: a copy would retain every string it holds.
        var failovers = 0
        for index in checks.indices {
            writer.string(checks[index].request.rule)
            writer.string(checks[index].request.key)
            writer.count(checks[index].request.hits, field: "check.hits")
            writer.string(checks[index].version)
            if !checks[index].unreachable.isEmpty { failovers += 1 }
        }
        // Protocol version 3 appends the failover lists: (index, nodes) for
        // each check that has one.
        writer.count(failovers, field: "failovers.count")
        guard failovers > 0 else { return }
        for index in checks.indices where !checks[index].unreachable.isEmpty {
            writer.count(index, field: "failover.index")
            writer.count(checks[index].unreachable.count, field: "failover.nodes")
            for node in checks[index].unreachable { writer.string(node) }
        }
    }

    init(requestID: UInt64, epoch: UInt64, checks: [Check]) {
        self.requestID = requestID
        self.epoch = epoch
        self.checks = checks
    }

    init(reading reader: inout WireReader, protocolVersion: UInt8) throws(WireError) {
        senderVersion = protocolVersion
        requestID = try reader.varint("batch.request_id")
        epoch = try reader.varint("batch.epoch")
        // A check is at least four bytes: three empty-ish fields and hits.
        let count = try reader.count("batch.checks", limit: PeerMessage.maxChecks, minimumItemSize: 4)
        checks = []
        checks.reserveCapacity(count)
        // Checks of one batch mostly share a rule and a version: read as the previous check's.
        var previousRule: String?
        var previousVersion: String?
        for index in 0..<count {
            let rule = try reader.string("checks[\(index)].rule", maxBytes: PeerMessage.maxNameBytes, reusing: previousRule)
            let key = try reader.string("checks[\(index)].key", maxBytes: CheckRequest.maxKeyBytes)
            let hits = try reader.bounded("checks[\(index)].hits", limit: CheckRequest.maxHits)
            let version = try reader.string("checks[\(index)].version", maxBytes: PeerMessage.maxVersionBytes, reusing: previousVersion)
            checks.append(Check(request: CheckRequest(key: key, rule: rule, hits: Int(hits)), version: version))
            previousRule = rule
            previousVersion = version
        }
        guard protocolVersion >= 3 else { return }
        let failovers = try reader.count("batch.failovers", limit: count, minimumItemSize: 2)
        for index in 0..<failovers {
            let check = try reader.count("failovers[\(index)].index", limit: count - 1)
            let nodes = try reader.count("failovers[\(index)].nodes", limit: 16, minimumItemSize: 1)
            for node in 0..<nodes {
                checks[check].unreachable.append(try reader.string("failovers[\(index)].nodes[\(node)]", maxBytes: PeerMessage.maxNameBytes))
            }
        }
    }
}

/// What an owner answered for one caller's share of a ``ForwardedBatch``:
/// its checks' items in order, a slice of the batch's answer (shared, not
/// copied), and the owner's placement epoch.
struct ForwardedAnswers: Sendable {
    var epoch: UInt64
    var items: ArraySlice<ForwardedResults.Item>

    /// The whole answer of a batch.
    init(_ results: ForwardedResults) {
        self.init(epoch: results.epoch, items: results.items[...])
    }

    init(epoch: UInt64, items: ArraySlice<ForwardedResults.Item>) {
        self.epoch = epoch
        self.items = items
    }
}

/// The owner's answer to a ``ForwardedBatch``: one item per check, and the
/// owner's own placement epoch.
struct ForwardedResults: Sendable, Equatable {
    /// The longest `reset_ms` or `retry_after_ms` accepted from a peer: 2^53 ms,
    /// exact in JSON and far past any rule's period.
    static let maxWaitMs: Int64 = 1 << 53

    enum Item: Sendable, Equatable {
        /// Decided here.
        case decided(CheckResult)
        /// This node does not own the key under its view; `owner` is whom it
        /// believes does (nil when it knows of none).
        case notMine(owner: String?)
        /// This node cannot decide this check (for example the version is
        /// not installed here); `status` is the HTTP status the entry node
        /// should answer with.
        case refused(status: Int, code: String, detail: String)
    }

    var requestID: UInt64
    var epoch: UInt64
    var items: [Item]
    /// The protocol version of the node that reads these results (the
    /// batch's sender): from 4 on, a decision that repeats the previous
    /// decision's rule, version and node goes without them (tag 3). How the
    /// results travel, not what they say, so `==` leaves it out.
    var readerVersion: UInt8 = Envelope.currentVersion

    static func == (lhs: Self, rhs: Self) -> Bool {
        lhs.requestID == rhs.requestID && lhs.epoch == rhs.epoch && lhs.items == rhs.items
    }

    /// The first protocol version that reads tag 3.
    static let repeatedNamesVersion: UInt8 = 4

    func encode(into writer: inout WireWriter) {
        writer.varint(requestID)
        writer.varint(epoch)
        writer.count(items.count, field: "items.count")
        let compact = readerVersion >= Self.repeatedNamesVersion
        // Items are read in place, and the previous decision is remembered by
        // its index: a copy of a result would retain each of its strings.
        var previous: Int?
        for index in items.indices {
            switch items[index] {
            case .decided(let result):
                let decision = result.decision
                // Equal strings that share storage compare without reading their bytes.
                var repeats = false
                if compact, let previous, case .decided(let last) = items[previous] {
                    repeats = last.rule == result.rule && last.version == result.version && last.node == result.node
                }
                writer.byte(repeats ? 3 : 0)
                writer.bool(decision.allowed)
                writer.count(decision.limit, field: "result.limit")
                writer.signed(Int64(decision.remaining))
                writer.signed(decision.resetMs)
                writer.signed(decision.retryAfterMs)
                previous = index
                if repeats { continue }
                writer.string(result.rule)
                writer.string(result.version)
                writer.string(result.node)
            case .notMine(let owner):
                writer.byte(1)
                writer.string(owner ?? "")
            case .refused(let status, let code, let detail):
                writer.byte(2)
                writer.count(max(0, status), field: "refused.status")
                writer.string(code)
                writer.string(String(decoding: detail.utf8.prefix(1000), as: UTF8.self))
            }
        }
    }

    init(requestID: UInt64, epoch: UInt64, items: [Item], readerVersion: UInt8 = Envelope.currentVersion) {
        self.requestID = requestID
        self.epoch = epoch
        self.items = items
        self.readerVersion = readerVersion
    }

    init(reading reader: inout WireReader) throws(WireError) {
        requestID = try reader.varint("results.request_id")
        epoch = try reader.varint("results.epoch")
        let count = try reader.count("results.items", limit: PeerMessage.maxChecks, minimumItemSize: 2)
        items = []
        items.reserveCapacity(count)
        // Results of one batch mostly share a rule, a version and a node: read as the last decided one's.
        var last: CheckResult?
        for index in 0..<count {
            // Named only when a read fails: building the name per item is a cost on every batch.
            func field() -> String { "items[\(index)]" }
            switch try reader.byte("\(field()).tag") {
            case let tag where tag == 0 || tag == 3:
                let allowed = try reader.bool("\(field()).allowed")
                let limit = try reader.bounded("\(field()).limit", limit: Int64(Int32.max))
                let remaining = try reader.signed64("\(field()).remaining")
                let reset = try reader.signed64("\(field()).reset_ms")
                let retry = try reader.signed64("\(field()).retry_after_ms")
                // What a decision can hold: the answer is rendered from these on the entry node.
                guard (0...Int64(Int32.max)).contains(remaining), (0...Self.maxWaitMs).contains(reset),
                      (0...Self.maxWaitMs).contains(retry) else {
                    throw reader.error(.invalidField, "\(field()): remaining \(remaining), reset_ms \(reset) or retry_after_ms \(retry) "
                                       + "outside what a decision can hold")
                }
                let decision = Decision(allowed: allowed, limit: Int(limit), remaining: Int(truncatingIfNeeded: remaining),
                                        resetMs: reset, retryAfterMs: retry)
                let result: CheckResult
                if tag == 3 {
                    // The rule, version and node of the previous decision.
                    guard let last else {
                        throw reader.error(.invalidField, "\(field()) repeats the names of an earlier decision, but none came before it")
                    }
                    result = CheckResult(decision: decision, rule: last.rule, version: last.version, node: last.node)
                } else {
                    let rule = try reader.string("\(field()).rule", maxBytes: PeerMessage.maxNameBytes, reusing: last?.rule)
                    let version = try reader.string("\(field()).version", maxBytes: PeerMessage.maxVersionBytes, reusing: last?.version)
                    let node = try reader.string("\(field()).node", maxBytes: PeerMessage.maxNameBytes, reusing: last?.node)
                    result = CheckResult(decision: decision, rule: rule, version: version, node: node)
                }
                items.append(.decided(result))
                last = result
            case 1:
                let owner = try reader.string("\(field()).owner", maxBytes: PeerMessage.maxNameBytes)
                items.append(.notMine(owner: owner.isEmpty ? nil : owner))
            case 2:
                let status = try reader.bounded("\(field()).status", limit: 999)
                let code = try reader.string("\(field()).code", maxBytes: PeerMessage.maxNameBytes)
                let detail = try reader.string("\(field()).detail", maxBytes: 1000)
                items.append(.refused(status: Int(status), code: code, detail: detail))
            case let tag:
                throw reader.error(.invalidField, "\(field()) has unknown tag \(tag)")
            }
        }
    }
}
