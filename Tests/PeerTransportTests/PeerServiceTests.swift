import NIOCore
import NIOPosix
import Synchronization
import Testing
import TestSupport
@testable import PeerTransport

@Suite("Peer service requests", .timeLimit(.minutes(1)))
struct PeerServiceTests {
    @Test("two nodes of the same CA exchange a request and its response, and the server learns who asked")
    func requestResponse() async throws {
        try await withInProcessPeerCluster { cluster in
            let server = try cluster.service("n2")
            let client = try cluster.service("n1")
            try await whileServing(server) { port in
                let reply = try await client.request(to: .local("n2", port), payload: ByteBuffer(string: "ping"), timeout: .seconds(10))
                #expect(String(buffer: reply) == "n1:ping")
            }
            await client.shutdown()
        }
    }

    /// The callback form of `request`, awaited.
    static func callbackRequest(_ client: PeerService, to peer: PeerAddress, _ text: String,
                                timeout: Duration = .seconds(10)) async -> (Result<ByteBuffer, any Error>, onLoop: Bool) {
        await withCheckedContinuation { continuation in
            client.request(to: peer, payload: ByteBuffer(string: text), timeout: timeout) { result in
                continuation.resume(returning: (result, MultiThreadedEventLoopGroup.currentEventLoop != nil))
            }
        }
    }

    @Test("the callback form of request dials a first connection, reuses it, keeps its deadline, and answers on an event loop")
    func callbackRequest() async throws {
        try await withInProcessPeerCluster { cluster in
            let (gate, release) = AsyncStream.makeStream(of: Void.self)
            let server = try cluster.service("n2") { from, payload in
                if String(buffer: payload) == "slow" {
                    for await _ in gate {}
                }
                return ByteBuffer(string: "\(from):\(String(buffer: payload))")
            }
            let client = try cluster.service("n1")
            try await whileServing(server) { port in
                let peer = PeerAddress.local("n2", port)
                // No connection yet: the future-based path dials it.
                let (first, firstOnLoop) = await Self.callbackRequest(client, to: peer, "one")
                #expect((try? first.get()).map { String(buffer: $0) } == "n1:one")
                #expect(firstOnLoop)
                // Now over the open connection, from outside any event loop.
                let opened = try #require(client.pool.activeChannel(to: peer))
                let (second, secondOnLoop) = await Self.callbackRequest(client, to: peer, "two")
                #expect((try? second.get()).map { String(buffer: $0) } == "n1:two")
                #expect(client.pool.activeChannel(to: peer) === opened, "the second request dialled a new connection")
                #expect(secondOnLoop)
                let clock = ContinuousClock()
                let started = clock.now
                let (slow, _) = await Self.callbackRequest(client, to: peer, "slow", timeout: .milliseconds(200))
                if case .failure(let error) = slow {
                    #expect((error as? PeerError)?.code == .timeout)
                } else {
                    Issue.record("a request the server holds past its deadline was answered")
                }
                #expect(clock.now - started < .seconds(5))
                release.finish()
            }
            await client.shutdown()
        }
    }

