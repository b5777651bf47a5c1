import ChaosCore
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The chaos run's own project directory under the system temp dir:
/// wrangler.toml with the workload's rules, `cluster/development.toml`
/// listing every node on free loopback ports with `replicas`, data dirs and
/// certificates inside it. Nothing outside it is read or written.
struct ChaosProject: Sendable {
    static let environment = "development"

    struct Node: Sendable {
        var id: String
        var httpPort: Int
        var peerPort: Int
    }

    let directory: String
    let nodes: [Node]
    let replicas: Int

    /// Writes the files; the certificates come from ``initCertificates(executable:)``.
    init(listedNodes: Int, replicas: Int, workload: ChaosWorkload) throws {
        directory = NSTemporaryDirectory() + "ratelimit-chaos-\(UUID().uuidString.prefix(8))"
        self.replicas = replicas
        var ports = FreePorts()
        nodes = (1...listedNodes).map { Node(id: "n\($0)", httpPort: ports.next(), peerPort: ports.next()) }
        try FileManager.default.createDirectory(atPath: directory + "/cluster", withIntermediateDirectories: true)
        let wrangler = """
            name = "ratelimit-chaos"
            main = "Sources/ratelimit/Entry.swift"
            compatibility_date = "2024-01-22"

            [durable_objects]
            bindings = [{ name = "RATE_LIMIT", class_name = "RateLimitDO" }]

            [[migrations]]
            tag = "v1"
            new_classes = ["RateLimitDO"]

            \(workload.wranglerRules)
            """
        try wrangler.write(toFile: directory + "/wrangler.toml", atomically: true, encoding: .utf8)
        var topology = """
            # Written by `ratelimit chaos`: every node it may start, on free loopback ports.
            replicas = \(replicas)
            certs_dir = "cluster/certs/\(Self.environment)"

            """
        for node in nodes {
            topology += """

                [[nodes]]
                id = "\(node.id)"
                host = "127.0.0.1"
                http_port = \(node.httpPort)
                peer_port = \(node.peerPort)
                data_dir = "cluster/data/\(Self.environment)/\(node.id)"

                """
        }
        try topology.write(toFile: directory + "/cluster/\(Self.environment).toml", atomically: true, encoding: .utf8)
    }

    /// Runs `ratelimit certs init` in the project: the CA and a certificate per listed node.
    func initCertificates(executable: String) async throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = ["certs", "init", "--env", Self.environment]
        process.currentDirectoryURL = URL(fileURLWithPath: directory)
        let logPath = directory + "/certs-init.log"
        _ = FileManager.default.createFile(atPath: logPath, contents: nil)
        let output = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
        defer { try? output.close() }
        process.standardOutput = output
        process.standardError = output
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let deadline = ContinuousClock.now + .seconds(60)
        while process.isRunning && ContinuousClock.now < deadline {
            do {
                try await Task.sleep(for: .milliseconds(20))
            } catch {
                kill(process.processIdentifier, SIGKILL)
                throw error
            }
        }
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            throw ChaosError("ratelimit certs init did not finish within 60 s")
        }
        guard process.terminationStatus == 0 else {
            let log = (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
            throw ChaosError("ratelimit certs init exited with \(process.terminationStatus): \(log)")
        }
    }

    func remove() {
        try? FileManager.default.removeItem(atPath: directory)
    }
}

/// Ports nobody listens on now, taken below Linux's ephemeral range
/// (32768-60999) as the end-to-end tests take theirs: a port the kernel
/// hands out for bind(0) can become the source port of an outgoing
/// connection (the clients', the nodes' peer links) before the node binds it.
public struct FreePorts {
    private var candidate = 20_000 + Int.random(in: 0..<10_000)

    public init() {}

    public mutating func next() -> Int {
        while true {
            let port = candidate
            candidate = candidate >= 31_999 ? 20_000 : candidate + 1
            if Self.canBind(port) { return port }
        }
    }

    /// Whether nothing listens on (or holds) `port` of 127.0.0.1 now.
    public static func canBind(_ port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let length = socklen_t(MemoryLayout<sockaddr_in>.size)
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) }
        } == 0
    }
}

/// A failure of the harness itself (not of the cluster under test): a node
/// that would not start, a missing binary, a port clash.
public struct ChaosError: Error, Sendable, CustomStringConvertible {
    public var description: String

    public init(_ description: String) { self.description = description }
}
