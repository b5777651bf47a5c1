/// The frame of every message nodes exchange: protocol version, message
/// type, then the type's fields.
///
///     envelope := version:u8 type:varint body
///
/// How a cluster in a rolling upgrade keeps talking (protobuf's rules,
/// without field tags):
/// - a newer build only appends fields to a message type's body, so an
///   older reader decodes the fields it knows and ignores the rest
///   (``finish(_:)`` is lenient exactly when the sender is newer);
/// - a newer build may add message types; a reader answers an unknown type
///   with a problem instead of closing the connection;
/// - a build still reads every version from ``minimumVersion`` up.
public struct Envelope: Sendable {
    /// The version this build writes. 3 added forwarded checks' failover
    /// lists; 4, results that name the rule, version and node of a decision
    /// only when they differ from the previous decision's (sent to a reader
    /// of 4 or later).
    public static let currentVersion: UInt8 = 4
    /// The oldest version this build reads.
    public static let minimumVersion: UInt8 = 2

    public let version: UInt8
    public let type: UInt64
    /// Positioned at the body.
    public var body: WireReader

    /// Reads the header of untrusted bytes.
    public init(opening bytes: [UInt8]) throws(WireError) {
        var reader = WireReader(bytes)
        let version = try reader.byte("envelope version")
        guard version >= Self.minimumVersion else {
            throw reader.error(.unsupportedVersion,
                               "protocol version \(version) is older than this build reads (\(Self.minimumVersion)...)")
        }
        self.version = version
        type = try reader.varint("envelope type")
        body = reader
    }

    /// Whether the sender is a newer build whose messages may carry fields
    /// this build does not know.
    public var isFromNewerVersion: Bool { version > Self.currentVersion }

    /// Ends decoding a body: trailing bytes are an error from a sender of
    /// this build's version or older, and a newer sender's added fields.
    public func finish(_ what: @autoclosure () -> String) throws(WireError) {
        if !isFromNewerVersion { try body.expectEnd(what()) }
    }

    /// A message of `type` whose fields `write` appends.
    public static func seal(type: UInt64, capacity: Int = 64, version: UInt8 = currentVersion,
                            _ write: (inout WireWriter) -> Void) -> [UInt8] {
        var writer = WireWriter(capacity: capacity)
        writer.byte(version)
        writer.varint(type)
        write(&writer)
        return writer.bytes
    }
}
