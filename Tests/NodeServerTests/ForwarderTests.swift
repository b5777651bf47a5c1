import LimiterCore
import Logging
import NIOCore
import NIOPosix
@testable import NodeServer
import PeerTransport
import Prometheus
import Synchronization
import Testing
import TestSupport

/// The forwarder between two real peer services over mutual TLS on
/// loopback: the owner side is a recording responder, not a node.
@Suite("Forwarding checks to their owner in batches")
struct ForwarderTests {
    /// What the owner saw, and a gate that holds its answers back.
    final class Owner: Sendable {
        let batches = Mutex<[ForwardedBatch]>([])
        let held = Mutex<[(ForwardedBatch, PeerReply)]>([])
        let holding = Atomic<Bool>(true)

        func respond(from: String, payload: ByteBuffer, reply: PeerReply) {
            guard case .checkBatch(let batch) = try? PeerMessage(decoding: payload) else { return reply(nil) }
            batches.withLock { $0.append(batch) }
            if holding.load(ordering: .relaxed) {
                held.withLock { $0.append((batch, reply)) }
            } else {
                reply(Self.answer(batch))
            }
        }

        func hold() {
            holding.store(true, ordering: .relaxed)
        }

        func release() {
            holding.store(false, ordering: .relaxed)
            for (batch, reply) in held.withLock({ value in defer { value = [] }; return value }) { reply(Self.answer(batch)) }
        }

        static func answer(_ batch: ForwardedBatch) -> ByteBuffer {
            PeerMessage.checkResults(ForwardedResults(requestID: batch.requestID, epoch: 7, items: batch.checks.map { check in
                .decided(CheckResult(decision: Decision(allowed: true, limit: 10, remaining: check.request.hits, resetMs: 1, retryAfterMs: 0),
                                     rule: check.request.rule, version: check.version, node: "n2"))
            })).buffer
        }
    }

    static let api = rule("API", limit: 10)

