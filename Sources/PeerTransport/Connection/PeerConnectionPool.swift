import Logging
import NIOCore
import NIOPosix
import NIOSSL
import Synchronization

/// One long-lived, authenticated TLS connection per peer, dialed on first use.
///
/// Concurrent callers share a dial in progress; a connection that closes is
/// forgotten, so the next call dials again (a restarted peer is reached without
/// anyone noticing more than the calls that were in flight when it went down).
/// State sits behind a `Mutex`; every future handed out is completed by NIO, so
/// no caller can be left waiting on a connection that will never come.
final class PeerConnectionPool: Sendable {
    private enum Entry: Sendable {
        case connecting(EventLoopFuture<any Channel>)
        case connected(any Channel)
    }

    private struct State: Sendable {
        var entries: [PeerAddress: Entry] = [:]
        var isShutdown = false
    }

    private enum Lookup {
        case ready(EventLoopFuture<any Channel>)
        case dial(EventLoopPromise<any Channel>)
        case shutDown
    }

    private let state = Mutex(State())
    private let group: any EventLoopGroup
    private let tls: PeerTLS
    private let configuration: PeerService.Configuration
    private let onRejected: PeerRejectionHandler
    private let logger: Logger

    init(group: any EventLoopGroup, tls: PeerTLS, configuration: PeerService.Configuration,
         onRejected: @escaping PeerRejectionHandler, logger: Logger) {
        self.group = group
        self.tls = tls
        self.configuration = configuration
        self.onRejected = onRejected
        self.logger = logger
    }

    /// An authenticated connection to `peer`, existing or new. Fails with a
    /// ``PeerError`` (connect, TLS or identity failure); never waits longer than the
    /// connect plus hello timeouts.
    func connection(to peer: PeerAddress) -> EventLoopFuture<any Channel> {
        let eventLoop = self.group.next()
        let lookup = self.state.withLock { state -> Lookup in
            guard !state.isShutdown else { return .shutDown }
            switch state.entries[peer] {
            case .connected(let channel) where channel.isActive:
                return .ready(channel.eventLoop.makeSucceededFuture(channel))
            case .connecting(let future):
                return .ready(future)
            case .connected, nil:
                let promise = eventLoop.makePromise(of: (any Channel).self)
                state.entries[peer] = .connecting(promise.futureResult)
                return .dial(promise)
            }
        }
        switch lookup {
        case .ready(let future):
            return future
        case .shutDown:
            return eventLoop.makeFailedFuture(PeerError(code: .shutdown, message: "peer service \"\(self.tls.identity.nodeID)\" is shut down"))
        case .dial(let promise):
            self.dial(peer, on: eventLoop).cascade(to: promise)
            promise.futureResult.whenComplete { result in self.settle(peer, promise.futureResult, result) }
            return promise.futureResult
        }
    }

    /// The open, authenticated connection to `peer`, if there is one now.
    func activeChannel(to peer: PeerAddress) -> (any Channel)? {
        self.state.withLock { state in
            guard !state.isShutdown, case .connected(let channel) = state.entries[peer], channel.isActive else { return nil }
            return channel
        }
    }

    /// Closes every connection and refuses new ones.
    func shutdown() async {
        let entries = self.state.withLock { state in
            state.isShutdown = true
            defer { state.entries = [:] }
            return Array(state.entries.values)
        }
        for entry in entries {
            switch entry {
            case .connected(let channel):
                try? await channel.close()
            case .connecting(let future):
                // `settle` sees the shutdown and closes it.
                _ = try? await future.get()
            }
        }
    }

    private func settle(_ peer: PeerAddress, _ future: EventLoopFuture<any Channel>, _ result: Result<any Channel, any Error>) {
        let channelToClose = self.state.withLock { state -> (any Channel)? in
            let isCurrent: Bool
            if case .connecting(let current) = state.entries[peer], current == future { isCurrent = true } else { isCurrent = false }
            switch result {
            case .failure:
                if isCurrent { state.entries[peer] = nil }
                return nil
            case .success(let channel):
                if state.isShutdown || !isCurrent { return channel }
                state.entries[peer] = .connected(channel)
                return nil
            }
        }
        if let channelToClose {
            channelToClose.close(promise: nil)
            return
        }
        guard case .success(let channel) = result else { return }
        channel.closeFuture.whenComplete { _ in
            self.state.withLock { state in
                if case .connected(let current) = state.entries[peer], current === channel {
                    state.entries[peer] = nil
                }
            }
        }
    }

    private func dial(_ peer: PeerAddress, on eventLoop: any EventLoop) -> EventLoopFuture<any Channel> {
        let established = eventLoop.makePromise(of: String.self)
        let logger = {
            var logger = self.logger
            logger[metadataKey: "peer"] = "\(peer.id)"
            return logger
        }()
        let tls = self.tls
        let configuration = self.configuration
        let onRejected = self.onRejected
        var bootstrap = ClientBootstrap(group: eventLoop)
        if let source = configuration.sourceAddress, let address = try? SocketAddress(ipAddress: source, port: 0) {
            bootstrap = bootstrap.bind(to: address)
        }
        return bootstrap
            .connectTimeout(TimeAmount(configuration.connectTimeout))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let sync = channel.pipeline.syncOperations
                    try sync.addHandler(NIOSSLClientHandler(context: tls.clientContext, serverHostname: nil))
                    try sync.addHandler(PeerFrameHandler(maxFrameSize: configuration.maxFrameSize))
                    try sync.addHandler(PeerSessionHandler(
                        local: tls.identity,
                        role: .client(expected: peer.id),
                        helloTimeout: TimeAmount(configuration.helloTimeout),
                        onRejected: onRejected,
                        logger: logger,
                        established: established
                    ))
                    try sync.addHandler(PeerClientHandler(peer: peer.id, logger: logger))
                }
            }
            .connect(host: peer.host, port: peer.port)
            .flatMapError { error in
                established.fail(error)
                return eventLoop.makeFailedFuture(PeerError(
                    code: .connectFailed,
                    message: "cannot connect to \"\(peer.id)\" at \(peer.host):\(peer.port): \(error)"
                ))
            }
            .flatMap { channel in
                established.futureResult.map { _ in channel }
            }
    }
}
