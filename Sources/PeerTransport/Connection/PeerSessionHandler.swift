import Logging
import NIOCore
import NIOSSL
import X509

/// Authenticates a peer connection and guards it: the hello exchange, the node-id
/// check against the certificate, the hello deadline, and closing (with a logged
/// reason) on any TLS or framing error.
///
/// Sits right after the frame codec. The TLS chain has already been checked against
/// the cluster CA by BoringSSL; what this adds is the check DESIGN.md §6 asks for:
/// the `spiffe://ratelimit/<env>/<id>` in the peer's certificate must be the node we
/// dialed (client) or the node the client says it is in its hello (server). Until
/// that passes, no frame reaches the layer above.
///
/// Protocol: each side sends one `hello` frame whose payload is its node id. The
/// client sends first (it goes out once TLS is up); the server answers with its own
/// hello, or with an `error` frame stating the reason and closes.
final class PeerSessionHandler: ChannelInboundHandler {
    typealias InboundIn = PeerFrame
    typealias InboundOut = PeerFrame
    typealias OutboundOut = PeerFrame

    enum Role {
        /// Accepting side: any node of our environment, as long as its hello matches its certificate.
        case server
        /// Dialing side: only `expected` may answer.
        case client(expected: String)
    }

    private enum State {
        case awaitingHello
        case established(peer: String)
        case closed
    }

    private let local: NodeIdentity
    private let role: Role
    private let helloTimeout: TimeAmount
    private let onRejected: PeerRejectionHandler
    private var logger: Logger
    private var state = State.awaitingHello
    private var helloDeadline: Scheduled<Void>?
    /// Completed with the peer's node id once authenticated, failed with a
    /// ``PeerError`` otherwise. Callers on the client side wait for it before sending.
    let established: EventLoopPromise<String>

    init(local: NodeIdentity, role: Role, helloTimeout: TimeAmount, onRejected: @escaping PeerRejectionHandler, logger: Logger,
         established: EventLoopPromise<String>) {
        self.local = local
        self.role = role
        self.helloTimeout = helloTimeout
        self.onRejected = onRejected
        self.logger = logger
        self.established = established
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if let remote = context.channel.remoteAddress {
            self.logger[metadataKey: "peer.address"] = "\(remote)"
        }
        self.helloDeadline = context.eventLoop.assumeIsolated().scheduleTask(in: self.helloTimeout) {
            self.fail(context: context, PeerError(
                code: .handshakeFailed,
                message: "\(self.describePeer) did not complete the TLS and hello exchange within \(self.helloTimeout)"
            ), rejecting: .handshake)
        }
        if context.channel.isActive { self.sendHelloIfClient(context: context) }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.helloDeadline?.cancel()
        self.established.fail(PeerError(code: .connectionClosed, message: "connection to \(self.describePeer) was closed"))
    }

    func channelActive(context: ChannelHandlerContext) {
        if let remote = context.channel.remoteAddress {
            self.logger[metadataKey: "peer.address"] = "\(remote)"
        }
        self.sendHelloIfClient(context: context)
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        if case .awaitingHello = self.state {
            self.state = .closed
            self.helloDeadline?.cancel()
            self.established.fail(PeerError(
                code: .connectionClosed,
                message: "\(self.describePeer) closed the connection before the hello exchange completed"
            ))
        }
        self.state = .closed
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch self.state {
        case .established:
            // Passed on as it came: unwrapping a frame is a dynamic cast.
            context.fireChannelRead(data)
        case .closed:
            return
        case .awaitingHello:
            self.authenticate(context: context, hello: self.unwrapInboundIn(data))
        }
    }

    /// TLS failures (unknown CA, missing certificate), framing errors (oversize,
    /// garbage, truncation): log why, report the rejection, and close this
    /// connection only. Other errors (a reset, a closed channel) are a
    /// connection ending, not input to refuse.
    func errorCaught(context: ChannelHandlerContext, error: Error) {
        let peerError: PeerError
        let rejection: PeerRejection.Reason?
        switch error {
        case let error as PeerFrameError:
            peerError = PeerError(code: .connectionClosed, message: "bad frame from \(self.describePeer): \(error)")
            if case .tooLarge = error.reason { rejection = .oversize } else { rejection = .badFrame }
        case NIOSSLError.uncleanShutdown:
            // The peer went away without close_notify (killed, crashed): not our concern.
            self.logger.debug("peer connection ended without TLS close_notify")
            self.close(context: context)
            return
        case let error as NIOSSLError:
            peerError = PeerError(code: .handshakeFailed, message: "TLS with \(self.describePeer) failed: \(error)")
            rejection = .handshake
        case let error as BoringSSLError:
            peerError = PeerError(code: .handshakeFailed, message: "TLS with \(self.describePeer) failed: \(error)")
            rejection = .handshake
        default:
            peerError = PeerError(code: .connectionClosed, message: "connection to \(self.describePeer) failed: \(error)")
            rejection = nil
        }
        self.fail(context: context, peerError, rejecting: rejection)
    }

    // MARK: - Hello

    private func sendHelloIfClient(context: ChannelHandlerContext) {
        guard case .client = self.role, case .awaitingHello = self.state else { return }
        // NIOSSLHandler holds this write until the handshake completes.
        context.writeAndFlush(
            self.wrapOutboundOut(PeerFrame(kind: .hello, correlationID: 0, text: self.local.nodeID)),
            promise: nil
        )
    }

