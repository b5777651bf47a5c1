import NIOCore

/// One message on a peer connection.
///
/// Wire format (big-endian), after the TLS record layer:
///
///     UInt32 length   -- bytes that follow: 10 + payload.count
///     UInt8  version  -- 1
///     UInt8  kind     -- see ``Kind``
///     UInt64 correlation id
///     payload
///
/// The length prefix lets a reader reject an oversize frame before buffering it;
/// the correlation id lets many requests share one connection and be answered out
/// of order.
public struct PeerFrame: Sendable, Hashable {
    /// The only wire version this build speaks.
    public static let version: UInt8 = 1
    /// Bytes after the length field that are not payload: version, kind, correlation id.
    public static let headerSize = 10
    /// The default cap on `length`: 4 MiB.
    public static let defaultMaxFrameSize = 4 * 1024 * 1024

    public enum Kind: UInt8, Sendable, Hashable, CaseIterable {
        /// First frame in each direction: the payload is the sender's node id (UTF-8).
        case hello = 1
        /// Expects a `response` (or `error`) with the same correlation id.
        case request = 2
        case response = 3
        /// Fire-and-forget; never answered.
        case oneway = 4
        /// The request with this correlation id failed; the payload is a UTF-8
        /// reason. Correlation id 0 is about the whole connection.
        case error = 5
    }

    public var kind: Kind
    public var correlationID: UInt64
    public var payload: ByteBuffer

    public init(kind: Kind, correlationID: UInt64, payload: ByteBuffer) {
        self.kind = kind
        self.correlationID = correlationID
        self.payload = payload
    }

    /// A frame whose payload is UTF-8 text (hello and error frames).
    init(kind: Kind, correlationID: UInt64, text: String) {
        self.init(kind: kind, correlationID: correlationID, payload: ByteBuffer(string: text))
    }

    /// The payload read as UTF-8 (hello and error frames).
    var text: String { String(buffer: self.payload) }
}
