import CoordinatorStore
import Foundation
import JSONCore
import LimiterCore
import NIOCore
import NIOHTTP1
import Rollout

/// The coordinator's HTTP API (DESIGN §5, §7, §8). The read-only views
/// (`/health`, `/dashboard`, `/api/summary`) are open; every `/admin/...` route needs
/// `Authorization: Bearer ADMIN_TOKEN`, compared in constant time. The CLI's deploy verbs are clients of these routes.
final class CoordinatorRoutes: HTTPResponder {
    let coordinator: Coordinator
    let adminToken: String
    let environment: String

    init(coordinator: Coordinator, adminToken: String, environment: String) {
        self.coordinator = coordinator
        self.adminToken = adminToken
        self.environment = environment
    }

    func respond(to request: HTTPRequest, on eventLoop: any EventLoop) -> HTTPResult {
        if let parameter = request.malformedQueryParameter { return .ready(.problem(.malformedQuery(parameter))) }
        switch request.path {
        case "/dashboard":
            guard request.method == .GET else { return .ready(.problem(.methodNotAllowed("\(request.method)", request.path))) }
            return .ready(HTTPResponse(contentType: "text/html; charset=utf-8", body: Array(DashboardPage.html.utf8)))
        case "/health", "/api/summary":
            guard request.method == .GET else { return .ready(.problem(.methodNotAllowed("\(request.method)", request.path))) }
            if request.path == "/health" { return later(on: eventLoop) { [self] in try await health() } }
            return later(on: eventLoop) { [self] in .json(await coordinator.summary(now: SystemClock().nowMs())) }
        default:
            break
        }
        guard request.path.hasPrefix("/admin/") else { return .ready(.problem(.notFound(request.path))) }
        if let refused = AdminAuthorization.problem(request, token: adminToken) { return .ready(.problem(refused)) }
        let body = Array(request.body.readableBytesView)
        let author = request.headers.first(name: "x-ratelimit-author") ?? "unknown"
        switch (request.method, request.path) {
        case (.GET, "/admin/versions"): return later(on: eventLoop) { [self] in try await versions() }
        case (.POST, "/admin/versions"): return later(on: eventLoop) { [self] in try await upload(body, author: author) }
        case (.GET, "/admin/deployments"): return later(on: eventLoop) { [self] in try await journal(request.query["limit"]) }
        case (.POST, "/admin/deployments"): return later(on: eventLoop) { [self] in try await deploy(body, author: author) }
        case (.GET, "/admin/rollout"): return later(on: eventLoop) { [self] in try await rolloutStatus() }
        case (.POST, "/admin/rollout/promote"):
            return later(on: eventLoop) { [self] in Self.lines(try await coordinator.promote(author: author)) }
        case (.POST, "/admin/rollout/abort"):
            return later(on: eventLoop) { [self] in Self.lines(try await coordinator.abort(author: author)) }
        case (.POST, "/admin/rollback"): return later(on: eventLoop) { [self] in try await rollback(body, author: author) }
        case (.GET, "/admin/staging/completed"):
            return later(on: eventLoop) { [self] in
                guard let hash = request.query["rules_hash"], !hash.isEmpty else { throw CoordinatorError.badRequest("rules_hash", "is required") }
                return .json(JSONValue.object([("completed", .bool(try await coordinator.hasCompleted(rulesHash: hash)))]))
            }
        case (_, "/admin/versions"), (_, "/admin/deployments"), (_, "/admin/rollout"), (_, "/admin/rollout/promote"),
             (_, "/admin/rollout/abort"), (_, "/admin/rollback"), (_, "/admin/staging/completed"):
            return .ready(.problem(.methodNotAllowed("\(request.method)", request.path)))
        default:
            return .ready(.problem(.notFound(request.path)))
        }
    }

    private func later(on eventLoop: any EventLoop, _ work: @escaping @Sendable () async throws -> HTTPResponse) -> HTTPResult {
        let promise = eventLoop.makePromise(of: HTTPResponse.self)
        promise.completeWithTask {
            do {
                return try await work()
            } catch let error as CoordinatorError {
                return .problem(error.problem)
            } catch {
                return .problem(APIProblem(status: 500, code: "internal", title: "Internal error", detail: "\(error)"))
            }
        }
        return .pending(promise.futureResult)
    }

