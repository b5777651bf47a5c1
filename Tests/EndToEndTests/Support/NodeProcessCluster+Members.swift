import Foundation
import JSONCore
import NodeServer
import TestSupport

extension NodeProcessCluster {
    struct MemberView: Equatable {
        var id: String
        var status: String
        var incarnation: Int64
    }

    /// `/admin/members` as node `id` sees it.
    func members(seenBy id: String) async throws -> [MemberView] {
        let response = try await get(id, path: "/admin/members", admin: true)
        guard response.status == 200, let array = response.json?.array else {
            throw TestFailure("members from \(id): \(response.status) \(response.text)")
        }
        return array.map { member in
            MemberView(id: member[member: "id"]?.string ?? "", status: member[member: "status"]?.string ?? "",
                       incarnation: member[member: "incarnation"]?.int ?? -1)
        }
    }

    func status(of member: String, seenBy id: String) async -> String? {
        try? await members(seenBy: id).first { $0.id == member }?.status
    }

    /// Polls until `condition` holds or the deadline passes; returns the time
    /// it took, or fails with the tail of every node's output.
    @discardableResult
    func eventually(within limit: Duration, _ what: String, poll interval: Duration = .milliseconds(100),
                    _ condition: () async throws -> Bool) async throws -> Duration {
        do {
            return try await poll(what, within: limit, every: interval, until: condition)
        } catch let timeout as PollTimeout {
            throw TestFailure("\(timeout)\n" + processes.map { "--- \($0.key):\n\($0.value.output.suffix(3000))" }.joined(separator: "\n"))
        }
    }

    /// Waits until every listed node sees exactly `expected` alive.
    func waitForMembership(_ expected: Set<String>, on nodes: [String], within limit: Duration = .seconds(30)) async throws {
        try await eventually(within: limit, "nodes \(nodes) see alive \(expected.sorted())") {
            for node in nodes {
                guard let members = try? await members(seenBy: node) else { return false }
                if Set(members.filter { $0.status == "alive" }.map(\.id)) != expected { return false }
            }
            return true
        }
    }

    /// The owner of a key, as node `id` places it.
    func owner(of key: String, rule: String, seenBy id: String) async throws -> String {
        let response = try await get(id, path: "/admin/ring?key=\(key)&rule=\(rule)", admin: true)
        guard let owner = response.json?[member: "owner"]?.string else { throw TestFailure("ring: \(response.text)") }
        return owner
    }

    func makeCertificates() async throws {
        let result = try await run(["certs", "init"])
        guard result.status == 0 else { throw TestFailure("certs init failed: \(result.output)") }
    }
}
