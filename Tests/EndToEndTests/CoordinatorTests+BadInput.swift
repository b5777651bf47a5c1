import Foundation
import JSONCore
import NIOHTTP1
import NodeServer
import TestSupport
import Testing

/// Bad input to the coordinator's admin API and to the deploy verbs (DESIGN
/// §5, §7): refused with a problem or a one-line error naming the field or
/// flag, a non-zero exit, and nothing changed.
extension CoordinatorTests {
    /// Every route of the coordinator's admin API, each of which needs ADMIN_TOKEN.
    static let adminRoutes: [(method: HTTPMethod, path: String)] = [
        (.GET, "/admin/versions"), (.POST, "/admin/versions"), (.GET, "/admin/deployments"), (.POST, "/admin/deployments"),
        (.GET, "/admin/rollout"), (.POST, "/admin/rollout/promote"), (.POST, "/admin/rollout/abort"), (.POST, "/admin/rollback"),
        (.GET, "/admin/staging/completed?rules_hash=0000000000000000"),
    ]

    /// One bad request with a token: the status and the field the problem names.
    struct BadRequest: CustomStringConvertible {
        var path = "/admin/deployments"
        var body: String
        var status: Int
        var field: String

        var description: String { "POST \(path) \(body) -> \(status) \(field)" }
    }

    static func badRequests(version: String) -> [BadRequest] {
        [
            BadRequest(body: "{\"version\": \"\(version)\", \"percent\": 10", status: 400, field: "body"),
            BadRequest(body: "[1, 2]", status: 422, field: "body"),
            BadRequest(body: "{\"percent\": 10}", status: 422, field: "version"),
            BadRequest(body: "{\"version\": 42, \"percent\": 10}", status: 422, field: "version"),
            BadRequest(body: "{\"version\": \"v-0000000000000000\", \"percent\": 10}", status: 404, field: "v-0000000000000000"),
            BadRequest(body: "{\"version\": \"\(version)\", \"percent\": 0}", status: 422, field: "percent"),
            BadRequest(body: "{\"version\": \"\(version)\", \"percent\": 101}", status: 422, field: "percent"),
            BadRequest(body: "{\"version\": \"\(version)\", \"percent\": \"50\"}", status: 422, field: "percent"),
            BadRequest(body: "{\"version\": \"\(version)\"}", status: 422, field: "percent"),
            BadRequest(body: "{\"version\": \"\(version)\", \"percent\": 10, \"gradual\": true}", status: 422, field: "percent"),
            BadRequest(body: "{\"version\": \"\(version)\", \"gradual\": true, \"duration_ms\": 4999}", status: 422, field: "duration_ms"),
            BadRequest(body: "{\"version\": \"\(version)\", \"gradual\": true, \"duration_ms\": 4680000000000000000}", status: 422,
                       field: "duration_ms"),
            BadRequest(body: "{\"version\": \"\(version)\", \"gradual\": true, \"dry_run\": true, \"duration_ms\": 4680000000000000000}",
                       status: 422, field: "duration_ms"),
            BadRequest(body: "{\"version\": \"\(version)\", \"percent\": 100, \"force\": true}", status: 422, field: "message"),
            BadRequest(body: "{\"version\": \"\(version)\", \"percent\": 100, \"force\": \"yes\"}", status: 422, field: "force"),
            BadRequest(path: "/admin/versions", body: "{\"rules\": \"API\"}", status: 422, field: "rules"),
            BadRequest(path: "/admin/versions",
                       body: "{\"rules\": [{\"name\": \"API\", \"limit\": 0, \"period\": 60, \"algorithm\": \"sliding_window\"}]}",
                       status: 422, field: "rules[0]"),
            BadRequest(path: "/admin/versions",
                       body: "{\"rules\": [{\"name\": \"API\", \"limit\": 5, \"period\": 60, \"algorithm\": \"leaky\"}]}",
                       status: 422, field: "rules[0].algorithm"),
            BadRequest(path: "/admin/versions",
                       body: "{\"rules\": [{\"name\": \"A\", \"limit\": 5, \"period\": 60, \"algorithm\": \"gcra\"}, {\"name\": \"B\", \"limit\": 5, \"period\": 60}]}",
                       status: 422, field: "rules[1].algorithm"),
            BadRequest(path: "/admin/versions",
                       body: "{\"rules\": [{\"name\": \"A\", \"limit\": \"5\", \"period\": 60, \"algorithm\": \"gcra\"}]}",
                       status: 422, field: "rules[0].limit"),
            BadRequest(path: "/admin/rollback", body: "{\"version\": \"v-0000000000000000\"}", status: 404, field: "v-0000000000000000"),
            BadRequest(path: "/admin/rollback", body: "{\"version\": ", status: 400, field: "body"),
        ]
    }

    @Test("every coordinator admin route is 401 without the token or with a wrong one, and changes nothing; /health needs none")
    func adminRoutesNeedTheToken() async throws {
        let cluster = try await Self.startedCluster(nodes: 1)
        let before = try await cluster.coordinatorRequest(.GET, "/health", token: nil)
        #expect(before.status == 200, "\(before.text)")
        for route in Self.adminRoutes {
            for token in [nil, "wrong", NodeProcessCluster.adminToken + "x", String(NodeProcessCluster.adminToken.dropLast())] {
                let body: String? = route.method == .POST ? "{\"version\": \"v-0000000000000000\", \"percent\": 50}" : nil
                let response = try await cluster.coordinatorRequest(route.method, route.path, body: body, token: token)
                #expect(response.status == 401, "\(route.method) \(route.path) with token \(token ?? "none"): \(response.text)")
                #expect(response.header("content-type") == "application/problem+json", "\(route.path)")
            }
            // The scheme is part of the check: the right token alone is not enough.
            let bare = try await NodeClient.request(route.method, host: "127.0.0.1", port: cluster.coordinatorPort, path: route.path,
                                                    headers: [("authorization", NodeProcessCluster.adminToken)])
            #expect(bare.status == 401, "\(route.path) with the token and no Bearer")
        }
        let after = try await cluster.coordinatorRequest(.GET, "/health", token: nil)
        #expect(after.json?[member: "deployment"] == before.json?[member: "deployment"])
        #expect(try await cluster.journalEntries().isEmpty)
        await cluster.stopAll()
    }