    static func lines(_ lines: [String]) -> HTTPResponse {
        .json(JSONValue.object([("lines", .array(lines.map { .string($0) }))]))
    }

    // MARK: Routes

    private func health() async throws -> HTTPResponse {
        let deployment = await coordinator.rollout.deployment
        return .json(JSONValue.object([
            ("status", .string("ok")), ("role", .string("coordinator")), ("environment", .string(environment)),
            ("deployment", deployment.json),
            ("rollout", .string(await coordinator.rollout.state.description)),
        ]))
    }

    private func versions() async throws -> HTTPResponse {
        .json(JSONValue.array(try await coordinator.versions().map(\.json)))
    }

    private func upload(_ body: [UInt8], author: String) async throws -> HTTPResponse {
        let bundle = try Self.bundle(from: try RequestBody(body), author: author)
        let (stored, created) = try await coordinator.upload(bundle)
        var json = stored.json
        if case .object(var members) = json {
            members.append(("created", .bool(created)))
            json = .object(members)
        }
        return .json(json, status: created ? .created : .ok)
    }

    /// The version a body's `rules`, `vars`, `tag`, `message` and `author`
    /// make, each field checked and named when wrong; not stored.
    private static func bundle(from fields: RequestBody, author: String) throws -> VersionBundle {
        guard case .array(let items)? = fields["rules"] else { throw CoordinatorError.badRequest("rules", "is required (an array of rules)") }
        var rules: [Rule] = []
        for (index, item) in items.enumerated() {
            let field = "rules[\(index)]"
            guard case .object(let members) = item else { throw CoordinatorError.badRequest(field, "expected an object") }
            let rule = RequestBody(members: members, prefix: "\(field).")
            let algorithmName = try rule.requiredString("algorithm")
            guard let algorithm = Algorithm(rawValue: algorithmName) else {
                throw CoordinatorError.badRequest("\(field).algorithm", "unknown algorithm \"\(algorithmName)\"")
            }
            func int(_ name: String) throws -> Int {
                guard let value = try rule.integer(name) else { throw CoordinatorError.badRequest("\(field).\(name)", "is required") }
                guard let exact = Int(exactly: value) else { throw CoordinatorError.badRequest("\(field).\(name)", "out of range") }
                return exact
            }
            do {
                rules.append(try Rule.validated(name: try rule.requiredString("name"), namespaceID: try rule.string("namespace_id") ?? "",
                                                limit: try int("limit"), periodSeconds: try int("period"), algorithm: algorithm,
                                                burst: try rule.integer("burst").map { Int($0) }))
            } catch let error as RuleError {
                throw CoordinatorError.badRequest(field, error.message)
            }
        }
        var vars: [String: String] = [:]
        if case .object(let members)? = fields["vars"] {
            for (name, value) in members {
                guard case .string(let text) = value else { throw CoordinatorError.badRequest("vars.\(name)", "expected string") }
                vars[name] = text
            }
        }
        return VersionBundle(rules: rules, vars: vars, tag: try fields.string("tag"), message: try fields.string("message"),
                             author: try fields.string("author") ?? author, createdAtMs: SystemClock().nowMs())
    }

    private func journal(_ limit: String?) async throws -> HTTPResponse {
        let count = limit.map { Int($0) ?? 0 } ?? 100
        guard (1...1000).contains(count) else { throw CoordinatorError.badRequest("limit", "must be 1...1000, got \(limit ?? "")") }
        return .json(JSONValue.array(try await coordinator.entries(limit: count).map(\.json)))
    }

