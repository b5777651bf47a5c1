/// One check as a chaos client made it: the first attempt, and a retry on
/// another live node when the first failed.
public struct ClientOperation: Sendable, Hashable {
    public var key: String
    public var rule: String
    public var attempts: [Attempt]

    public init(key: String, rule: String, attempts: [Attempt]) {
        self.key = key
        self.rule = rule
        self.attempts = attempts
    }

    /// One request to one node. Times are Unix-epoch milliseconds on the
    /// client: `sentMs` rounded down before the request was written,
    /// `receivedMs` rounded up after the answer was read, so the instant the
    /// cluster decided lies inside `[sentMs, receivedMs]`.
    public struct Attempt: Sendable, Hashable {
        public var node: String
        public var sentMs: Int64
        public var receivedMs: Int64
        /// Whether the node asked was running and not frozen for the whole
        /// attempt, as the driver knew it (no fault hit it meanwhile).
        public var nodeWasLive: Bool
        public var result: Result

        public enum Result: Sendable, Hashable {
            /// A 200 with `allowed`.
            case answered(allowed: Bool)
            /// No decision: refused, timed out, closed, or a status other than 200.
            case failed(reason: String)
        }

        public init(node: String, sentMs: Int64, receivedMs: Int64, nodeWasLive: Bool, result: Result) {
            self.node = node
            self.sentMs = sentMs
            self.receivedMs = receivedMs
            self.nodeWasLive = nodeWasLive
            self.result = result
        }
    }
}
