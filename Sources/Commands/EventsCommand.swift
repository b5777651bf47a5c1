import ArgumentParser
import EventStore
import Foundation
import JSONCore

struct EventsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "events",
        abstract: "Print a key's logged events from its owner, or a node's log read offline from its data dir.",
        discussion: """
            With --key and no --data-dir, asks the cluster: any node names the key's owner, and the owner's \
            admin API returns the events (ADMIN_TOKEN). With --data-dir, reads that events.sqlite directly \
            (the node may be running).
            """)

    @Option(name: .long, help: "A node's data_dir (holds events.sqlite) to read offline.")
    var dataDir: String?

    @Option(name: .long, help: "Only this key's events.")
    var key: String?

    @Option(name: .long, help: "With --key and no --data-dir: the key's rule (its namespace).")
    var rule: String = "default"

    @Option(name: .long, help: "Only this namespace (a rule's namespace_id).")
    var namespace: String?

    @OptionGroup var options: ConfigOptions
    @OptionGroup var target: TargetOptions

    func validate() throws {
        if dataDir == nil && key == nil { throw ValidationError("give --key K to ask the cluster, or --data-dir D to read a node's log") }
    }

    func run() async throws {
        guard let dataDir else { return try await fromOwner(key: key!) }
        let path = dataDir + "/events.sqlite"
        guard FileManager.default.fileExists(atPath: path) else {
            throw CLIError("--data-dir: no event log at \(path)")
        }
        let log: EventLog
        do { log = try EventLog(path: path, durability: .normal) } catch { throw CLIError(error.message) }
        print("seq\tat_ms\tnamespace\trule\tkey\thits")
        do {
            if let key {
                for event in try log.events(namespace: namespace, key: key) { print(line(event)) }
            } else {
                try log.replay(after: 0) { event in
                    if namespace == nil || event.namespace == namespace { print(line(event)) }
                }
            }
        } catch let error as StoreError {
            throw CLIError(error.message)
        }
    }

    /// Asks any node where `key` lives, then the owner for its events.
    private func fromOwner(key: String) async throws {
        let config = try options.load()
        let encodedKey = queryEncoded(key)
        let encodedRule = queryEncoded(rule)
        let placement = try await adminGet("/admin/ring?key=\(encodedKey)&rule=\(encodedRule)", config: config, target: target)
        guard let owner = placement[member: "owner"]?.stringValue, !owner.isEmpty,
              let namespace = placement[member: "namespace"]?.stringValue else {
            throw CLIError("no node owns \(key) yet: the cluster has not agreed on placement")
        }
        let members = try await adminGet("/admin/members", config: config, target: target).arrayValue
        guard let address = members.first(where: { $0[member: "id"]?.stringValue == owner })?[member: "http_address"]?.stringValue else {
            throw CLIError("the owner \(owner) of \(key) is not among the members")
        }
        var owned = target
        owned.url = "http://\(address)"
        let events = try await adminGet("/admin/events?key=\(encodedKey)&namespace=\(queryEncoded(namespace))", config: config,
                                        target: owned).arrayValue
        print("# \(key) (rule \(rule)) is owned by \(owner) at http://\(address): \(events.count) events")
        print("seq\tat_ms\tnamespace\trule\tkey\thits")
        for event in events {
            let fields = ["seq", "at_ms", "namespace", "rule", "key", "hits"].map { name -> String in
                switch event[member: name] {
                case .integer(let value)?: "\(value)"
                case .string(let value)?: value
                default: ""
                }
            }
            print(fields.joined(separator: "\t"))
        }
    }

    private func line(_ event: HitEvent) -> String {
        "\(event.seq)\t\(event.atMs)\t\(event.namespace)\t\(event.rule)\t\(event.key)\t\(event.hits)"
    }
}
