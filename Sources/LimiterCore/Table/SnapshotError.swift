/// A snapshot that cannot be read: truncated, corrupted, of an unknown version, or holding
/// values outside what the algorithms accept. Decoding never traps on any input.
public struct SnapshotError: Error, Sendable, Hashable, CustomStringConvertible {
    public struct Code: RawRepresentable, Sendable, Hashable, CustomStringConvertible {
        public var rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }

        /// Shorter than its header, or it ends inside a field.
        public static let truncated = Code(rawValue: "snapshot_truncated")
        /// Does not start with the snapshot magic bytes.
        public static let badMagic = Code(rawValue: "snapshot_bad_magic")
        /// Written by a newer format version.
        public static let unsupportedVersion = Code(rawValue: "snapshot_unsupported_version")
        /// The CRC-32 trailer does not match the content.
        public static let checksumMismatch = Code(rawValue: "snapshot_checksum_mismatch")
        /// A field holds a value no valid table can contain.
        public static let invalidValue = Code(rawValue: "snapshot_invalid_value")
    }

    public var code: Code
    public var message: String

    public init(code: Code, message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(code): \(message)" }
}
