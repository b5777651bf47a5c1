import EventStore
import Foundation

/// A fresh directory under the system temp dir, removed when the test ends.
final class TempDirectory {
    let path: String

    init() throws {
        path = NSTemporaryDirectory() + "eventstore-tests-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    func file(_ name: String) -> String { path + "/" + name }

    deinit {
        try? FileManager.default.removeItem(atPath: path)
    }
}

/// A one-line event builder for tests.
func hit(_ key: String, namespace: String = "1001", rule: String = "API", at atMs: Int64, hits: Int = 1) -> NewEvent {
    NewEvent(namespace: namespace, key: key, rule: rule, atMs: atMs, hits: hits)
}

extension EventLog {
    /// Every event after `seq`, collected.
    func allEvents(after seq: Int64 = 0) throws -> [HitEvent] {
        var events: [HitEvent] = []
        try replay(after: seq) { events.append($0) }
        return events
    }
}
