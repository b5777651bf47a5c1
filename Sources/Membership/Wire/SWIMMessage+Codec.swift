// Compact binary form of `SWIMMessage`, sent by the shell inside one TLS frame.
//
//   message  := version:u8(=1) type:u8 body
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
    /// The codec version written in the first byte. A node that receives a
    /// version it does not know refuses the message with `.unsupportedVersion`.
    public static let codecVersion: UInt8 = 1

    /// Largest member list accepted in one message (push-pull of a big cluster).
    static let maxMembers = 4_096
    /// Largest `suspectedBy` set accepted; Lifeguard needs only `K + 1`.
    static let maxSuspectors = 64
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

    /// The message as bytes.
    public func encode() -> [UInt8] {
        var writer = ByteWriter(capacity: 32 + 64 * self.gossip.count)
        writer.write(byte: Self.codecVersion)
        switch self {
        case .ping(let sequence, let payload):
            writer.write(byte: MessageType.ping.rawValue)
            writer.write(varint: sequence)
            writer.write(members: payload)
        case .pingRequest(let sequence, let target, let timeout, let payload):
            writer.write(byte: MessageType.pingRequest.rawValue)
            writer.write(varint: sequence)
            writer.write(metadata: target)
            writer.write(count: timeout, field: "pingRequest.timeout")
            writer.write(members: payload)
        case .ack(let sequence, let target, let incarnation, let payload):
            writer.write(byte: MessageType.ack.rawValue)
            writer.write(varint: sequence)
            writer.write(string: target)
            writer.write(varint: incarnation)
            writer.write(members: payload)
        case .nack(let sequence, let target):
            writer.write(byte: MessageType.nack.rawValue)
            writer.write(varint: sequence)
            writer.write(string: target)
        case .gossip(let payload):
            writer.write(byte: MessageType.gossip.rawValue)
            writer.write(members: payload)
        case .pushPullRequest(let state):
            writer.write(byte: MessageType.pushPullRequest.rawValue)
            writer.write(members: state)
        case .pushPullResponse(let state):
            writer.write(byte: MessageType.pushPullResponse.rawValue)
            writer.write(members: state)
        case .leave(let member):
            writer.write(byte: MessageType.leave.rawValue)
            writer.write(member: member)
        }
        return writer.bytes
    }

    /// Decodes untrusted bytes. Never traps: garbage, truncation, overlong
    /// lengths and trailing bytes all throw a ``MembershipError`` whose
    /// message names the field.
    public init(decoding bytes: [UInt8]) throws(MembershipError) {
        var reader = ByteReader(bytes)
        let version = try reader.readByte("codec version")
        guard version == Self.codecVersion else {
            throw MembershipError(
                code: .unsupportedVersion,
                message: "SWIM codec version \(version) is not supported (this build speaks \(Self.codecVersion))"
            )
        }
        let typeByte = try reader.readByte("message type")
        guard let type = MessageType(rawValue: typeByte) else {
            throw MembershipError(code: .unknownMessageType, message: "unknown SWIM message type \(typeByte)")
        }
        switch type {
        case .ping:
            let sequence = try reader.readVarint("ping.sequence")
            self = .ping(sequence: sequence, payload: try reader.readMembers("ping.payload"))
        case .pingRequest:
            let sequence = try reader.readVarint("pingRequest.sequence")
            let target = try reader.readMetadata("pingRequest.target")
            let timeout = try reader.readBounded("pingRequest.timeout", limit: Self.maxTimeout)
            let payload = try reader.readMembers("pingRequest.payload")
            self = .pingRequest(sequence: sequence, target: target, timeout: timeout, payload: payload)
        case .ack:
            let sequence = try reader.readVarint("ack.sequence")
            let target = try reader.readString("ack.target", maxBytes: Self.maxIdentifierBytes)
            let incarnation = try reader.readVarint("ack.incarnation")
            let payload = try reader.readMembers("ack.payload")
            self = .ack(sequence: sequence, target: target, incarnation: incarnation, payload: payload)
        case .nack:
            let sequence = try reader.readVarint("nack.sequence")
            let target = try reader.readString("nack.target", maxBytes: Self.maxIdentifierBytes)
            self = .nack(sequence: sequence, target: target)
        case .gossip:
            self = .gossip(payload: try reader.readMembers("gossip.payload"))
        case .pushPullRequest:
            self = .pushPullRequest(state: try reader.readMembers("pushPullRequest.state"))
        case .pushPullResponse:
            self = .pushPullResponse(state: try reader.readMembers("pushPullResponse.state"))
        case .leave:
            self = .leave(member: try reader.readMember("leave.member"))
        }
        guard reader.remaining == 0 else {
            throw MembershipError(
                code: .trailingBytes,
                message: "\(reader.remaining) bytes left after a complete \(self.kind) message"
            )
        }
    }
}

