import JSONCore
import Foundation
import NodeServer
import Synchronization
import TestSupport
import Testing

@Suite("kill -9 loses no acknowledged hit", .serialized)
struct CrashTests {
    /// Given concurrent clients on keys with a small exact limit (EXACT:
    /// sliding_log, 7 per hour), when the node is killed with SIGKILL mid-load
    /// and restarted on the same data dir, then for every key the hits
    /// acknowledged before the crash plus those admitted after never exceed
    /// the limit: every acknowledged hit was in the log.
    @Test("a node killed mid-load and restarted never admits more than the limit per key")
    func killNineMidLoad() async throws {
        let cluster = try NodeProcessCluster(nodeCount: 1)
        let keys = (0..<40).map { "crash:\($0)" }
        let load = LoadState()
        let process = try cluster.start("n1")
        try await cluster.waitHealthy("n1")

        let port = cluster.node("n1").httpPort
        await withTaskGroup(of: Void.self) { group in
            for worker in 0..<16 {
                group.addTask {
                    var index = worker
                    while !load.stop.load(ordering: .relaxed) {
                        let key = keys[index % keys.count]
                        index += 7
                        load.attempts.add(1, ordering: .relaxed)
                        let body = Array("{\"key\":\"\(key)\",\"rule\":\"EXACT\",\"hits\":1}".utf8)
                        guard let response = try? await NodeClient.request(.POST, host: "127.0.0.1", port: port,
                                                                           path: "/v1/check", body: body, timeout: .seconds(2))
                        else { continue }
                        if response.status == 200, response.json?[member: "allowed"]?.bool == true {
                            load.acknowledged.withLock { $0[key, default: 0] += 1 }
                        }
                    }
                }
            }
            group.addTask {
                // Let load build, then pull the plug while requests are in flight.
                _ = try? await poll("150 checks attempted", within: .seconds(20), every: .milliseconds(10)) {
                    load.attempts.load(ordering: .relaxed) >= 150
                }
                await process.kill9()
                load.stop.store(true, ordering: .relaxed)
            }
        }
        let before = load.acknowledged.withLock { $0 }
        #expect(before.values.reduce(0, +) > 0, "some hits were acknowledged before the crash")

        try cluster.start("n1")
        try await cluster.waitHealthy("n1")
        for key in keys {
            // Every acknowledged hit is in the log (it may hold more: hits
            // committed whose answers the crash cut off).
            let logged = try await cluster.get("n1", path: "/admin/events?key=\(key)", admin: true)
            let loggedHits = (logged.json?.array ?? []).compactMap { $0[member: "hits"]?.int }.reduce(0, +)
            #expect(loggedHits >= Int64(before[key] ?? 0), "key \(key): \(before[key] ?? 0) acknowledged, \(loggedHits) logged")
            var admittedAfter = 0
            for _ in 0..<8 {
                let response = try await cluster.check("n1", key: key, rule: "EXACT")
                if response.json?[member: "allowed"]?.bool == true { admittedAfter += 1 }
            }
            let total = (before[key] ?? 0) + admittedAfter
            #expect(total <= 7, "key \(key): \(before[key] ?? 0) acknowledged before the crash + \(admittedAfter) after > limit 7")
        }
        await cluster.stopAll()
    }
}

/// What the load workers share: when to stop, how many tried, what was acknowledged.
final class LoadState: Sendable {
    let stop = Atomic<Bool>(false)
    let attempts = Atomic<Int>(0)
    let acknowledged = Mutex<[String: Int]>([:])
}
