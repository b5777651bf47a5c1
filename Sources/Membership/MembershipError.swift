/// An error from the membership core: bytes that are not a valid SWIM
/// message, or settings that cannot work. `code` is stable (tests, logs and
/// metrics may match on it); `message` is for humans and names the field.
public struct MembershipError: Error, Sendable, Hashable, CustomStringConvertible {
    /// Stable error codes, in the style of swift-service-lifecycle's `ServiceGroupError.Code`.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        public let rawValue: String

        private init(_ rawValue: String) { self.rawValue = rawValue }

        /// The input ended in the middle of a field.
        public static let truncated = Code("membership.truncated")
        /// The first byte is not a codec version this build understands.
        public static let unsupportedVersion = Code("membership.unsupported_version")
        /// The message type byte is unknown.
        public static let unknownMessageType = Code("membership.unknown_message_type")
        /// A field held a value outside its domain (bad enum tag, port > 65535, overlong varint...).
        public static let invalidField = Code("membership.invalid_field")
        /// A length or count is larger than the codec allows or than the input holds.
        public static let lengthTooLarge = Code("membership.length_too_large")
        /// Bytes were left over after a complete message.
        public static let trailingBytes = Code("membership.trailing_bytes")
        /// A setting is out of range.
        public static let invalidSetting = Code("membership.invalid_setting")

        public var description: String { self.rawValue }
    }

    public let code: Code
    public let message: String

    public init(code: Code, message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(self.code): \(self.message)" }
}
