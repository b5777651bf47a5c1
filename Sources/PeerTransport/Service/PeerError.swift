/// Why a peer request or send failed.
///
/// A struct with a stable ``code`` and a human ``message`` naming the peer, in the
/// style of swift-service-lifecycle's `ServiceGroupError`. Match on the code:
/// `catch let error { if error.code == .timeout { ... } }`.
public struct PeerError: Error, Sendable, Hashable, CustomStringConvertible {
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        private let name: String
        private init(_ name: String) { self.name = name }
        public var description: String { self.name }

        /// No answer before the deadline; the request may still run on the peer.
        public static let timeout = Code("timeout")
        /// TCP connect failed (peer down, wrong port).
        public static let connectFailed = Code("connect_failed")
        /// TLS handshake failed: unknown CA, no certificate, bad certificate.
        public static let handshakeFailed = Code("handshake_failed")
        /// The peer's certificate names another node or environment, or the peer
        /// refused ours.
        public static let identityMismatch = Code("identity_mismatch")
        /// The connection dropped while the request was in flight. The request may or
        /// may not have run on the peer.
        public static let connectionClosed = Code("connection_closed")
        /// The payload is larger than the frame size cap.
        public static let frameTooLarge = Code("frame_too_large")
        /// The peer answered with an error frame.
        public static let remote = Code("remote")
        /// The peer service was shut down.
        public static let shutdown = Code("shutdown")
        /// The calling task was cancelled.
        public static let cancelled = Code("cancelled")
        /// Binding the peer port failed.
        public static let bindFailed = Code("bind_failed")
    }

    public let code: Code
    public let message: String

    public init(code: Code, message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(self.code): \(self.message)" }
}
