/// An error from the alerting core: a `[monitoring]` value out of range.
/// `code` is stable; `message` names the offending key as wrangler.toml
/// spells it (STYLE.md: validation at load with the key in the message).
public struct AlertingError: Error, Sendable, Hashable, CustomStringConvertible {
    /// Stable error codes, in the style of swift-service-lifecycle's `ServiceGroupError.Code`.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        public let rawValue: String

        private init(_ rawValue: String) { self.rawValue = rawValue }

        /// A threshold or timing in `[monitoring]` is out of range.
        public static let invalidThreshold = Code("alerting.invalid_threshold")
        /// A retry schedule that cannot work.
        public static let invalidRetrySchedule = Code("alerting.invalid_retry_schedule")

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
