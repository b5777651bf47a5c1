import Foundation
import JSONCore
import NodeServer
import Synchronization

/// Checks sent from the test while something else happens (a rollout being
/// judged on them): `workers` concurrent clients, each with one request in
/// flight, over `keys` in turn and through every node in turn, for as long
/// as the body of ``during(_:)`` runs. Real requests to real nodes: the
/// coordinator judges each step on the metrics they leave.
struct CheckLoad: Sendable {
    /// What the checks were answered.
    struct Tally: Sendable, CustomStringConvertible {
        var sent = 0
        /// Transport failures and statuses other than 200.
        var failed = 0
        var decided: [String: Int] = [:]
        var denied: [String: Int] = [:]

        var description: String {
            "\(sent) checks, \(failed) failed; by version: "
                + decided.keys.sorted().map { "\($0) \(decided[$0]!) (\(denied[$0] ?? 0) denied)" }.joined(separator: ", ")
        }
    }

    private final class Shared: Sendable {
        let stop = Atomic<Bool>(false)
        let next = Atomic<Int>(0)
        let tally = Mutex(Tally())
    }

    let ports: [Int]
    let keys: [String]
    let rule: String
    let workers: Int

    init(cluster: NodeProcessCluster, keyPrefix: String, keyCount: Int, rule: String = "API", workers: Int = 4) {
        ports = cluster.nodes.map(\.httpPort)
        keys = (0..<keyCount).map { "\(keyPrefix):\($0)" }
        self.rule = rule
        self.workers = workers
    }

    /// Runs `body` with the load on; stops the load when it returns or throws.
    func during<T>(_ body: () async throws -> T) async throws -> (T, Tally) {
        let shared = Shared()
        let result = try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<workers {
                group.addTask { await self.work(shared) }
            }
            do {
                let result = try await body()
                shared.stop.store(true, ordering: .relaxed)
                try await group.waitForAll()
                return result
            } catch {
                shared.stop.store(true, ordering: .relaxed)
                group.cancelAll()
                throw error
            }
        }
        return (result, shared.tally.withLock { $0 })
    }

    private func work(_ shared: Shared) async {
        while !shared.stop.load(ordering: .relaxed) && !Task.isCancelled {
            let index = shared.next.wrappingAdd(1, ordering: .relaxed).oldValue
            let key = keys[index % keys.count]
            let port = ports[index % ports.count]
            let body = Array("{\"key\":\"\(key)\",\"rule\":\"\(rule)\"}".utf8)
            let response = try? await NodeClient.request(.POST, host: "127.0.0.1", port: port, path: "/v1/check", body: body,
                                                         timeout: .seconds(2))
            guard let response, response.status == 200, let json = response.json,
                  let version = json[member: "version"]?.string else {
                shared.tally.withLock { $0.sent += 1; $0.failed += 1 }
                // A node that is down refuses at once: do not spin on it.
                try? await Task.sleep(for: .milliseconds(20))
                continue
            }
            let allowed = json[member: "allowed"]?.bool ?? false
            shared.tally.withLock {
                $0.sent += 1
                $0.decided[version, default: 0] += 1
                if !allowed { $0.denied[version, default: 0] += 1 }
            }
        }
    }
}
