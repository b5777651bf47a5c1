import Logging
import Synchronization

/// Collects log records so tests can check that a refusal was logged with its reason.
final class LogCapture: Sendable {
    struct Record: Sendable {
        var level: Logger.Level
        var message: String
        var metadata: [String: String]
    }

    private let records = Mutex<[Record]>([])

    func logger(label: String = "test", level: Logger.Level = .debug) -> Logger {
        var logger = Logger(label: label) { _ in Handler(capture: self) }
        logger.logLevel = level
        return logger
    }

    var all: [Record] { self.records.withLock { $0 } }

    func messages(containing text: String) -> [Record] {
        self.all.filter { $0.message.contains(text) }
    }

    /// Polls until a record containing `text` shows up or `timeout` passes. Logging
    /// happens on the event loop, after the client has already seen the outcome.
    func waitFor(_ text: String, timeout: Duration = .seconds(5)) async -> Record? {
        let clock = ContinuousClock()
        let deadline = clock.now + timeout
        while clock.now < deadline {
            if let found = self.messages(containing: text).first { return found }
            try? await Task.sleep(for: .milliseconds(10))
        }
        return self.messages(containing: text).first
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
