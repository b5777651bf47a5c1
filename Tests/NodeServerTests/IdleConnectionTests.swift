import NIOCore
import NIOPosix
@testable import NodeServer
import Testing
import TestSupport

/// The handlers HTTPServer puts first on every connection, on a real event
/// loop and a real socket: NIO's IdleStateHandler measures idleness on the
/// real clock, so a virtual-time loop cannot show it. Server and client run
/// on event loops of their own, which no other test running beside these
/// can hold up (a stalled loop reads late, and late reads look idle).
@Suite("Idle keep-alive connections")
struct IdleConnectionTests {
    func withServer(timeout: TimeAmount, _ body: (Int, any EventLoopGroup) async throws -> Void) async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
        defer { group.shutdownGracefully { _ in } }
        let server = try await ServerBootstrap(group: group.next())
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandlers(IdleStateHandler(readTimeout: timeout), IdleConnectionCloser())
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        do {
            try await body(server.localAddress!.port!, group)
        } catch {
            try? await server.close()
            throw error
        }
        try await server.close()
    }

    func connect(_ port: Int, on group: any EventLoopGroup) async throws -> any Channel {
        try await ClientBootstrap(group: group.next()).connect(host: "127.0.0.1", port: port).get()
    }

    @Test("A connection that sends nothing for the idle timeout is closed by the server")
    func closesWhenIdle() async throws {
        try await withServer(timeout: .milliseconds(300)) { port, group in
            // Taken before connecting: the server's idle clock starts at accept,
            // which a loaded machine may report to the client much later.
            let opened = ContinuousClock.now
            let client = try await connect(port, on: group)
            try await poll("the server closes the idle connection", within: .seconds(10)) { !client.isActive }
            #expect(ContinuousClock.now - opened >= .milliseconds(300))
        }
    }

    @Test("Traffic keeps a connection open past the idle timeout; silence then closes it")
    func trafficKeepsItOpen() async throws {
        try await withServer(timeout: .milliseconds(1_500)) { port, group in
            // The client writes from its event loop, every 100 ms for 3 s, starting
            // on that loop the moment it connects: a loop thread, unlike this test's
            // task, is not starved when other tests keep the cooperative pool's
            // threads busy, and the server's idle clock starts at accept.
            let loop = group.next()
            let done = loop.makePromise(of: Bool.self)
            let client = try await ClientBootstrap(group: loop).connect(host: "127.0.0.1", port: port).map { client in
                let started = NIODeadline.now()
                loop.scheduleRepeatedTask(initialDelay: .zero, delay: .milliseconds(100)) { task in
                    guard NIODeadline.now() - started < .milliseconds(3_000) else {
                        task.cancel()
                        done.succeed(client.isActive)
                        return
                    }
                    client.writeAndFlush(ByteBuffer(string: "x"), promise: nil)
                }
                return client
            }.get()
            let openAfterTraffic = try await done.futureResult.get()
            #expect(openAfterTraffic, "3 s of traffic 100 ms apart against a 1.5 s idle timeout")
            try await poll("the server closes the connection once it is quiet", within: .seconds(10)) { !client.isActive }
        }
    }
}
