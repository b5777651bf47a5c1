/// Peer input the transport refused, reported to the `onRejected` handler of
/// ``PeerService`` so the node can count it (the transport keeps no metrics
/// of its own). Only input a peer is to blame for is reported: a connection
/// that merely drops (reset, closed without TLS close_notify, refused) is
/// not a rejection.
///
/// Every rejection but ``Reason/overload`` closes the one connection it
/// came on; other connections, inbound and outbound, are untouched.
public struct PeerRejection: Sendable, Hashable, CustomStringConvertible {
    public enum Reason: String, Sendable, Hashable, CaseIterable {
        /// Bytes that are not a frame of this protocol: a length shorter than
        /// the header, an unknown version or kind, a stream that ends inside a
        /// frame, a first frame that is not a hello, or a response or error
        /// frame from a client (only servers send those).
        case badFrame = "bad_frame"
        /// A length prefix above ``PeerService/Configuration/maxFrameSize``,
        /// refused from its four bytes before anything is buffered.
        case oversize
        /// The connection did not authenticate: TLS failed (no client
        /// certificate, a certificate not chained to the cluster CA, bytes
        /// that are not TLS 1.3) or TLS and the hello did not complete within
        /// ``PeerService/Configuration/helloTimeout``.
        case handshake
        /// A certificate from the cluster CA whose identity does not fit: no
        /// single SPIFFE id, another environment, another node than the hello
        /// claims (server) or than the one dialed (client), or an invalid
        /// node id in the hello.
        case identity
        /// A request beyond ``PeerService/Configuration/maxRequestsInFlight``
        /// on one connection: answered at once with an error frame; the
        /// connection stays open.
        case overload
    }

    public let reason: Reason
    /// The peer's node id once authenticated (on a connection this node
    /// dialed, the id it dialed), else its address.
    public let peer: String
    /// Why, as logged.
    public let message: String

    public init(reason: Reason, peer: String, message: String) {
        self.reason = reason
        self.peer = peer
        self.message = message
    }

    public var description: String { "\(self.reason.rawValue) from \(self.peer): \(self.message)" }
}

/// Called for each ``PeerRejection``, on the connection's event loop or its
/// task, from any thread; must not block.
public typealias PeerRejectionHandler = @Sendable (PeerRejection) -> Void