    func withPeers(window: Duration = .zero, maxBatch: Int = 1000, registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry(),
                   _ body: (Forwarder, Owner) async throws -> Void) async throws {
        let directory = try TemporaryDirectory(prefix: "forwarder")
        _ = try ClusterCertificates.initCluster(directory: directory.path, environment: "test", nodes: ["n1", "n2"])
        let owner = Owner()
        let logger = Logger(label: "forwarder-test")
        let server = PeerService(localID: "n2", environment: "test", host: "127.0.0.1", port: 0,
                                 tls: try PeerTLS(certsDirectory: directory.path, environment: "test", nodeID: "n2"),
                                 responder: { owner.respond(from: $0, payload: $1, reply: $2) }, logger: logger)
        let client = PeerService(localID: "n1", environment: "test", host: "127.0.0.1", port: 0,
                                 tls: try PeerTLS(certsDirectory: directory.path, environment: "test", nodeID: "n1"),
                                 responder: { _, _, reply in reply(nil) }, logger: logger)
        let address = try await server.bind()
        let port = address.port!
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await server.run() }
            // A long request timeout: the owner holds the first batch on purpose,
            // and a loaded machine may take seconds over the TLS handshake.
            var settings = Forwarder.Settings()
            settings.timeout = .seconds(30)
            settings.window = window
            settings.maxBatch = maxBatch
            let forwarder = Forwarder(peer: client, settings: settings, eventLoops: MultiThreadedEventLoopGroup.singleton,
                                      registry: registry, node: "n1", logger: logger,
                                      addressOf: { id in id == "n2" ? PeerAddress(id: "n2", host: "127.0.0.1", port: port) : nil },
                                      epoch: { 42 })
            do {
                try await body(forwarder, owner)
            } catch {
                group.cancelAll()
                throw error
            }
            await client.shutdown()
            await server.shutdown()
            group.cancelAll()
        }
        withExtendedLifetime(directory) {}
    }

    func check(_ key: String, hits: Int = 1) -> LimiterEngine.ResolvedCheck {
        LimiterEngine.ResolvedCheck(request: CheckRequest(key: key, rule: "API", hits: hits), rule: Self.api, version: "v-1")
    }

    @Test("Checks that arrive while a batch is in flight leave together as the next batch, and each caller gets its own answers, one check or several")
    func batchesWhileBusy() async throws {
        try await withPeers { forwarder, owner in
            let answers = Mutex<[String: Int]>([:])
            let count = 60
            // One check per caller, but callers 10...12 and 30...33 ask together.
            var index = 0
            while index < count {
                let size = index == 10 ? 3 : index == 30 ? 4 : 1
                let indices = Array(index..<(index + size))
                let record: @Sendable (Result<ForwardedAnswers, APIProblem>) -> Void = { result in
                    guard case .success(let results) = result, results.items.count == indices.count else { return }
                    for (item, index) in zip(results.items, indices) {
                        if case .decided(let decided) = item { answers.withLock { $0["k\(index)"] = decided.decision.remaining } }
                    }
                }
                if size == 1 {
                    forwarder.forward(check("k\(index)", hits: index % 7), to: "n2", completion: record)
                } else {
                    forwarder.forward(indices.map { check("k\($0)", hits: $0 % 7) }, to: "n2", completion: record)
                }
                index += size
            }
            // One batch is in flight (held by the owner); the other checks wait for it.
            try await poll("a batch held by the owner", within: .seconds(30)) { owner.held.withLock { $0.count } == 1 }
            #expect(owner.batches.withLock { $0.count } == 1)
            owner.release()
            try await poll("every caller answered", within: .seconds(30)) { answers.withLock { $0.count } == count }
            let batches = owner.batches.withLock { $0 }
            #expect(batches.count == 2, "the first check alone, then the 59 that waited: \(batches.map(\.checks.count))")
            #expect(batches.map(\.checks.count).reduce(0, +) == count)
            #expect(Set(batches.map(\.requestID)).count == batches.count, "request ids are unique")
            #expect(batches.allSatisfy { $0.epoch == 42 }, "every batch carries the sender's epoch")
            for index in 0..<count { #expect(answers.withLock { $0["k\(index)"] } == index % 7, "k\(index)") }
        }
    }

    /// Forwards one check per key and records each answer's `remaining` (the hits sent).
    final class Answers: Sendable {
        let values = Mutex<[String: Int]>([:])
        var count: Int { values.withLock { $0.count } }

        func forward(_ forwarder: Forwarder, _ key: String, hits: Int = 1) {
            forwarder.forward([LimiterEngine.ResolvedCheck(request: CheckRequest(key: key, rule: "API", hits: hits),
                                                           rule: ForwarderTests.api, version: "v-1")], to: "n2") { result in
                if case .success(let results) = result, results.items.count == 1, case .decided(let decided) = results.items.first! {
                    self.values.withLock { $0[key] = decided.decision.remaining }
                }
            }
        }
    }

    /// Twelve checks at once, answered on a connection already open: the
    /// lane has seen more than one check per window over the last eight
    /// windows (``ForwardWindow``), with room to spare should a span of
    /// eight windows end before the next check, and is idle again. The owner
    /// holds the first batch until all twelve are queued, so they travel as a
    /// batch of one and then one of eleven.
    func warmUp(_ forwarder: Forwarder, _ owner: Owner, _ answers: Answers) async throws {
        owner.release()
        answers.forward(forwarder, "h")
        try await poll("a first check answered over a new connection", within: .seconds(30)) { answers.count == 1 }
        owner.hold()
        for index in 0..<12 { answers.forward(forwarder, "w\(index)") }
        try await poll("the first warm-up batch held by the owner", within: .seconds(30)) { owner.held.withLock { $0.count } == 1 }
        owner.release()
        try await poll("the twelve warm-up checks answered", within: .seconds(30)) { answers.count == 13 }
    }

    @Test("With a window, checks that follow a steady stream closely leave together once the window closes")
    func windowGathersChecks() async throws {
        let registry = PrometheusCollectorRegistry()
        try await withPeers(window: .seconds(1), registry: registry) { forwarder, owner in
            let answers = Answers()
            try await warmUp(forwarder, owner, answers)
            let start = ContinuousClock.now
            for key in ["b", "c", "d"] { answers.forward(forwarder, key, hits: 2) }
            try await poll("the three that followed answered", within: .seconds(30)) { answers.count == 16 }
            let waited = ContinuousClock.now - start
            let batches = owner.batches.withLock { $0.map { $0.checks.map(\.request.key) } }
            #expect(batches == [["h"], ["w0"], (1..<12).map { "w\($0)" }, ["b", "c", "d"]])
            #expect(waited >= .seconds(1), "the batch left when the window closed, after \(waited)")
            #expect(answers.values.withLock { [$0["b"], $0["c"], $0["d"]] } == [2, 2, 2])
            let metrics = registry.emitToString()
            #expect(metrics.contains(#"rate_limit_forward_windows_total{node="n1",result="joined"} 1"#), "\(metrics)")
            #expect(metrics.contains(#"rate_limit_forward_windows_total{node="n1",result="alone"} 0"#), "\(metrics)")
        }
    }

    @Test("A client that waits for each answer pays the window six times, then its next eight checks leave at once")
    func sequentialClientSkipsTheWindow() async throws {
        let registry = PrometheusCollectorRegistry()
        // A window long enough that the warm-up and six windows stay within the
        // rate's span (eight windows) on a loaded machine.
        try await withPeers(window: .seconds(1), registry: registry) { forwarder, owner in
            let answers = Answers()
            try await warmUp(forwarder, owner, answers)
            var took: [Duration] = []
            for index in 0..<14 {
                let start = ContinuousClock.now
                answers.forward(forwarder, "s\(index)")
                try await poll("s\(index) answered", within: .seconds(30)) { answers.count == 14 + index }
                took.append(ContinuousClock.now - start)
            }
            #expect(took.prefix(6).allSatisfy { $0 >= .seconds(1) }, "s0...s5 each waited a window out alone: \(took)")
            let eight = took.dropFirst(6).reduce(Duration.zero, +)
            #expect(eight < .seconds(8), "s6...s13 skipped the window: \(took)")
            let batches = owner.batches.withLock { $0.suffix(14).map { $0.checks.map(\.request.key) } }
            #expect(batches == (0..<14).map { ["s\($0)"] })
            #expect(registry.emitToString().contains(#"rate_limit_forward_windows_total{node="n1",result="alone"} 6"#))
        }
    }

    @Test("With a long window the first check to an owner still leaves at once")
    func windowSparesTheFirstCheck() async throws {
        try await withPeers(window: .seconds(120)) { forwarder, owner in
            owner.release()
            let answers = Answers()
            answers.forward(forwarder, "a")
            try await poll("the first check answered well before the window would close", within: .seconds(30)) { answers.count == 1 }
        }
    }

    @Test("A batch that reaches the size cap leaves without waiting for the window")
    func fullBatchSkipsTheWindow() async throws {
        try await withPeers(window: .seconds(120), maxBatch: 20) { forwarder, owner in
            let answers = Answers()
            try await warmUp(forwarder, owner, answers)
            for index in 0..<20 { answers.forward(forwarder, "k\(index)") }
            try await poll("the twenty that filled a batch answered well before the window would close", within: .seconds(30)) {
                answers.count == 33
            }
            #expect(owner.batches.withLock { $0.map(\.checks.count) } == [1, 1, 11, 20])
        }
    }

    @Test("Checks waiting beyond the size cap leave in order, in batches of at most the cap, and every caller is answered")
    func queueBeyondTheCap() async throws {
        try await withPeers(maxBatch: 10) { forwarder, owner in
            let answers = Answers()
            for index in 0..<26 { answers.forward(forwarder, "k\(index)") }
            try await poll("a batch held by the owner", within: .seconds(30)) { owner.held.withLock { $0.count } == 1 }
            owner.release()
            try await poll("every caller answered", within: .seconds(30)) { answers.count == 26 }
            let batches = owner.batches.withLock { $0 }
            #expect(batches.map(\.checks.count) == [1, 10, 10, 5])
            #expect(batches.flatMap { $0.checks.map(\.request.key) } == (0..<26).map { "k\($0)" })
        }
    }

    @Test("Forwarding no checks answers at once with no items and sends no batch")
    func noChecks() async throws {
        try await withPeers { forwarder, owner in
            let outcome = Mutex<Result<ForwardedAnswers, APIProblem>?>(nil)
            forwarder.forward([], to: "n2") { result in outcome.withLock { $0 = result } }
            guard case .success(let answers)? = outcome.withLock({ $0 }) else { Issue.record("expected an immediate answer"); return }
            #expect(answers.items.isEmpty)
            #expect(owner.batches.withLock { $0.isEmpty })
        }
    }

    @Test("An owner that is not a known member fails the check at once with a 503 naming it")
    func unknownOwner() async throws {
        try await withPeers { forwarder, _ in
            let outcome = Mutex<Result<ForwardedAnswers, APIProblem>?>(nil)
            forwarder.forward([check("k")], to: "n9") { result in outcome.withLock { $0 = result } }
            guard case .failure(let problem)? = outcome.withLock({ $0 }) else { Issue.record("expected an immediate failure"); return }
            #expect(problem.status == 503)
            #expect(problem.detail.contains("n9"))
        }
    }
}
