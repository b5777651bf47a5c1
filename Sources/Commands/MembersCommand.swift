import JSONCore
import ArgumentParser
import Config
import Foundation
import NodeServer

/// GETs an admin route of a node with the configured ADMIN_TOKEN.
func adminGet(_ path: String, config: ResolvedConfig, target: TargetOptions) async throws -> JSONValue {
    let (host, port) = try target.endpoint(config)
    guard let token = config.runtime.adminToken, !token.isEmpty else {
        throw CLIError("ADMIN_TOKEN is not set: admin routes need it (export ADMIN_TOKEN=... as the nodes have it)")
    }
    let response = try await nodeRequest(.GET, host: host, port: port, path: path,
                                         headers: [("authorization", "Bearer \(token)")], config: config)
    guard response.status == 200, let json = response.json else {
        throw CLIError("http://\(host):\(port)\(path) answered \(response.status): \(problemDetail(response))")
    }
    return json
}

struct MembersCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "members",
        abstract: "List the cluster's members as a node sees them: id, address, status, incarnation, build, ring share.")

    @OptionGroup var options: ConfigOptions
    @OptionGroup var target: TargetOptions

    func run() async throws {
        let config = try options.load()
        let json = try await adminGet("/admin/members", config: config, target: target)
        var rows = [["ID", "ADDRESS", "STATUS", "INCARNATION", "BUILD", "ROLE", "RING"]]
        for member in json.arrayValue {
            let share = member[member: "ring_share"].map { value -> Double in
                switch value {
                case .double(let d): return d
                case .integer(let i): return Double(i)
                default: return 0
                }
            } ?? 0
            rows.append([
                member[member: "id"]?.stringValue ?? "?", member[member: "address"]?.stringValue ?? "?",
                member[member: "status"]?.stringValue ?? "?", member[member: "incarnation"]?.intText ?? "?",
                member[member: "build"]?.stringValue ?? "?", member[member: "role"]?.stringValue ?? "?",
                String(format: "%.1f%%", share * 100),
            ])
        }
        print(table(rows))
    }
}

struct RingCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ring",
        abstract: "Show each node's share of the hash ring, or the owner of one key and the next nodes on the ring (replicas - 1 of them: the nodes that hold copies of its admitted hits).")

    @Option(name: .long, help: "A key to place.")
    var key: String?

    @Option(name: .long, help: "The rule whose namespace the key is in.")
    var rule: String = "default"

    @OptionGroup var options: ConfigOptions
    @OptionGroup var target: TargetOptions

    func run() async throws {
        let config = try options.load()
        var path = "/admin/ring"
        if let key {
            path += "?key=\(queryEncoded(key))&rule=\(queryEncoded(rule))"
        }
        let json = try await adminGet(path, config: config, target: target)
        if key != nil {
            print("key:       \(json[member: "key"]?.stringValue ?? "")")
            print("namespace: \(json[member: "namespace"]?.stringValue ?? "") (rule \(json[member: "rule"]?.stringValue ?? ""))")
            print("owner:     \(json[member: "owner"]?.stringValue ?? "")")
            print("replicas:  \(json[member: "replicas"]?.arrayValue.compactMap(\.stringValue).joined(separator: ", ") ?? "")")
        }
        if case .object(let shares)? = json[member: "shares"] {
            var rows = [["NODE", "RING SHARE"]]
            for (node, share) in shares.sorted(by: { $0.0 < $1.0 }) {
                if case .double(let value) = share { rows.append([node, String(format: "%.1f%%", value * 100)]) }
                if case .integer(let value) = share { rows.append([node, String(format: "%.1f%%", Double(value) * 100)]) }
            }
            print(table(rows))
        }
    }
}

/// Left-aligned columns separated by two spaces.
func table(_ rows: [[String]]) -> String {
    guard let first = rows.first else { return "" }
    let widths = (0..<first.count).map { column in rows.map { $0[column].count }.max() ?? 0 }
    return rows.map { row in
        row.enumerated().map { index, cell in
            index == row.count - 1 ? cell : cell.padding(toLength: widths[index], withPad: " ", startingAt: 0)
        }.joined(separator: "  ")
    }.joined(separator: "\n")
}

extension JSONValue {
    var stringValue: String? { if case .string(let s) = self { return s } else { return nil } }
    var arrayValue: [JSONValue] { if case .array(let a) = self { return a } else { return [] } }
    var intText: String? { if case .integer(let i) = self { return String(i) } else { return nil } }
}
