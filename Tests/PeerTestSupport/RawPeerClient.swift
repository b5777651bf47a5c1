import NIOCore
import NIOPosix
import NIOSSL
// The frame codec is internal to PeerTransport: this target is only built for
// tests, in debug, where SwiftPM compiles every module for testing.
@testable import PeerTransport

/// A bare TLS client without the session handler, to behave badly on purpose:
/// no certificate, junk bytes, oversize or truncated frames, a hello that
/// names another node than its certificate. Works against an in-process
/// `PeerService` and against a real node's peer port alike.
public enum RawPeerClient {
    /// TLS 1.3 trusting the CA in `trustedCertsDirectory`, presenting `node`'s
    /// certificate and key (or none) from `certsDirectory` (by default the
    /// same directory). Directories use the `ClusterCertificates` file layout.
    public static func tlsConfiguration(
        trustingCAIn trustedCertsDirectory: String,
        certificateOf node: String?,
        from certsDirectory: String? = nil
    ) throws -> TLSConfiguration {
        let certsDirectory = certsDirectory ?? trustedCertsDirectory
        var configuration = TLSConfiguration.makeClientConfiguration()
        configuration.minimumTLSVersion = .tlsv13
        configuration.certificateVerification = .noHostnameVerification
        configuration.trustRoots = .file(ClusterCertificates.caCertificatePath(directory: trustedCertsDirectory))
        if let node {
            configuration.certificateChain = try NIOSSLCertificate
                .fromPEMFile(ClusterCertificates.certificatePath(directory: certsDirectory, node: node))
                .map { .certificate($0) }
            configuration.privateKey = .privateKey(
                try NIOSSLPrivateKey(file: ClusterCertificates.keyPath(directory: certsDirectory, node: node), format: .pem)
            )
        }
        return configuration
    }

    /// A TLS connection that writes raw bytes and reads raw bytes.
    public static func connectBytes(port: Int, tls: TLSConfiguration) async throws -> NIOAsyncChannel<ByteBuffer, ByteBuffer> {
        let context = try NIOSSLContext(configuration: tls)
        return try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connect(host: "127.0.0.1", port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(NIOSSLClientHandler(context: context, serverHostname: nil))
                    return try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                }
            }
    }

    /// A plain TCP connection, no TLS: for bytes that are not TLS at all.
    public static func connectPlain(port: Int) async throws -> NIOAsyncChannel<ByteBuffer, ByteBuffer> {
        try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connect(host: "127.0.0.1", port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                }
            }
    }

    /// `frame` as it travels on the wire (length prefix, header, payload), to
    /// write through ``connectBytes(port:tls:)`` and cut or alter on purpose.
    public static func encoded(_ frame: PeerFrame) throws -> ByteBuffer {
        var buffer = ByteBuffer()
        try PeerFrameEncoder().encode(data: frame, out: &buffer)
        return buffer
    }

    /// A TLS connection speaking frames, but with no hello or identity logic of its own.
    public static func connectFrames(port: Int, tls: TLSConfiguration) async throws -> NIOAsyncChannel<PeerFrame, PeerFrame> {
        let context = try NIOSSLContext(configuration: tls)
        return try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connect(host: "127.0.0.1", port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    let sync = channel.pipeline.syncOperations
                    try sync.addHandler(NIOSSLClientHandler(context: context, serverHostname: nil))
                    try sync.addHandler(ByteToMessageHandler(PeerFrameDecoder()))
                    try sync.addHandler(MessageToByteHandler(PeerFrameEncoder()))
                    return try NIOAsyncChannel<PeerFrame, PeerFrame>(wrappingChannelSynchronously: channel)
                }
            }
    }
}

extension NIOAsyncChannelInboundStream {
    /// Everything received until the server closes the connection (errors count as closing).
    public func collectUntilClosed() async -> [Inbound] {
        var received: [Inbound] = []
        do {
            for try await element in self { received.append(element) }
        } catch {}
        return received
    }
}
