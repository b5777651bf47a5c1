import Wire

// Compact binary form of `SWIMMessage`, the body of a peer envelope of type
// `swim` (see `Wire.Envelope`, which carries the protocol version).
//
//   message  := type:u8 body
//   ping     := seq:varint members
//   ping-req := seq:varint metadata timeout:varint members
//   ack      := seq:varint target:str incarnation:varint members
//   nack     := seq:varint target:str
//   gossip, push-pull-request, push-pull-response := members
//   leave    := member
//   members  := count:varint member*
//   member   := metadata status
//   metadata := id:str peerHost:str peerPort:varint httpHost:str httpPort:varint build:str role:u8
//   status   := tag:u8 (0 alive, 1 suspect, 2 dead, 3 left) incarnation:varint
//               [suspect only: count:varint id:str*]
//   str      := length:varint utf8-bytes
//
// A gossip entry is ~40-70 bytes for typical ids and hosts.

extension SWIMMessage {
    /// Largest member list accepted in one message (push-pull of a big cluster).
    static let maxMembers = 4_096
    /// Largest `suspectedBy` set accepted; Lifeguard needs only `K + 1`.
    static let maxSuspectors = 64
    /// Largest incarnation accepted. Nodes start at their wall clock in ms
    /// (about 2^41) and add one per refutation; a peer claiming more could
    /// make the refutation overflow.
    public static let maxIncarnation: UInt64 = 1 << 62
    static let maxIdentifierBytes = 255
    static let maxBuildBytes = 256
    /// A day: no probe timeout is longer; anything larger is garbage.
    static let maxTimeout: Int64 = 86_400_000

    private enum MessageType: UInt8 {
        case ping = 1
        case pingRequest = 2
        case ack = 3
        case nack = 4
        case gossip = 5
        case pushPullRequest = 6
        case pushPullResponse = 7
        case leave = 8
    }

    /// The message as bytes (type and fields, no envelope).
    public func encode() -> [UInt8] {
        var writer = WireWriter(capacity: 32 + 64 * self.gossip.count)
        self.encode(into: &writer)
        return writer.bytes
    }

    /// Appends the message (type and fields) to `writer`.
    public func encode(into writer: inout WireWriter) {
        switch self {
        case .ping(let sequence, let payload):
            writer.byte(MessageType.ping.rawValue)
            writer.varint(sequence)
            writer.write(members: payload)
        case .pingRequest(let sequence, let target, let timeout, let payload):
            writer.byte(MessageType.pingRequest.rawValue)
            writer.varint(sequence)
            writer.write(metadata: target)
            writer.count(timeout, field: "pingRequest.timeout")
            writer.write(members: payload)
        case .ack(let sequence, let target, let incarnation, let payload):
            writer.byte(MessageType.ack.rawValue)
            writer.varint(sequence)
            writer.string(target)
            writer.varint(incarnation)
            writer.write(members: payload)
        case .nack(let sequence, let target):
            writer.byte(MessageType.nack.rawValue)
            writer.varint(sequence)
            writer.string(target)
        case .gossip(let payload):
            writer.byte(MessageType.gossip.rawValue)
            writer.write(members: payload)
        case .pushPullRequest(let state):
            writer.byte(MessageType.pushPullRequest.rawValue)
            writer.write(members: state)
        case .pushPullResponse(let state):
            writer.byte(MessageType.pushPullResponse.rawValue)
            writer.write(members: state)
        case .leave(let member):
            writer.byte(MessageType.leave.rawValue)
            writer.write(member: member)
        }
    }

    /// Decodes untrusted bytes holding exactly one message. Never traps:
    /// garbage, truncation, overlong lengths and trailing bytes all throw a
    /// ``MembershipError`` whose message names the field.
    public init(decoding bytes: [UInt8]) throws(MembershipError) {
        var reader = WireReader(bytes)
        try self.init(reading: &reader)
        guard reader.remaining == 0 else {
            throw MembershipError(
                code: .trailingBytes,
                message: "\(reader.remaining) bytes left after a complete \(self.kind) message"
            )
        }
    }

    /// Reads one message from `reader`, leaving what follows it (a newer
    /// build's added fields) for the caller to judge.
    public init(reading reader: inout WireReader) throws(MembershipError) {
        do {
            self = try Self.read(&reader)
        } catch {
            throw MembershipError(wire: error)
        }
    }

    private static func read(_ reader: inout WireReader) throws(WireError) -> SWIMMessage {
        let typeByte = try reader.byte("message type")
        guard let type = MessageType(rawValue: typeByte) else {
            throw reader.error(.invalidField, "unknown SWIM message type \(typeByte)")
        }
        switch type {
        case .ping:
            let sequence = try reader.varint("ping.sequence")
            return .ping(sequence: sequence, payload: try reader.readMembers("ping.payload"))
        case .pingRequest:
            let sequence = try reader.varint("pingRequest.sequence")
            let target = try reader.readMetadata("pingRequest.target")
            let timeout = try reader.bounded("pingRequest.timeout", limit: Self.maxTimeout)
            let payload = try reader.readMembers("pingRequest.payload")
            return .pingRequest(sequence: sequence, target: target, timeout: timeout, payload: payload)
        case .ack:
            let sequence = try reader.varint("ack.sequence")
            let target = try reader.string("ack.target", maxBytes: Self.maxIdentifierBytes)
            let incarnation = try reader.incarnation("ack.incarnation")
            let payload = try reader.readMembers("ack.payload")
            return .ack(sequence: sequence, target: target, incarnation: incarnation, payload: payload)
        case .nack:
            let sequence = try reader.varint("nack.sequence")
            let target = try reader.string("nack.target", maxBytes: Self.maxIdentifierBytes)
            return .nack(sequence: sequence, target: target)
        case .gossip:
            return .gossip(payload: try reader.readMembers("gossip.payload"))
        case .pushPullRequest:
            return .pushPullRequest(state: try reader.readMembers("pushPullRequest.state"))
        case .pushPullResponse:
            return .pushPullResponse(state: try reader.readMembers("pushPullResponse.state"))
        case .leave:
            return .leave(member: try reader.readMember("leave.member"))
        }
    }
}

