import Config
import Foundation
import Logging
import NIOCore
import NIOPosix
@testable import NodeServer
import PeerTransport
import ServiceLifecycle
import TestSupport

/// Node n1 of a two-node topology, run in this test process from a
/// temporary project (wrangler.toml, cluster/development.toml, certificates
/// for n1, n2 and n3): its real SQLite log, HTTP port and mutual-TLS peer
/// port, as `ratelimit node --id n1` would run them. n2 is in the topology
/// but never runs (n1's dials to it are refused), so a test can speak as n2
/// with n2's certificate; n3 has a certificate from the same CA but is in no
/// topology. (Whole node processes are EndToEndTests' `NodeProcessCluster`.)
struct InProcessNode {
    static let environment = "development"

    let runtime: NodeRuntime
    let certsDirectory: String
    let logs: LogCapture

    var httpPort: Int { runtime.httpPort }
    var peerPort: Int { runtime.spec.peerPort }

    /// Starts n1 with `rules` (wrangler.toml `[[ratelimits]]` tables), runs
    /// `body`, then shuts the node down gracefully and removes the project.
    static func run<T: Sendable>(rules: String, _ body: (InProcessNode) async throws -> T) async throws -> T {
        let project = try TemporaryDirectory(prefix: "inprocess-node")
        defer { withExtendedLifetime(project) {} }
        let ports = try freeLoopbackPorts(4)
        try """
        name = "rate-limit"
        main = "Sources/ratelimit/Entry.swift"
        compatibility_date = "2024-01-22"

        [durable_objects]
        bindings = [{ name = "RATE_LIMIT", class_name = "RateLimitDO" }]

        [[migrations]]
        tag = "v1"
        new_classes = ["RateLimitDO"]

        \(rules)
        """.write(toFile: project.file("wrangler.toml"), atomically: true, encoding: .utf8)
        try FileManager.default.createDirectory(atPath: project.file("cluster"), withIntermediateDirectories: true)
        try """
        replicas = 1
        certs_dir = "cluster/certs/\(environment)"

        [[nodes]]
        id = "n1"
        host = "127.0.0.1"
        http_port = \(ports[0])
        peer_port = \(ports[1])
        data_dir = "cluster/data/n1"

        [[nodes]]
        id = "n2"
        host = "127.0.0.1"
        http_port = \(ports[2])
        peer_port = \(ports[3])
        data_dir = "cluster/data/n2"
        """.write(toFile: project.file("cluster/\(environment).toml"), atomically: true, encoding: .utf8)
        let certsDirectory = project.file("cluster/certs/\(environment)")
        try ClusterCertificates.initCluster(directory: certsDirectory, environment: environment, nodes: ["n1", "n2", "n3"])

        let config = try ConfigLoader.load(wranglerPath: project.file("wrangler.toml"), environment: environment,
                                           processEnvironment: ["ADMIN_TOKEN": adminToken])
        let logs = LogCapture()
        let logger = logs.logger(label: "n1", level: .info)
        var options = NodeRuntime.Options(nodeID: "n1")
        options.durability = .normal
        let runtime = try await NodeRuntime.start(config: config, options: options, logger: logger)
        // Its own group, without signal handlers: the test process keeps its own.
        let group = ServiceGroup(configuration: .init(services: runtime.services.map { .init(service: $0) }, logger: logger))
        return try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            let node = InProcessNode(runtime: runtime, certsDirectory: certsDirectory, logs: logs)
            do {
                let result = try await body(node)
                await group.triggerGracefulShutdown()
                try await tasks.waitForAll()
                return result
            } catch {
                await group.triggerGracefulShutdown()
                try? await tasks.waitForAll()
                throw error
            }
        }
    }

    static let adminToken = "test-admin-token"

    /// `GET path` on the node's HTTP port (with the admin token when `admin`).
    func get(_ path: String, admin: Bool = false) async throws -> NodeClient.Response {
        try await NodeClient.request(.GET, host: "127.0.0.1", port: httpPort, path: path,
                                     headers: admin ? [("authorization", "Bearer \(Self.adminToken)")] : [])
    }

    func post(_ path: String, body: String) async throws -> NodeClient.Response {
        try await NodeClient.request(.POST, host: "127.0.0.1", port: httpPort, path: path, body: Array(body.utf8))
    }

    /// `rate_limit_peer_rejected_total` by reason, as the node's `/metrics` exports it.
    func rejectedCounts() async throws -> [String: Int64] {
        let metrics = try await get("/metrics")
        var counts: [String: Int64] = [:]
        for line in metrics.text.split(separator: "\n") where line.hasPrefix("rate_limit_peer_rejected_total{") {
            guard let sample = MetricsScrape.Sample(line), sample.labels["node"] == "n1", let reason = sample.labels["reason"] else { continue }
            counts[reason] = sample.value
        }
        return counts
    }
}

/// `count` distinct ports on 127.0.0.1 that were free a moment ago: each
/// bound to port 0, so the kernel picked it from the ephemeral range, and all
/// held until every one is picked. (Released one by one, the same port
/// could come back twice.)
func freeLoopbackPorts(_ count: Int) throws -> [Int] {
    var descriptors: [Int32] = []
    defer { for fd in descriptors { close(fd) } }
    var ports: [Int] = []
    for _ in 0..<count {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw TestFailure("socket() failed: errno \(errno)") }
        descriptors.append(fd)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { socketAddress in
                bind(fd, socketAddress, length) == 0 && getsockname(fd, socketAddress, &length) == 0
            }
        }
        guard bound else { throw TestFailure("cannot bind a loopback port: errno \(errno)") }
        ports.append(Int(UInt16(bigEndian: address.sin_port)))
    }
    return ports
}