    @Test("requests beyond the per-connection limit are refused at once with an error naming it, reported as overload; the others are answered")
    func inFlightLimit() async throws {
        try await withInProcessPeerCluster { cluster in
            let gate = AsyncStream<Void>.makeStream()
            let held = Atomic<Int>(0)
            var configuration = PeerService.Configuration()
            configuration.maxRequestsInFlight = 3
            let server = try cluster.service("n2", configuration: configuration) { from, payload in
                held.wrappingAdd(1, ordering: .relaxed)
                for await _ in gate.stream { break }
                return ByteBuffer(string: "\(from):\(String(buffer: payload))")
            }
            let client = try cluster.service("n1")
            try await whileServing(server) { port in
                let peer = PeerAddress.local("n2", port)
                try await withThrowingTaskGroup(of: String.self) { group in
                    for index in 0..<3 {
                        group.addTask { String(buffer: try await client.request(to: peer, payload: ByteBuffer(string: "\(index)"), timeout: .seconds(20))) }
                    }
                    try await poll("three requests held", within: .seconds(10)) { held.load(ordering: .relaxed) == 3 }
                    let error = await #expect(throws: PeerError.self) {
                        _ = try await client.request(to: peer, payload: ByteBuffer(string: "one too many"), timeout: .seconds(10))
                    }
                    #expect(error?.message.contains("more than 3 requests in flight") == true, "\(String(describing: error))")
                    #expect(cluster.rejections.rejections(of: "n2").map(\.reason) == [.overload])
                    #expect(cluster.rejections.rejections(of: "n2").first?.peer == "n1")
                    gate.continuation.finish()
                    var answers: [String] = []
                    for try await answer in group { answers.append(answer) }
                    #expect(answers.sorted() == ["n1:0", "n1:1", "n1:2"])
                }
            }
            await client.shutdown()
        }
    }

    @Test("1,000 concurrent requests share one connection and each gets its own answer")
    func concurrentRequestsOverOneConnection() async throws {
        try await withInProcessPeerCluster { cluster in
            // Answers out of order on purpose: odd requests yield first.
            let server = try cluster.service("n2") { from, payload in
                let text = String(buffer: payload)
                if (Int(text) ?? 0) % 2 == 1 { await Task.yield() }
                return ByteBuffer(string: "\(from)#\(text)")
            }
            let client = try cluster.service("n1")
            try await whileServing(server) { port in
                let peer = PeerAddress.local("n2", port)
                try await withThrowingTaskGroup(of: (Int, String).self) { group in
                    for index in 0..<1000 {
                        group.addTask {
                            let reply = try await client.request(to: peer, payload: ByteBuffer(string: "\(index)"), timeout: .seconds(30))
                            return (index, String(buffer: reply))
                        }
                    }
                    var answered = 0
                    for try await (index, reply) in group {
                        #expect(reply == "n1#\(index)")
                        answered += 1
                    }
                    #expect(answered == 1000)
                }
            }
            await client.shutdown()
            let accepted = cluster.logs.messages(containing: "accepted peer").filter { $0.metadata["node"] == "n2" }
            #expect(accepted.count == 1)
        }
    }

    @Test("a request that gets no answer in time fails with timeout, and the connection keeps working")
    func timeout() async throws {
        try await withInProcessPeerCluster { cluster in
            let (gate, release) = AsyncStream.makeStream(of: Void.self)
            let server = try cluster.service("n2") { from, payload in
                if String(buffer: payload) == "slow" {
                    for await _ in gate {}
                }
                return payload
            }
            let client = try cluster.service("n1")
            try await whileServing(server) { port in
                let peer = PeerAddress.local("n2", port)
                _ = try await client.request(to: peer, payload: ByteBuffer(string: "warm-up"), timeout: .seconds(10))
                let clock = ContinuousClock()
                let started = clock.now
                let error = await #expect(throws: PeerError.self) {
                    try await client.request(to: peer, payload: ByteBuffer(string: "slow"), timeout: .milliseconds(200))
                }
                #expect(error?.code == .timeout)
                #expect(clock.now - started < .seconds(5))
                let reply = try await client.request(to: peer, payload: ByteBuffer(string: "fast"), timeout: .seconds(10))
                #expect(String(buffer: reply) == "fast")
                release.finish()
            }
            await client.shutdown()
        }
    }

    @Test("after the peer restarts, the next request reconnects")
    func reconnectAfterRestart() async throws {
        try await withInProcessPeerCluster { cluster in
            let client = try cluster.service("n1")
            let first = try cluster.service("n2")
            let port = try await whileServing(first) { port in
                let reply = try await client.request(to: .local("n2", port), payload: ByteBuffer(string: "one"), timeout: .seconds(10))
                #expect(String(buffer: reply) == "n1:one")
                return port
            }

            let whileDown = await #expect(throws: PeerError.self) {
                try await client.request(to: .local("n2", port), payload: ByteBuffer(string: "lost"), timeout: .seconds(10))
            }
            #expect([.connectFailed, .connectionClosed].contains(whileDown?.code))

            let second = try cluster.service("n2", port: port)
            try await whileServing(second) { _ in
                let reply = try await client.request(to: .local("n2", port), payload: ByteBuffer(string: "two"), timeout: .seconds(10))
                #expect(String(buffer: reply) == "n1:two")
            }
            await client.shutdown()
        }
    }

    @Test("in-flight requests fail with connection closed when the peer goes away")
    func inFlightFailOnDrop() async throws {
        try await withInProcessPeerCluster { cluster in
            let (started, startedContinuation) = AsyncStream.makeStream(of: Void.self)
            let server = try cluster.service("n2") { _, _ in
                startedContinuation.yield()
                try? await Task.sleep(for: .seconds(60))  // ended by the server's shutdown
                return nil
            }
            let client = try cluster.service("n1")
            let port = try #require(try await server.bind().port)
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await server.run() }
                group.addTask {
                    let error = await #expect(throws: PeerError.self) {
                        try await client.request(to: .local("n2", port), payload: ByteBuffer(string: "x"), timeout: .seconds(30))
                    }
                    #expect(error?.code == .connectionClosed)
                }
                for await _ in started { break }
                await server.shutdown()
                try await group.waitForAll()
            }
            await client.shutdown()
        }
    }

    @Test("a oneway message reaches the peer's handler")
    func oneway() async throws {
        try await withInProcessPeerCluster { cluster in
            let (received, continuation) = AsyncStream.makeStream(of: String.self)
            let server = try cluster.service("n2") { from, payload in
                continuation.yield("\(from):\(String(buffer: payload))")
                return nil
            }
            let client = try cluster.service("n1")
            try await whileServing(server) { port in
                try await client.send(to: .local("n2", port), payload: ByteBuffer(string: "gossip"))
                var iterator = received.makeAsyncIterator()
                #expect(await iterator.next() == "n1:gossip")
            }
            await client.shutdown()
        }
    }

    @Test("a request the handler does not answer fails with a remote error")
    func nilReply() async throws {
        try await withInProcessPeerCluster { cluster in
            let server = try cluster.service("n2") { _, _ in nil }
            let client = try cluster.service("n1")
            try await whileServing(server) { port in
                let error = await #expect(throws: PeerError.self) {
                    try await client.request(to: .local("n2", port), payload: ByteBuffer(), timeout: .seconds(10))
                }
                #expect(error?.code == .remote)
            }
            await client.shutdown()
        }
    }

    @Test("a payload above the frame cap is refused before it is sent")
    func payloadTooLarge() async throws {
        try await withInProcessPeerCluster { cluster in
            var configuration = PeerService.Configuration()
            configuration.maxFrameSize = 1024
            let client = try cluster.service("n1", configuration: configuration)
            let error = await #expect(throws: PeerError.self) {
                try await client.request(to: .local("n2", 1), payload: ByteBuffer(repeating: 1, count: 2000), timeout: .seconds(1))
            }
            #expect(error?.code == .frameTooLarge)
            await client.shutdown()
        }
    }

    @Test("after shutdown, requests fail with shutdown and the port is released")
    func shutdownRefusesRequests() async throws {
        try await withInProcessPeerCluster { cluster in
            let service = try cluster.service("n1")
            try await service.bind()
            #expect(service.boundPort != nil)
            await service.shutdown()
            #expect(service.boundPort == nil)
            let error = await #expect(throws: PeerError.self) {
                try await service.request(to: .local("n2", 1), payload: ByteBuffer(), timeout: .seconds(1))
            }
            #expect(error?.code == .shutdown)
        }
    }
}