extension MembershipError {
    /// The membership code for a codec failure, keeping the message.
    init(wire: WireError) {
        let code: Code
        switch wire.code {
        case .truncated: code = .truncated
        case .lengthTooLarge: code = .lengthTooLarge
        case .unsupportedVersion: code = .unsupportedVersion
        case .trailingBytes: code = .trailingBytes
        default: code = wire.message.contains("message type") ? .unknownMessageType : .invalidField
        }
        self.init(code: code, message: "SWIM message: \(wire.message)")
    }
}

extension WireWriter {
    fileprivate mutating func write(members: [Member]) {
        self.count(members.count, field: "members.count")
        for member in members {
            self.write(member: member)
        }
    }

    fileprivate mutating func write(member: Member) {
        self.write(metadata: member.metadata)
        switch member.status {
        case .alive(let incarnation):
            self.byte(0)
            self.varint(incarnation)
        case .suspect(let incarnation, let suspectedBy):
            self.byte(1)
            self.varint(incarnation)
            // Sorted so that equal states encode to equal bytes.
            let suspectors = suspectedBy.sorted()
            self.count(suspectors.count, field: "suspect.suspectedBy.count")
            for id in suspectors {
                self.string(id)
            }
        case .dead(let incarnation):
            self.byte(2)
            self.varint(incarnation)
        case .left(let incarnation):
            self.byte(3)
            self.varint(incarnation)
        }
    }

    fileprivate mutating func write(metadata: MemberMetadata) {
        self.string(metadata.id)
        self.string(metadata.peerAddress.host)
        self.count(metadata.peerAddress.port, field: "metadata.peerAddress.port")
        self.string(metadata.httpAddress.host)
        self.count(metadata.httpAddress.port, field: "metadata.httpAddress.port")
        self.string(metadata.build)
        self.byte(metadata.role.rawValue)
    }
}

extension WireReader {
    /// The smallest encoded member: seven empty strings/zeros, a role and a status.
    private static let minimumMemberSize = 9

    fileprivate mutating func readMembers(_ field: @autoclosure () -> String) throws(WireError) -> [Member] {
        let count = try self.count(
            "\(field()).count",
            limit: SWIMMessage.maxMembers,
            minimumItemSize: Self.minimumMemberSize
        )
        var members: [Member] = []
        members.reserveCapacity(count)
        for index in 0..<count {
            members.append(try self.readMember("\(field())[\(index)]"))
        }
        return members
    }

    /// An incarnation, at most ``SWIMMessage/maxIncarnation``: a member
    /// refutes by moving one past what it hears, which must not overflow.
    fileprivate mutating func incarnation(_ field: @autoclosure () -> String) throws(WireError) -> Incarnation {
        UInt64(try self.bounded(field(), limit: Int64(SWIMMessage.maxIncarnation)))
    }

    fileprivate mutating func readMember(_ field: @autoclosure () -> String) throws(WireError) -> Member {
        let metadata = try self.readMetadata("\(field()).metadata")
        let tag = try self.byte("\(field()).status")
        let incarnation = try self.incarnation("\(field()).status.incarnation")
        let status: MemberStatus
        switch tag {
        case 0:
            status = .alive(incarnation: incarnation)
        case 1:
            let count = try self.count(
                "\(field()).status.suspectedBy",
                limit: SWIMMessage.maxSuspectors,
                minimumItemSize: 1
            )
            var suspectedBy = Set<String>()
            for index in 0..<count {
                suspectedBy.insert(
                    try self.string(
                        "\(field()).status.suspectedBy[\(index)]",
                        maxBytes: SWIMMessage.maxIdentifierBytes
                    )
                )
            }
            status = .suspect(incarnation: incarnation, suspectedBy: suspectedBy)
        case 2:
            status = .dead(incarnation: incarnation)
        case 3:
            status = .left(incarnation: incarnation)
        default:
            throw self.error(.invalidField, "\(field()).status has unknown tag \(tag)")
        }
        return Member(metadata: metadata, status: status)
    }

    fileprivate mutating func readMetadata(_ field: @autoclosure () -> String) throws(WireError) -> MemberMetadata {
        let id = try self.string("\(field()).id", maxBytes: SWIMMessage.maxIdentifierBytes)
        guard !id.isEmpty else {
            throw self.error(.invalidField, "\(field()).id is empty")
        }
        let peerHost = try self.string("\(field()).peerAddress.host", maxBytes: SWIMMessage.maxIdentifierBytes)
        let peerPort = try self.bounded("\(field()).peerAddress.port", limit: 65_535)
        let httpHost = try self.string("\(field()).httpAddress.host", maxBytes: SWIMMessage.maxIdentifierBytes)
        let httpPort = try self.bounded("\(field()).httpAddress.port", limit: 65_535)
        let build = try self.string("\(field()).build", maxBytes: SWIMMessage.maxBuildBytes)
        let roleByte = try self.byte("\(field()).role")
        guard let role = MemberRole(rawValue: roleByte) else {
            throw self.error(.invalidField, "\(field()).role has unknown value \(roleByte)")
        }
        return MemberMetadata(
            id: id,
            peerAddress: HostPort(host: peerHost, port: Int(peerPort)),
            httpAddress: HostPort(host: httpHost, port: Int(httpPort)),
            build: build,
            role: role
        )
    }
}