    @Test("bad admin requests get a problem naming the field: malformed JSON, unknown version, percent 0 or 101, percent with gradual, duration under 5 s or over 7 days, force without message, a limit that is not 1...1000")
    func badAdminRequestsNameTheField() async throws {
        let cluster = try await Self.startedCluster(nodes: 1)
        let stable = try await cluster.deployment(on: "n1")
        for request in Self.badRequests(version: stable.stable) {
            let response = try await cluster.coordinatorRequest(.POST, request.path, body: request.body)
            #expect(response.status == request.status, "\(request): \(response.text)")
            #expect(response.header("content-type") == "application/problem+json", "\(request)")
            let detail = response.json?[member: "detail"]?.string ?? ""
            #expect(detail.contains(request.field), "\(request): \(response.text)")
            #expect(!detail.contains("\n"), "\(request): one line")
        }
        for bad in ["0", "abc", "1001"] {
            let limit = try await cluster.coordinatorRequest(.GET, "/admin/deployments?limit=\(bad)")
            #expect(limit.status == 422 && limit.json?[member: "detail"]?.string?.contains("limit") == true, "\(bad): \(limit.text)")
        }
        let promote = try await cluster.coordinatorRequest(.POST, "/admin/rollout/promote")
        #expect(promote.status == 409, "promote with no canary: \(promote.text)")
        #expect(try await cluster.deployment(on: "n1") == stable)
        #expect(try await cluster.journalEntries().isEmpty)
        await cluster.stopAll()
    }

    /// The lines of `output` that report an error (`Error: ...`, or a config
    /// problem printed alone).
    static func errorLines(_ output: String) -> [Substring] {
        output.split(separator: "\n").filter { $0.hasPrefix("Error:") }
    }

    @Test("bad CLI input exits non-zero with one error line naming the flag or value, and deploys nothing")
    func badCommandLinesNameTheFlag() async throws {
        let cluster = try await Self.startedCluster(nodes: 1)
        let stable = try await cluster.deployment(on: "n1")
        try cluster.writeRules(Self.rules(apiLimit: 200))
        let cases: [(arguments: [String], names: [String])] = [
            (["deploy", "--percent", "0"], ["--percent"]),
            (["deploy", "--percent", "101"], ["--percent"]),
            (["deploy", "--percent", "ten"], ["--percent"]),
            (["deploy", "--percent", "10", "--gradual"], ["--percent", "--gradual"]),
            (["deploy", "--gradual", "--duration", "4s"], ["duration"]),
            (["deploy", "--gradual", "--duration", "0s"], ["--duration"]),
            (["deploy", "--gradual", "--duration", "10q"], ["--duration"]),
            (["deploy", "--gradual", "--duration", "169h"], ["--duration"]),
            (["deploy", "--gradual", "--duration", "3000000000000h"], ["--duration"]),
            (["deploy", "--percent", "10", "--duration", "10s"], ["--duration"]),
            (["deploy", "--percent", "100", "--force"], ["--force", "--message"]),
            (["deploy", "--percent", "50", "--frobnicate"], ["--frobnicate"]),
            (["deployments", "list", "--limit", "0"], ["limit"]),
            (["rollback", "v-0000000000000000"], ["v-0000000000000000"]),
            (["rollback", "--timeout", "-1"], ["--timeout"]),
            (["rollback", "--timeout", "0"], ["--timeout"]),
            (["rollout", "promote"], ["promote"]),
        ]
        // Unknown subcommands, without the `--env` that cli(_:) appends (it
        // would be reported first).
        let unknownSubcommands: [(arguments: [String], names: [String])] = [
            (["rollout", "promotee"], ["promotee"]), (["deployments", "frob"], ["frob"]), (["versions", "lists"], ["lists"]),
        ]
        for (arguments, names) in cases + unknownSubcommands {
            let result = unknownSubcommands.contains { $0.arguments == arguments }
                ? try await cluster.run(arguments, environment: cluster.environmentVariables)
                : try await cluster.cli(arguments)
            #expect(result.status != 0, "\(arguments) exited 0:\n\(result.output)")
            let errors = Self.errorLines(result.output)
            #expect(errors.count == 1, "\(arguments): \(result.output)")
            for name in names {
                #expect(errors.first?.contains(name) == true, "\(arguments) does not name \(name): \(result.output)")
            }
        }
        let wrongToken = try await cluster.cli(["deploy", "--percent", "50"], environment: ["ADMIN_TOKEN": "wrong"])
        #expect(wrongToken.status != 0 && Self.errorLines(wrongToken.output).first?.contains("401") == true
                && wrongToken.output.contains("not this server's ADMIN_TOKEN"), "\(wrongToken.output)")
        let noToken = try await cluster.cli(["versions", "list"], environment: ["ADMIN_TOKEN": ""])
        #expect(noToken.status != 0 && Self.errorLines(noToken.output).first?.contains("ADMIN_TOKEN") == true, "\(noToken.output)")
        #expect(try await cluster.deployment(on: "n1") == stable)
        #expect(try await cluster.journalEntries().isEmpty)
        await cluster.stopAll()
    }
}