    private func authenticate(context: ChannelHandlerContext, hello: PeerFrame) {
        if case .client = self.role, hello.kind == .error {
            // The server refused us and said why.
            self.fail(context: context, PeerError(code: .identityMismatch, message: "\(self.describePeer) refused us: \(hello.text)"))
            return
        }
        guard hello.kind == .hello else {
            self.refuse(context: context, "expected a hello frame first, got \(hello.kind)", as: .badFrame)
            return
        }
        let claimed = hello.text
        guard NodeIdentity.isValidName(claimed) else {
            self.refuse(context: context, "hello names an invalid node id \(String(reflecting: claimed))")
            return
        }
        let certified: NodeIdentity
        switch Self.peerIdentity(context: context) {
        case .identity(let identity):
            certified = identity
        case .unusable(let reason):
            self.refuse(context: context, reason)
            return
        }
        guard certified.environment == self.local.environment else {
            self.refuse(
                context: context,
                "peer certificate is for environment \"\(certified.environment)\", but we are \"\(self.local.environment)\""
            )
            return
        }
        switch self.role {
        case .server:
            guard certified.nodeID == claimed else {
                self.refuse(context: context, "peer certificate is for \"\(certified.nodeID)\", but it claims to be \"\(claimed)\"")
                return
            }
            self.accept(context: context, peer: claimed)
            context.writeAndFlush(
                self.wrapOutboundOut(PeerFrame(kind: .hello, correlationID: 0, text: self.local.nodeID)),
                promise: nil
            )
            // The layer above learns who is talking from this first frame.
            context.fireChannelRead(self.wrapInboundOut(hello))
        case .client(let expected):
            guard certified.nodeID == expected else {
                self.refuse(context: context, "peer certificate is for \"\(certified.nodeID)\", but we dialed \"\(expected)\"")
                return
            }
            guard claimed == expected else {
                self.refuse(context: context, "peer certificate is for \"\(certified.nodeID)\", but it claims to be \"\(claimed)\"")
                return
            }
            self.accept(context: context, peer: claimed)
        }
    }

    private func accept(context: ChannelHandlerContext, peer: String) {
        self.state = .established(peer: peer)
        self.helloDeadline?.cancel()
        self.logger[metadataKey: "peer"] = "\(peer)"
        switch self.role {
        case .server: self.logger.debug("accepted peer")
        case .client: self.logger.debug("connected to peer")
        }
        self.established.succeed(peer)
    }

    /// Refuses an authenticated-by-CA peer whose identity (or first frame) does not
    /// fit: tell it why (server side) so the operator on the other end sees the
    /// reason too, then close.
    private func refuse(context: ChannelHandlerContext, _ reason: String, as rejection: PeerRejection.Reason = .identity) {
        if case .server = self.role, context.channel.isActive {
            context.writeAndFlush(self.wrapOutboundOut(PeerFrame(kind: .error, correlationID: 0, text: reason)), promise: nil)
        }
        self.fail(context: context, PeerError(code: .identityMismatch, message: reason), rejecting: rejection)
    }

    /// Closes the connection; the first failure on it is logged and, when the
    /// peer's input is to blame (`rejecting`), reported once.
    private func fail(context: ChannelHandlerContext, _ error: PeerError, rejecting rejection: PeerRejection.Reason? = nil) {
        if case .closed = self.state {} else {
            self.logger.warning("closing peer connection: \(error.message)", metadata: ["error.code": "\(error.code)"])
            if let rejection {
                self.onRejected(PeerRejection(reason: rejection, peer: self.peerName, message: error.message))
            }
        }
        self.state = .closed
        self.helloDeadline?.cancel()
        self.established.fail(error)
        self.close(context: context)
    }

    private func close(context: ChannelHandlerContext) {
        self.state = .closed
        context.close(promise: nil)
    }

    /// The peer's node id once known, else its address.
    private var peerName: String {
        switch (self.state, self.role) {
        case (.established(let peer), _): return peer
        case (_, .client(let expected)): return expected
        case (_, .server): return self.logger[metadataKey: "peer.address"].map { "\($0)" } ?? "(unknown address)"
        }
    }

    private var describePeer: String {
        switch (self.state, self.role) {
        case (.established(let peer), _): return "peer \"\(peer)\""
        case (_, .client(let expected)): return "peer \"\(expected)\""
        case (_, .server): return "peer \(self.logger[metadataKey: "peer.address"].map { "\($0)" } ?? "(unknown address)")"
        }
    }

    private enum PresentedIdentity {
        case identity(NodeIdentity)
        case unusable(reason: String)
    }

    /// The node identity in the certificate the peer presented during the handshake.
    private static func peerIdentity(context: ChannelHandlerContext) -> PresentedIdentity {
        let presented: NIOSSLCertificate?
        do {
            presented = try context.pipeline.syncOperations.nioSSL_peerCertificate()
        } catch {
            return .unusable(reason: "no TLS handler on the peer connection: \(error)")
        }
        guard let presented else { return .unusable(reason: "peer presented no certificate") }
        let certificate: Certificate
        do {
            certificate = try Certificate(derEncoded: presented.toDERBytes())
        } catch {
            return .unusable(reason: "peer certificate cannot be parsed: \(error)")
        }
        guard let identity = NodeIdentity(certificate: certificate) else {
            return .unusable(reason: "peer certificate has no single spiffe://ratelimit/<env>/<id> URI SAN")
        }
        return .identity(identity)
    }
}
