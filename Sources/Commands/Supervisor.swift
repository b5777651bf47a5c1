import Config
import Foundation
import NodeServer
import UnixSignals
#if canImport(Glibc)
import Glibc
#endif

/// The processes `ratelimit up` started (the nodes, and the coordinator
/// when the topology has one); it stops them by pid.
final class Supervisor: @unchecked Sendable {
    // @unchecked: `children` is written once in init; Process is thread-safe
    // for the calls made here (isRunning, terminationStatus, pid).
    struct Child {
        var spec: Spec
        var process: Process
    }

    /// One process to run: a node, or the coordinator.
    struct Spec: Sendable {
        var id: String
        var host: String
        var httpPort: Int
        var isCoordinator: Bool
    }

    let children: [Child]

    init(executable: String, config: String, environment: String, nodes: [NodeSpec], coordinator: Endpoint?) throws {
        var specs = nodes.map { Spec(id: $0.id, host: $0.host, httpPort: $0.httpPort, isCoordinator: false) }
        if let coordinator {
            specs.append(Spec(id: "coordinator", host: coordinator.host, httpPort: coordinator.httpPort, isCoordinator: true))
        }
        var children: [Child] = []
        for spec in specs {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: executable)
            process.arguments = spec.isCoordinator
                ? ["coordinator", "--config", config, "--env", environment]
                : ["node", "--config", config, "--env", environment, "--id", spec.id]
            process.standardInput = FileHandle.nullDevice
            do {
                try process.run()
            } catch {
                for child in children { kill(child.process.processIdentifier, SIGTERM) }
                throw CLIError("cannot start \(spec.id): \(error.localizedDescription)")
            }
            children.append(Child(spec: spec, process: process))
        }
        self.children = children
    }

    var nodeCount: Int { children.filter { !$0.spec.isCoordinator }.count }

    /// Polls every node's /health until each answers 200 and sees all the
    /// nodes as alive members, and the coordinator's until it answers 200.
    func waitUntilFormed(within limit: Duration) async throws {
        let deadline = ContinuousClock.now + limit
        var waitingFor = Set(children.map(\.spec.id))
        while !waitingFor.isEmpty {
            for child in children where waitingFor.contains(child.spec.id) {
                if !child.process.isRunning {
                    throw CLIError("node \(child.spec.id) exited with status \(child.process.terminationStatus) while starting")
                }
                let health = try? await NodeClient.request(.GET, host: child.spec.host, port: child.spec.httpPort,
                                                           path: "/health", timeout: .seconds(2))
                if let health, health.status == 200,
                   child.spec.isCoordinator || health.json?[member: "members"] == .integer(Int64(nodeCount)) {
                    waitingFor.remove(child.spec.id)
                }
            }
            guard ContinuousClock.now < deadline else {
                throw CLIError("cluster did not form within \(limit): still waiting for \(waitingFor.sorted().joined(separator: ", "))")
            }
            if !waitingFor.isEmpty { try await Task.sleep(for: .milliseconds(200)) }
        }
    }

    /// Returns nil on a signal, or the first child that exited by itself.
    func waitForSignalOrExit(_ signals: UnixSignalsSequence) async -> (id: String, status: Int32)? {
        await withTaskGroup(of: (id: String, status: Int32)?.self) { group in
            group.addTask {
                for await _ in signals { return nil }
                return nil
            }
            group.addTask { [children] in
                while !Task.isCancelled {
                    for child in children where !child.process.isRunning {
                        return (child.spec.id, child.process.terminationStatus)
                    }
                    try? await Task.sleep(for: .milliseconds(250))
                }
                return nil
            }
            let first = await group.next() ?? nil
            group.cancelAll()
            return first
        }
    }

    /// SIGTERM to each child, SIGKILL to any still running after 15 s.
    func stopAll() async {
        for child in children where child.process.isRunning { kill(child.process.processIdentifier, SIGTERM) }
        let deadline = ContinuousClock.now + .seconds(15)
        while children.contains(where: { $0.process.isRunning }) && ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(50))
        }
        for child in children where child.process.isRunning { kill(child.process.processIdentifier, SIGKILL) }
        print("stopped \(nodeCount) nodes\(children.count > nodeCount ? " and the coordinator" : "")")
    }
}
