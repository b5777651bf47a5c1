import JSONCore
import EventStore
import LimiterCore
import NIOCore
import NIOHTTP1
import Synchronization

/// The node's HTTP API (DESIGN §5).
public final class NodeRoutes: HTTPResponder {
    public struct Settings: Sendable {
        public var adminToken: String = ""
        public var replicas: Int = 1
        public init(adminToken: String = "", replicas: Int = 1) {
            self.adminToken = adminToken
            self.replicas = replicas
        }
    }

    let router: CheckRouter
    let cluster: any ClusterStatus
    let settings: Settings
    /// The constant parts of each rule's check answers, by rule name.
    let checkTemplates: [String: CheckResponseTemplate]
    private let draining = Atomic<Bool>(false)

    public init(router: CheckRouter, cluster: any ClusterStatus, settings: Settings) {
        self.router = router
        self.cluster = cluster
        self.settings = settings
        let engine = router.engine
        checkTemplates = engine.ruleSet.rules.mapValues { rule in
            CheckResponseTemplate(rule: rule, version: engine.ruleSet.version, node: engine.nodeID)
        }
    }

    var engine: LimiterEngine { router.engine }

    /// Health turns 503 from here on, so load balancers stop sending while
    /// in-flight checks finish.
    public func startDraining() { draining.store(true, ordering: .relaxed) }

    public func respond(to request: HTTPRequest, on eventLoop: any EventLoop) -> HTTPResult {
        switch request.path {
        case "/v1/check":
            guard request.method == .POST else { return .ready(.problem(.methodNotAllowed("\(request.method)", request.path))) }
            return check(request, batch: false, on: eventLoop)
        case "/v1/check/batch":
            guard request.method == .POST else { return .ready(.problem(.methodNotAllowed("\(request.method)", request.path))) }
            return check(request, batch: true, on: eventLoop)
        case "/health":
            return .ready(health())
        case "/metrics":
            return .ready(HTTPResponse(contentType: "text/plain; version=0.0.4; charset=utf-8", body: engine.metrics.prometheusText()))
        default:
            if request.path.hasPrefix("/admin/") { return .ready(admin(request)) }
            return .ready(.problem(.notFound(request.path)))
        }
    }

    private func check(_ request: HTTPRequest, batch: Bool, on eventLoop: any EventLoop) -> HTTPResult {
        let started = monotonicNanos()
        let rules = engine.ruleSet.rules
        let parsed: Result<[CheckRequest], APIProblem> = request.body.withUnsafeReadableBytes { body in
            do throws(APIProblem) {
                return .success(batch ? try CheckRequest.parseBatch(body, rules: rules) : [try CheckRequest.parseSingle(body, rules: rules)])
            } catch {
                return .failure(error)
            }
        }
        let requests: [CheckRequest]
        switch parsed {
        case .success(let value): requests = value
        case .failure(let problem):
            engine.metrics.recordError(rule: nil)
            return .ready(.problem(problem))
        }
        if requests.isEmpty { return .ready(.json([CheckResult]().batchJSON)) }

        let metrics = engine.metrics
        let render: @Sendable (Result<[CheckResult], APIProblem>) -> HTTPResponse = { result in
            switch result {
            case .failure(let problem):
                metrics.recordError(rule: requests.first?.rule)
                return .problem(problem)
            case .success(let results):
                let elapsed = monotonicNanos() &- started
                for result in results {
                    metrics.record(rule: result.rule, allowed: result.decision.allowed, latencyNanos: elapsed)
                }
                if batch { return .json(results.batchJSON) }
                let result = results[0]
                let period = rules[result.rule]?.periodSeconds ?? 0
                return .json(result.json, headers: result.headers(periodSeconds: period))
            }
        }
        let promise = PromiseBox()
        let outcome = router.check(requests) { result in
            promise.complete(render(result), on: eventLoop)
        }
        switch outcome {
        case .done(let result): return .ready(render(result))
        case .committing: return .pending(promise.future(on: eventLoop))
        }
    }

    private func health() -> HTTPResponse {
        let alive = cluster.members().filter { $0.status == "alive" && $0.role == "node" }.count
        var writer = JSONWriter()
        writer.beginObject()
        let reason: String? = draining.load(ordering: .relaxed) ? "draining: the node is shutting down" : engine.failure
        writer.field("status", reason == nil ? "ok" : "unavailable")
        if let reason { writer.field("reason", reason) }
        writer.field("node", engine.nodeID)
        writer.field("members", alive)
        writer.field("version", engine.ruleSet.version)
        writer.endObject()
        return .json(writer.bytes, status: reason == nil ? .ok : .serviceUnavailable)
    }
}

/// A promise made lazily: the committer may finish before or after the
/// handler asks for the future, and checks answered at once need none.
final class PromiseBox: Sendable {
    private enum State {
        case empty
        case value(HTTPResponse)
        case promise(EventLoopPromise<HTTPResponse>)
        case done
    }

    private let state = Mutex<State>(.empty)

    func complete(_ response: HTTPResponse, on eventLoop: any EventLoop) {
        let waiting: EventLoopPromise<HTTPResponse>? = state.withLock { state in
            switch state {
            case .empty:
                state = .value(response)
                return nil
            case .promise(let promise):
                state = .done
                return promise
            case .value, .done:
                preconditionFailure("a check answered twice")
            }
        }
        waiting?.succeed(response)
    }

    func future(on eventLoop: any EventLoop) -> EventLoopFuture<HTTPResponse> {
        state.withLock { state in
            switch state {
            case .value(let response):
                state = .done
                return eventLoop.makeSucceededFuture(response)
            case .empty:
                let promise = eventLoop.makePromise(of: HTTPResponse.self)
                state = .promise(promise)
                return promise.futureResult
            case .promise, .done:
                preconditionFailure("a check's future was asked for twice")
            }
        }
    }
}
