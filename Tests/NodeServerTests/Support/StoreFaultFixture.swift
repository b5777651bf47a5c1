import Config
import EventStore
import Foundation
import JSONCore
import LimiterCore
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
@testable import NodeServer
import TestSupport

/// One node's engine, routes and store supervisor over a real SQLite file,
/// for storage-fault tests: the supervisor is ticked by the test, one step
/// at a time, and answers are read through the real HTTP routes.
final class StoreFaultFixture: Sendable {
    /// A fixed window so counts are easy to read back: 1,000 per hour.
    static let rule = Rule(name: "API", namespaceID: "1001", limit: 1000, periodSeconds: 3600, algorithm: .fixedWindow)
    static let rules = ["API": rule]

    let path: String
    let engine: LimiterEngine
    let supervisor: StoreSupervisor
    let routes: NodeRoutes
    let metrics: EngineMetrics
    let logs = LogCapture()

    /// An engine over the log at `path` when it opens and can write (as
    /// `NodeRuntime.start` opens it), else a closed engine naming why.
    init(path: String, mode: UnavailableMode = .deny, freeBytesAfterDiskFull: Int64 = 64 * 1024) {
        self.path = path
        let clock = ManualClock()
        let metrics = EngineMetrics(node: "n1")
        self.metrics = metrics
        let policy = UnavailablePolicy(mode: mode)
        let open: @Sendable () throws -> EventLog = { try EventLog(path: path, durability: .normal) }
        let engine: LimiterEngine
        do {
            engine = try LimiterEngine(nodeID: "n1", rules: Self.rules, log: try NodeRuntime.openWritable(open), clock: clock,
                                       policy: policy, metrics: metrics)
        } catch {
            engine = LimiterEngine(nodeID: "n1", clock: clock, fault: StoreSupervisor.fault(error, while: "cannot open the event log"),
                                   policy: policy, metrics: metrics)
        }
        self.engine = engine
        var settings = StoreSupervisor.Settings()
        settings.freeBytesAfterDiskFull = freeBytesAfterDiskFull
        supervisor = StoreSupervisor(engine: engine, path: path, open: open, attach: { _ in Self.rules },
                                     settings: settings, logger: logs.logger(), metrics: metrics)
        let versions = RuleVersions(stable: RuleSet(rules: Self.rules), metrics: metrics)
        let solo = SoloCluster(summary: MemberSummary(id: "n1", address: "", httpAddress: "", status: "alive", incarnation: 0,
                                                      build: "", role: "node", ringShare: 1))
        routes = NodeRoutes(router: CheckRouter(engine: engine), versions: versions, cluster: solo, settings: .init())
    }

    /// `POST /v1/check` through the general route, to its final response.
    func check(_ key: String, hits: Int = 1) async throws -> HTTPResponse {
        try await respond(.POST, "/v1/check", body: #"{"key":"\#(key)","rule":"API","hits":\#(hits)}"#)
    }

    /// `POST /v1/check` through the single-check fast path, to its decision.
    func fastCheck(_ key: String, hits: Int = 1) async throws -> CheckResult {
        let body = ByteBuffer(string: #"{"key":"\#(key)","rule":"API","hits":\#(hits)}"#)
        let reply: CheckReply = await withCheckedContinuation { continuation in
            if let reply = routes.check(body: body, committed: { continuation.resume(returning: $0) }) {
                continuation.resume(returning: reply)
            }
        }
        guard case .decided(let result, _) = reply else { throw TestFailure("not a decision: \(reply)") }
        return result
    }

    /// `GET /health`.
    func health() async throws -> HTTPResponse {
        try await respond(.GET, "/health")
    }

    func respond(_ method: HTTPMethod, _ uri: String, body: String = "") async throws -> HTTPResponse {
        let eventLoop = MultiThreadedEventLoopGroup.singleton.next()
        let request = HTTPRequest(method: method, uri: uri, headers: [:], body: ByteBuffer(string: body))
        switch routes.respond(to: request, on: eventLoop) {
        case .ready(let response): return response
        case .pending(let future): return try await future.get()
        }
    }

    /// The remaining count of `key` as a read (`hits: 0`) answers it.
    func remaining(_ key: String) async throws -> Int {
        let answer = try await fastCheck(key, hits: 0)
        return answer.decision.remaining
    }

    /// `rate_limit_unavailable_decisions_total` for `mode` in the metrics text.
    func unavailableDecisions(_ mode: UnavailableMode) -> Double? {
        let text = String(decoding: metrics.prometheusText(), as: UTF8.self)
        let prefix = #"rate_limit_unavailable_decisions_total{node="n1",mode="\#(mode.rawValue)"} "#
        return text.split(separator: "\n").first { $0.hasPrefix(prefix) }.flatMap { Double($0.dropFirst(prefix.count)) }
    }

    /// Closes the engine's committer and its log (retired ones the supervisor closed).
    func close() {
        let log = engine.log
        try? engine.close()
        try? log?.close()
    }
}

extension HTTPResponse {
    var json: JSONValue? { try? JSONParser.parse(body) }
    func header(_ name: String) -> String? { headers.first { $0.0.lowercased() == name.lowercased() }?.1 }
}
