import Foundation

/// `cluster/<env>.toml` (DESIGN.md §3): nodes, coordinator, replicas, paths.
extension ConfigLoader {
    /// The topology of `environment`, nil when its file does not exist (a
    /// single-process development run needs none).
    static func loadTopology(
        environment: String, baseDirectory: String, into problems: inout [ConfigError]
    ) -> ClusterTopology? {
        let file = "cluster/\(environment).toml"
        let path = resolve(file, against: baseDirectory)
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        switch readDocument(at: path, displayName: file) {
        case .failure(let problem):
            problems.append(problem)
            return nil
        case .success(let entries):
            return parseTopology(
                TableReader(file: file, entries: entries), environment: environment,
                baseDirectory: baseDirectory, into: &problems)
        }
    }

    static func parseTopology(
        _ root: TableReader, environment: String, baseDirectory: String, into problems: inout [ConfigError]
    ) -> ClusterTopology {
        var topology = ClusterTopology()
        var listeners = ListenerRegistry()
        // A misspelt key would otherwise be a setting silently left at its default.
        root.rejectUnknownKeys(known: ["certs_dir", "coordinator", "nodes", "replicas", "on_unavailable", "forward_window_us"],
                               into: &problems)
        let certsDir = nonEmptyPath(root, "certs_dir", into: &problems) ?? "cluster/certs/\(environment)"
        topology.certsDir = resolve(certsDir, against: baseDirectory)

        if let coordinator = root.table("coordinator", into: &problems) {
            coordinator.rejectUnknownKeys(known: ["host", "http_port", "peer_port"], into: &problems)
            let host = hostName(coordinator, into: &problems)
            let http = port(coordinator, "http_port", host: host, listeners: &listeners, into: &problems)
            let peer = port(coordinator, "peer_port", host: host, listeners: &listeners, into: &problems)
            if let http, let peer {
                topology.coordinator = Endpoint(host: host, httpPort: http, peerPort: peer)
            }
        }

        var firstID: [String: String] = [:]
        var firstDataDir: [String: String] = [:]
        let entries = root.tables("nodes", into: &problems)
        for (_, entry) in entries {
            entry.rejectUnknownKeys(known: ["id", "host", "http_port", "peer_port", "data_dir"], into: &problems)
            let id = nodeID(entry, firstID: &firstID, into: &problems)
            let host = hostName(entry, into: &problems)
            let http = port(entry, "http_port", host: host, listeners: &listeners, into: &problems)
            let peer = port(entry, "peer_port", host: host, listeners: &listeners, into: &problems)
            let dataDir = resolve(
                nonEmptyPath(entry, "data_dir", into: &problems) ?? "cluster/data/\(environment)/\(id ?? "")",
                against: baseDirectory)
            // Two nodes appending to one SQLite log would corrupt it.
            if let first = firstDataDir[dataDir] {
                problems.append(entry.error(.invalidValue, "data_dir", "\(dataDir) is already used by \(first)"))
            } else {
                firstDataDir[dataDir] = entry.path
            }
            if let id, let http, let peer {
                topology.nodes.append(NodeSpec(id: id, host: host, httpPort: http, peerPort: peer, dataDir: dataDir))
            }
        }

        if entries.isEmpty && !root.has("nodes") {
            problems.append(root.error(.missingKey, "nodes", "at least one [[nodes]] entry is required"))
        }
        if let replicas = root.integer("replicas", into: &problems) {
            topology.replicas = replicas
            if !(1...2).contains(replicas) {
                problems.append(root.error(.invalidReplicas, "replicas",
                                           "must be 1 (single copy) or 2 (owner and one replica), got \(replicas)"))
            } else if !entries.isEmpty && !(1...entries.count).contains(replicas) {
                problems.append(
                    root.error(
                        .invalidReplicas, "replicas",
                        "must be between 1 and \(entries.count) (the number of nodes), got \(replicas)"))
            } else if entries.isEmpty && replicas < 1 {
                problems.append(root.error(.invalidReplicas, "replicas", "must be at least 1, got \(replicas)"))
            }
        }
        if let mode = unavailableMode(root, into: &problems) {
            topology.onUnavailable = mode
        }
        if let window = root.integer("forward_window_us", in: 0...ClusterTopology.maxForwardWindowMicros, into: &problems) {
            topology.forwardWindowMicros = window
        }
        return topology
    }

