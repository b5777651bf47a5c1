import NIOCore
import NIOPosix
@testable import NodeServer
import Testing
import TestSupport

/// The handlers HTTPServer puts first on every connection, on a real event
/// loop and a real socket: NIO's IdleStateHandler measures idleness on the
/// real clock, so a virtual-time loop cannot show it.
@Suite("Idle keep-alive connections")
struct IdleConnectionTests {
    func withServer(timeout: TimeAmount, _ body: (Int) async throws -> Void) async throws {
        let server = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandlers(IdleStateHandler(readTimeout: timeout), IdleConnectionCloser())
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        do {
            try await body(server.localAddress!.port!)
        } catch {
            try? await server.close()
            throw error
        }
        try await server.close()
    }

    func connect(_ port: Int) async throws -> any Channel {
        try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton).connect(host: "127.0.0.1", port: port).get()
    }

    @Test("A connection that sends nothing for the idle timeout is closed by the server")
    func closesWhenIdle() async throws {
        try await withServer(timeout: .milliseconds(300)) { port in
            // Taken before connecting: the server's idle clock starts at accept,
            // which a loaded machine may report to the client much later.
            let opened = ContinuousClock.now
            let client = try await connect(port)
            try await poll("the server closes the idle connection", within: .seconds(10)) { !client.isActive }
            #expect(ContinuousClock.now - opened >= .milliseconds(300))
        }
    }

    @Test("Traffic keeps a connection open past the idle timeout; silence then closes it")
    func trafficKeepsItOpen() async throws {
        // A 4 s timeout: on a loaded 2-core machine this task has stalled for
        // more than 1.5 s between two writes.
        try await withServer(timeout: .milliseconds(4_000)) { port in
            let client = try await connect(port)
            let until = ContinuousClock.now + .milliseconds(6_000)
            while ContinuousClock.now < until {
                try await client.writeAndFlush(ByteBuffer(string: "x"))
                try await Task.sleep(for: .milliseconds(100))  // Paces the client's own traffic.
            }
            #expect(client.isActive, "6 s of traffic 100 ms apart against a 4 s idle timeout")
            try await poll("the server closes the connection once it is quiet", within: .seconds(10)) { !client.isActive }
        }
    }
}
