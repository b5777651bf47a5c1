import JSONCore
import EventStore
import NIOHTTP1

extension NodeRoutes {
    /// `/admin/...`: bearer `ADMIN_TOKEN`. With no token configured the
    /// admin routes are closed rather than open.
    func admin(_ request: HTTPRequest) -> HTTPResponse {
        if let refused = AdminAuthorization.problem(request, token: settings.adminToken) { return .problem(refused) }
        guard request.method == .GET else { return .problem(.methodNotAllowed("\(request.method)", request.path)) }
        switch request.path {
        case "/admin/members": return membersResponse()
        case "/admin/ring": return ringResponse(request)
        case "/admin/events": return eventsResponse(request)
        case "/admin/deployment": return deploymentResponse()
        default: return .problem(.notFound(request.path))
        }
    }

    private func membersResponse() -> HTTPResponse {
        var writer = JSONWriter()
        writer.beginArray()
        for member in cluster.members() {
            writer.beginObject()
            writer.field("id", member.id)
            writer.field("address", member.address)
            writer.field("http_address", member.httpAddress)
            writer.field("status", member.status)
            writer.field("incarnation", Int64(member.incarnation))
            writer.field("build", member.build)
            writer.field("role", member.role)
            writer.field("ring_share", member.ringShare)
            writer.endObject()
        }
        writer.endArray()
        return .json(writer.bytes)
    }

    private func ringResponse(_ request: HTTPRequest) -> HTTPResponse {
        var writer = JSONWriter()
        writer.beginObject()
        if let key = request.query["key"] {
            let ruleName = request.query["rule"] ?? "default"
            let rules = versions.current.rules
            guard let rule = rules[ruleName] else {
                return .problem(.unknownRule("rule", ruleName, known: Array(rules.keys)))
            }
            let nodes = cluster.placement(namespace: rule.namespaceID, key: key, replicas: settings.replicas)
            writer.field("key", key)
            writer.field("rule", rule.name)
            writer.field("namespace", rule.namespaceID)
            writer.field("owner", nodes.first ?? "")
            writer.key("replicas")
            writer.beginArray()
            for node in nodes.dropFirst() { writer.value(node) }
            writer.endArray()
        }
        writer.key("shares")
        writer.beginObject()
        for member in cluster.members() where member.role == "node" { writer.field(member.id, member.ringShare) }
        writer.endObject()
        writer.endObject()
        return .json(writer.bytes)
    }

    private func eventsResponse(_ request: HTTPRequest) -> HTTPResponse {
        guard let key = request.query["key"], !key.isEmpty else {
            return .problem(.invalidField("key", "query parameter is required"))
        }
        guard let log = engine.log else {
            return .problem(.unavailable("event log unavailable: \(engine.failure ?? "not open")"))
        }
        let events: [HitEvent]
        do {
            events = try log.events(namespace: request.query["namespace"], key: key)
        } catch {
            return .problem(.unavailable("event log read failed: \(error.message)"))
        }
        var writer = JSONWriter(capacity: 64 * events.count + 16)
        writer.beginArray()
        for event in events {
            writer.beginObject()
            writer.field("seq", event.seq)
            writer.field("namespace", event.namespace)
            writer.field("key", event.key)
            writer.field("rule", event.rule)
            writer.field("at_ms", event.atMs)
            writer.field("hits", event.hits)
            writer.endObject()
        }
        writer.endArray()
        return .json(writer.bytes)
    }

    /// The deployment this node applies and every installed version's rules.
    private func deploymentResponse() -> HTTPResponse {
        let current = versions.current
        var writer = JSONWriter()
        writer.beginObject()
        writer.key("deployment")
        current.deployment.write(to: &writer)
        writer.key("versions")
        writer.beginArray()
        for id in versions.installedVersions {
            guard let version = versions.installed(id) else { continue }
            writer.beginObject()
            writer.field("version", id)
            writer.key("rules")
            writer.beginArray()
            for rule in version.ruleSet.rules.values.sorted(by: { $0.name < $1.name }) {
                writer.beginObject()
                writer.field("name", rule.name)
                writer.field("namespace_id", rule.namespaceID)
                writer.field("algorithm", rule.algorithm.rawValue)
                writer.field("limit", rule.limit)
                writer.field("period", rule.periodSeconds)
                writer.field("burst", rule.burst)
                writer.endObject()
            }
            writer.endArray()
            writer.endObject()
        }
        writer.endArray()
        writer.endObject()
        return .json(writer.bytes)
    }
}

extension JSONWriter {
    mutating func null(key name: String) {
        key(name)
        null()
    }
}