    /// A path key, nil when absent; an empty one is an error (it would resolve
    /// to the project directory itself).
    private static func nonEmptyPath(_ table: TableReader, _ key: String, into problems: inout [ConfigError]) -> String? {
        guard let path = table.string(key, into: &problems) else { return nil }
        guard !path.trimmingCharacters(in: .whitespaces).isEmpty else {
            problems.append(table.error(.invalidValue, key, "must not be empty"))
            return nil
        }
        return path
    }

    /// `on_unavailable = "deny" | "allow"` (DESIGN.md §6), nil when absent or invalid.
    private static func unavailableMode(_ root: TableReader, into problems: inout [ConfigError]) -> UnavailableMode? {
        guard let text = root.string("on_unavailable", into: &problems) else { return nil }
        guard let mode = UnavailableMode(rawValue: text) else {
            let accepted = UnavailableMode.allCases.map { "\"\($0.rawValue)\"" }.joined(separator: " or ")
            problems.append(root.error(.invalidValue, "on_unavailable", "must be \(accepted), got \"\(text)\""))
            return nil
        }
        return mode
    }

    /// Node ids appear in certificate URI SANs (`spiffe://ratelimit/<env>/<id>`)
    /// and directory names, so `[a-z0-9-]+`, and must be unique.
    private static func nodeID(
        _ entry: TableReader, firstID: inout [String: String], into problems: inout [ConfigError]
    ) -> String? {
        guard let id = entry.string("id", required: true, into: &problems) else { return nil }
        let valid =
            !id.isEmpty
            && id.unicodeScalars.allSatisfy { ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "-" }
        guard valid else {
            problems.append(entry.error(.invalidNodeID, "id", "node ids must match [a-z0-9-]+, got \"\(id)\""))
            return nil
        }
        // The coordinator's certificate and membership identity.
        guard id != "coordinator" else {
            problems.append(entry.error(.invalidNodeID, "id", "\"coordinator\" is reserved for the [coordinator]'s identity"))
            return nil
        }
        if let first = firstID[id] {
            problems.append(entry.error(.duplicateNode, "id", "duplicate node id \"\(id)\" (first at \(first))"))
            return nil
        }
        firstID[id] = entry.path
        return id
    }

    private static func hostName(_ entry: TableReader, into problems: inout [ConfigError]) -> String {
        let host = entry.string("host", into: &problems) ?? "127.0.0.1"
        if host.isEmpty || host.contains(where: \.isWhitespace) {
            problems.append(entry.error(.invalidValue, "host", "not a host name or address: \"\(host)\""))
        }
        return host
    }

    /// A required port in 1...65535 not already claimed on the same host.
    private static func port(
        _ entry: TableReader, _ key: String, host: String,
        listeners: inout ListenerRegistry, into problems: inout [ConfigError]
    ) -> Int? {
        guard let port = entry.integer(key, required: true, into: &problems) else { return nil }
        guard (1...65535).contains(port) else {
            problems.append(entry.error(.outOfRange, key, "port must be in 1...65535, got \(port)"))
            return nil
        }
        if let owner = listeners.claim(host: host, port: port, by: entry.keyPath(key)) {
            problems.append(entry.error(.duplicatePort, key, "\(host):\(port) is already used by \(owner)"))
        }
        return port
    }

    /// Which key first claimed each host and port. Hosts are compared as
    /// written; `localhost` and `127.0.0.1` are not unified.
    struct ListenerRegistry {
        private var owners: [String: String] = [:]

        /// Records `key` as the owner, or returns the earlier owner.
        mutating func claim(host: String, port: Int, by key: String) -> String? {
            let address = "\(host):\(port)"
            if let owner = owners[address] { return owner }
            owners[address] = key
            return nil
        }
    }
}

extension ConfigLoader {
    /// Another environment's topology, read on its own: the production
    /// coordinator asks the staging coordinator named in `cluster/staging.toml`.
    public static func topology(environment: String, baseDirectory: String) throws(ConfigProblems) -> ClusterTopology? {
        var problems: [ConfigError] = []
        let topology = loadTopology(environment: environment, baseDirectory: baseDirectory, into: &problems)
        guard problems.isEmpty else { throw ConfigProblems(problems) }
        return topology
    }
}
