import LimiterCore
import Logging
import NIOCore
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

    func withPeers(_ body: (Forwarder, Owner) async throws -> Void) async throws {
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
            let forwarder = Forwarder(peer: client, settings: settings, registry: PrometheusCollectorRegistry(), node: "n1", logger: logger,
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

    @Test("Checks that arrive while a batch is in flight leave together as the next batch, and each caller gets its own answers")
    func batchesWhileBusy() async throws {
        try await withPeers { forwarder, owner in
            let answers = Mutex<[String: Int]>([:])
            let count = 60
            for index in 0..<count {
                forwarder.forward([check("k\(index)", hits: index % 7)], to: "n2") { result in
                    if case .success(let results) = result, results.items.count == 1, case .decided(let decided) = results.items[0] {
                        answers.withLock { $0["k\(index)"] = decided.decision.remaining }
                    }
                }
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

    @Test("An owner that is not a known member fails the check at once with a 503 naming it")
    func unknownOwner() async throws {
        try await withPeers { forwarder, _ in
            let outcome = Mutex<Result<ForwardedResults, APIProblem>?>(nil)
            forwarder.forward([check("k")], to: "n9") { result in outcome.withLock { $0 = result } }
            guard case .failure(let problem)? = outcome.withLock({ $0 }) else { Issue.record("expected an immediate failure"); return }
            #expect(problem.status == 503)
            #expect(problem.detail.contains("n9"))
        }
    }
}
