import JSONCore
import EventStore
import LimiterCore
import Rollout
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
    let versions: RuleVersions
    let cluster: any ClusterStatus
    let settings: Settings
    private let draining = Atomic<Bool>(false)

    init(router: CheckRouter, versions: RuleVersions, cluster: any ClusterStatus, settings: Settings) {
        self.router = router
        self.versions = versions
        self.cluster = cluster
        self.settings = settings
    }

    var engine: LimiterEngine { router.engine }
    var metrics: EngineMetrics { versions.metrics }

    /// Health turns 503 from here on, so load balancers stop sending while
    /// in-flight checks finish.
    public func startDraining() { draining.store(true, ordering: .relaxed) }

    public func respond(to request: HTTPRequest, on eventLoop: any EventLoop) -> HTTPResult {
        if let parameter = request.malformedQueryParameter { return .ready(.problem(.malformedQuery(parameter))) }
        switch request.path {
        case "/v1/check":
            guard request.method == .POST else { return .ready(.problem(.methodNotAllowed("\(request.method)", request.path))) }
            return check(request, batch: false, on: eventLoop)
        case "/v1/check/batch":
            guard request.method == .POST else { return .ready(.problem(.methodNotAllowed("\(request.method)", request.path))) }
            return check(request, batch: true, on: eventLoop)
        case "/health":
            // HEAD too: load balancers probe with it (the encoder leaves the body out).
            guard request.method == .GET || request.method == .HEAD else { return .ready(.problem(.methodNotAllowed("\(request.method)", request.path))) }
            return .ready(health())
        case "/metrics":
            guard request.method == .GET || request.method == .HEAD else { return .ready(.problem(.methodNotAllowed("\(request.method)", request.path))) }
            return .ready(HTTPResponse(contentType: "text/plain; version=0.0.4; charset=utf-8", body: metrics.prometheusText()))
        default:
            if request.path.hasPrefix("/admin/") { return .ready(admin(request)) }
            return .ready(.problem(.notFound(request.path)))
        }
    }

    private func check(_ request: HTTPRequest, batch: Bool, on eventLoop: any EventLoop) -> HTTPResult {
        let started = monotonicNanos()
        let current = versions.current
        let parsed: Result<[CheckRequest], APIProblem> = request.body.withUnsafeReadableBytes { body in
            do throws(APIProblem) {
                return .success(batch ? try CheckRequest.parseBatch(body, rules: current.rules)
                                      : [try CheckRequest.parseSingle(body, rules: current.rules)])
            } catch {
                return .failure(error)
            }
        }
        let requests: [CheckRequest]
        switch parsed {
        case .success(let value): requests = value
        case .failure(let problem): return .ready(.problem(problem))
        }
        if requests.isEmpty { return .ready(.json([CheckResult]().batchJSON)) }
        var checks: [LimiterEngine.ResolvedCheck] = []
        var versionsUsed: [InstalledVersion] = []
        checks.reserveCapacity(requests.count)
        versionsUsed.reserveCapacity(requests.count)
        for (index, request) in requests.enumerated() {
            guard let (version, rule) = current.resolve(rule: request.rule, key: request.key) else {
                let field = batch ? "checks[\(index)].rule" : "rule"
                return .ready(.problem(.invalidField(field, "rule \"\(request.rule)\" is not in the rule-set version deployed for this key")))
            }
            checks.append(LimiterEngine.ResolvedCheck(request: request, rule: rule, version: version.id))
            versionsUsed.append(version)
        }
        let decidedBy = versionsUsed
        let firstPeriod = checks[0].rule.periodSeconds
        let render: @Sendable (Result<[CheckResult], APIProblem>) -> HTTPResponse = { [metrics] result in
            switch result {
            case .failure(let problem):
                // One failed answer is one error, counted for each check it leaves undecided.
                for (check, version) in zip(requests, decidedBy) {
                    if let handles = version.metrics[check.rule] { handles.errors.increment() } else { metrics.recordUnattributedError() }
                }
                return .problem(problem)
            case .success(let results):
                let elapsed = monotonicNanos() &- started
                for (result, version) in zip(results, decidedBy) {
                    version.metrics[result.rule]?.record(allowed: result.decision.allowed, latencyNanos: elapsed)
                }
                if batch { return .json(results.batchJSON) }
                let result = results[0]
                return .json(result.json, headers: result.headers(periodSeconds: firstPeriod))
            }
        }
        let promise = PromiseBox()
        let outcome = router.check(checks) { result in
            promise.complete(render(result), on: eventLoop)
        }
        switch outcome {
        case .done(let result): return .ready(render(result))
        case .committing: return .pending(promise.future(on: eventLoop))
        }
    }

    private func health() -> HTTPResponse {
        let deployment = versions.deployment
        let serving = cluster.serving
        var writer = JSONWriter()
        writer.beginObject()
        let reason: String? = draining.load(ordering: .relaxed)
            ? "draining: the node is shutting down" : engine.failure.map { "storage fault: \($0)" } ?? serving.notServingReason
        writer.field("status", reason == nil ? "ok" : "unavailable")
        if let reason { writer.field("reason", reason) }
        writer.field("node", engine.nodeID)
        writer.field("members", serving.members)
        writer.field("version", deployment.stable)
        writer.key("deployment")
        deployment.write(to: &writer)
        writer.endObject()
        return .json(writer.bytes, status: reason == nil ? .ok : .serviceUnavailable)
    }
}

extension Deployment {
    /// `{"epoch", "stable", "canary", "percent"}` (DESIGN §5).
    func write(to writer: inout JSONWriter) {
        writer.beginObject()
        writer.field("epoch", Int64(clamping: epoch))
        writer.field("stable", stable)
        if let canary { writer.field("canary", canary) } else { writer.null(key: "canary") }
        writer.field("percent", percent)
        writer.endObject()
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
