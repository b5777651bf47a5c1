/// Bytes from a peer or a file that are not what the codec expects. `code`
/// is stable (tests and metrics match on it); `message` names the field.
public struct WireError: Error, Sendable, Hashable, CustomStringConvertible {
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        public let rawValue: String
        private init(_ rawValue: String) { self.rawValue = rawValue }

        /// The input ended in the middle of a field.
        public static let truncated = Code("wire.truncated")
        /// A field holds a value outside its domain (bad tag, overlong varint, invalid UTF-8).
        public static let invalidField = Code("wire.invalid_field")
        /// A length or count is larger than the codec allows or than the input holds.
        public static let lengthTooLarge = Code("wire.length_too_large")
        /// The envelope's protocol version is older than this build still reads.
        public static let unsupportedVersion = Code("wire.unsupported_version")
        /// Bytes were left after a complete message of this build's own version.
        public static let trailingBytes = Code("wire.trailing_bytes")

        public var description: String { rawValue }
    }

    public let code: Code
    public let message: String

    public init(code: Code, message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(code): \(message)" }
}