    private func deploy(_ body: [UInt8], author: String) async throws -> HTTPResponse {
        let fields = try RequestBody(body)
        var request: Coordinator.DeployRequest
        let dryRun = try fields.bool("dry_run")
        if fields["rules"] != nil {
            // A dry run may carry its rules instead of an uploaded version: it stores nothing.
            guard dryRun else { throw CoordinatorError.badRequest("rules", "only a dry run carries its rules; upload them (POST /admin/versions) and deploy the version") }
            guard fields["version"] == nil else { throw CoordinatorError.badRequest("version", "give either version or rules, not both") }
            request = Coordinator.DeployRequest(candidate: try Self.bundle(from: fields, author: author))
        } else {
            request = Coordinator.DeployRequest(version: try fields.requiredString("version"))
        }
        if let percent = try fields.integer("percent") {
            guard (1...100).contains(percent) else { throw CoordinatorError.badRequest("percent", "must be 1...100, got \(percent)") }
            request.percent = Int(percent)
        }
        if try fields.bool("gradual") {
            guard request.percent == nil else { throw CoordinatorError.badRequest("percent", "give either percent or gradual, not both") }
            let duration = try fields.integer("duration_ms") ?? RolloutPlan.defaultDuration
            guard (5_000...RolloutPlan.maxDuration).contains(duration) else {
                throw CoordinatorError.badRequest("duration_ms", "must be 5000 (1 s per step) to \(RolloutPlan.maxDuration) (7 days), got \(duration)")
            }
            request.gradualDuration = duration
        }
        guard request.percent != nil || request.gradualDuration != nil else {
            throw CoordinatorError.badRequest("percent", "give percent (1...100) or gradual: true")
        }
        request.force = try fields.bool("force")
        request.message = try fields.string("message")
        request.author = try fields.string("author") ?? author
        request.dryRun = dryRun
        return Self.lines(try await coordinator.deploy(request))
    }

    private func rolloutStatus() async throws -> HTTPResponse {
        .json(await coordinator.rolloutJSON)
    }

    private func rollback(_ body: [UInt8], author: String) async throws -> HTTPResponse {
        let fields = try RequestBody(body)
        let answer = try await coordinator.rollback(to: try fields.string("version"), message: try fields.string("message"), author: author)
        return .json(JSONValue.object([
            ("changed", .bool(answer.changed)), ("deployment", answer.deployment.json),
            ("pushed", .array(answer.pushed.map { outcome in
                switch outcome.result {
                case .success(let served): .object([("node", .string(outcome.node)), ("epoch", .integer(Int64(clamping: served.epoch)))])
                case .failure(let error): .object([("node", .string(outcome.node)), ("error", .string(error.description))])
                }
            })),
        ]))
    }
}

extension RequestBody {
    init(members: [(String, JSONValue)], prefix: String = "") {
        self.members = members
        self.prefix = prefix
    }
}

extension HTTPResponse {
    static func json(_ value: JSONValue, status: HTTPResponseStatus = .ok) -> HTTPResponse {
        var writer = JSONWriter()
        writer.write(value)
        return .json(writer.bytes, status: status)
    }
}

extension Deployment {
    var json: JSONValue {
        .object([("epoch", .integer(Int64(clamping: epoch))), ("stable", .string(stable)), ("canary", canary.map { .string($0) } ?? .null),
                 ("percent", .integer(Int64(percent)))])
    }
}

extension VersionBundle {
    var json: JSONValue {
        .object([
            ("version", .string(id)), ("rules_hash", .string(rulesHash)), ("tag", tag.map { .string($0) } ?? .null),
            ("message", message.map { .string($0) } ?? .null), ("author", .string(author)),
            ("created_at_ms", .integer(createdAtMs)), ("rules", .integer(Int64(rules.count))),
        ])
    }
}

extension JournalEntry {
    var json: JSONValue {
        .object([
            ("seq", seq.map { .integer($0) } ?? .null), ("at_ms", .integer(atMs)), ("actor", .string(actor)),
            ("kind", .string(kind.rawValue)), ("outcome", .string(outcome.rawValue)), ("version", version.map { .string($0) } ?? .null),
            ("percent", percent.map { .integer(Int64($0)) } ?? .null), ("deployment", deployment?.json ?? .null),
            ("reason", reason.map { .string($0) } ?? .null), ("forced", .bool(forced)),
            ("force_message", forceMessage.map { .string($0) } ?? .null),
        ])
    }
}
