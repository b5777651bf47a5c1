import Foundation
import EventStore
import LimiterCore
@testable import NodeServer

/// An engine over a real SQLite file in a fresh temporary directory, which
/// stays as long as the test process (the engine has no hook to remove it).
func makeTestEngine(node: String = "n1", rules: [String: Rule], clock: any WallClock = ManualClock()) throws -> LimiterEngine {
    let directory = NSTemporaryDirectory() + "nodeserver-\(UUID().uuidString)"
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    let log = try EventLog(path: directory + "/events.sqlite", durability: .normal)
    return try LimiterEngine(nodeID: node, rules: rules, log: log, clock: clock)
}

func rule(_ name: String, limit: Int, period: Int = 60, algorithm: Algorithm = .fixedWindow, namespace: String = "1001") -> Rule {
    Rule(name: name, namespaceID: namespace, limit: limit, periodSeconds: period, algorithm: algorithm, burst: limit)
}

extension LimiterEngine.Outcome {
    /// Waits for the answer whether it was ready at once or follows a commit.
    static func await(_ start: (@escaping @Sendable (Result<[CheckResult], APIProblem>) -> Void) -> LimiterEngine.Outcome)
        async -> Result<[CheckResult], APIProblem> {
        await withCheckedContinuation { continuation in
            if case .done(let result) = start({ continuation.resume(returning: $0) }) { continuation.resume(returning: result) }
        }
    }
}
