import Logging
import Synchronization

/// Collects log records so tests can check that something was logged, with
/// its reason, by code that takes a `Logger`.
public final class LogCapture: Sendable {
    public struct Record: Sendable {
        public var level: Logger.Level
        public var message: String
        public var metadata: [String: String]
    }

    private let records = Mutex<[Record]>([])

    public init() {}

    public func logger(label: String = "test", level: Logger.Level = .debug) -> Logger {
        var logger = Logger(label: label) { _ in Handler(capture: self) }
        logger.logLevel = level
        return logger
    }

    public var all: [Record] { self.records.withLock { $0 } }

    /// The records whose message contains `text` and whose metadata has every
    /// pair in `metadata` (say, which node logged it, when both ends of a
    /// connection log the same reason).
    public func messages(containing text: String, metadata: [String: String] = [:]) -> [Record] {
        self.all.filter { record in
            record.message.contains(text) && metadata.allSatisfy { record.metadata[$0.key] == $0.value }
        }
    }

    /// The first record matching `text` and `metadata` (see
    /// ``messages(containing:metadata:)``), once there is one, or nil if none
    /// shows up within `timeout`. Code often logs after the caller has seen
    /// the outcome (on an event loop, say), so a test must wait for the line.
    public func waitFor(_ text: String, metadata: [String: String] = [:], timeout: Duration = .seconds(5)) async -> Record? {
        _ = try? await poll("a log record containing \(text) with \(metadata)", within: timeout, every: .milliseconds(10)) {
            !self.messages(containing: text, metadata: metadata).isEmpty
        }
        return self.messages(containing: text, metadata: metadata).first
    }

    fileprivate func append(_ record: Record) {
        self.records.withLock { $0.append(record) }
    }

    private struct Handler: LogHandler {
        let capture: LogCapture
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .trace

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { self.metadata[key] }
            set { self.metadata[key] = newValue }
        }

        func log(event: LogEvent) {
            var merged = self.metadata
            if let extra = event.metadata { merged.merge(extra) { $1 } }
            self.capture.append(Record(
                level: event.level,
                message: event.message.description,
                metadata: merged.mapValues { "\($0)" }
            ))
        }
    }
}