extension ByteWriter {
    fileprivate mutating func write(members: [Member]) {
        self.write(count: members.count, field: "members.count")
        for member in members {
            self.write(member: member)
        }
    }

    fileprivate mutating func write(member: Member) {
        self.write(metadata: member.metadata)
        switch member.status {
        case .alive(let incarnation):
            self.write(byte: 0)
            self.write(varint: incarnation)
        case .suspect(let incarnation, let suspectedBy):
            self.write(byte: 1)
            self.write(varint: incarnation)
            // Sorted so that equal states encode to equal bytes.
            let suspectors = suspectedBy.sorted()
            self.write(count: suspectors.count, field: "suspect.suspectedBy.count")
            for id in suspectors {
                self.write(string: id)
            }
        case .dead(let incarnation):
            self.write(byte: 2)
            self.write(varint: incarnation)
        case .left(let incarnation):
            self.write(byte: 3)
            self.write(varint: incarnation)
        }
    }

    fileprivate mutating func write(metadata: MemberMetadata) {
        self.write(string: metadata.id)
        self.write(string: metadata.peerAddress.host)
        self.write(count: metadata.peerAddress.port, field: "metadata.peerAddress.port")
        self.write(string: metadata.httpAddress.host)
        self.write(count: metadata.httpAddress.port, field: "metadata.httpAddress.port")
        self.write(string: metadata.build)
        self.write(byte: metadata.role.rawValue)
    }
}

extension ByteReader {
    /// The smallest encoded member: seven empty strings/zeros, a role and a status.
    private static let minimumMemberSize = 9

    fileprivate mutating func readMembers(_ field: @autoclosure () -> String) throws(MembershipError) -> [Member] {
        let count = try self.readCount(
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

    fileprivate mutating func readMember(_ field: @autoclosure () -> String) throws(MembershipError) -> Member {
        let metadata = try self.readMetadata("\(field()).metadata")
        let tag = try self.readByte("\(field()).status")
        let incarnation = try self.readVarint("\(field()).status.incarnation")
        let status: MemberStatus
        switch tag {
        case 0:
            status = .alive(incarnation: incarnation)
        case 1:
            let count = try self.readCount(
                "\(field()).status.suspectedBy",
                limit: SWIMMessage.maxSuspectors,
                minimumItemSize: 1
            )
            var suspectedBy = Set<String>()
            for index in 0..<count {
                suspectedBy.insert(
                    try self.readString(
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
            throw MembershipError(code: .invalidField, message: "\(field()).status has unknown tag \(tag)")
        }
        return Member(metadata: metadata, status: status)
    }

    fileprivate mutating func readMetadata(_ field: @autoclosure () -> String) throws(MembershipError) -> MemberMetadata {
        let id = try self.readString("\(field()).id", maxBytes: SWIMMessage.maxIdentifierBytes)
        guard !id.isEmpty else {
            throw MembershipError(code: .invalidField, message: "\(field()).id is empty")
        }
        let peerHost = try self.readString("\(field()).peerAddress.host", maxBytes: SWIMMessage.maxIdentifierBytes)
        let peerPort = try self.readBounded("\(field()).peerAddress.port", limit: 65_535)
        let httpHost = try self.readString("\(field()).httpAddress.host", maxBytes: SWIMMessage.maxIdentifierBytes)
        let httpPort = try self.readBounded("\(field()).httpAddress.port", limit: 65_535)
        let build = try self.readString("\(field()).build", maxBytes: SWIMMessage.maxBuildBytes)
        let roleByte = try self.readByte("\(field()).role")
        guard let role = MemberRole(rawValue: roleByte) else {
            throw MembershipError(code: .invalidField, message: "\(field()).role has unknown value \(roleByte)")
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
