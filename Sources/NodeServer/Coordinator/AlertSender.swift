import Alerting
import Foundation
import Logging
import ServiceLifecycle

/// Delivers alerts to `ALERT_WEBHOOK_URL` with `Authorization: Bearer
/// MONITORING_TOKEN` (DESIGN §8): each alert is queued and POSTed by this
/// service's own task, retried on a failure or a non-2xx answer with the
/// backoff of ``RetrySchedule``, so neither checks nor a rollback ever wait
/// for the receiver.
final class AlertSender: Service {
    struct Target: Sendable {
        var host: String
        var port: Int
        var path: String
        var token: String

        /// `http://HOST[:PORT]/PATH`; nil with a reason for anything else.
        static func parse(url: String, token: String) -> Result<Target, CLIStyleError> {
            guard let parsed = URL(string: url), parsed.scheme == "http", let host = parsed.host, !host.isEmpty else {
                return .failure(CLIStyleError("ALERT_WEBHOOK_URL: expected http://HOST:PORT/PATH, got \"\(url)\""))
            }
            let path = parsed.path.isEmpty ? "/" : parsed.path + (parsed.query.map { "?\($0)" } ?? "")
            return .success(Target(host: host, port: parsed.port ?? 80, path: path, token: token))
        }
    }

    struct CLIStyleError: Error, CustomStringConvertible {
        var description: String
        init(_ description: String) { self.description = description }
    }

    private let target: Target?
    private let schedule: RetrySchedule
    private let logger: Logger
    private let stream: AsyncStream<AlertNotification>
    private let continuation: AsyncStream<AlertNotification>.Continuation

    /// `target` nil: alerts are logged only (development without a webhook).
    init(target: Target?, schedule: RetrySchedule = RetrySchedule(firstDelay: 500, maxDelay: 10_000, maxAttempts: 6),
         logger: Logger) {
        self.target = target
        self.schedule = schedule
        self.logger = logger
        (stream, continuation) = AsyncStream.makeStream(of: AlertNotification.self)
    }

    /// Queues `alert`; returns at once.
    func send(_ alert: AlertNotification) {
        logger.notice("alert", metadata: ["alert": "\(alert.alert)", "status": "\(alert.status.rawValue)", "message": "\(alert.message)"])
        continuation.yield(alert)
    }

    func run() async throws {
        await withDiscardingTaskGroup { group in
            for await alert in stream.cancelOnGracefulShutdown() {
                group.addTask { await self.deliver(alert) }
            }
        }
    }

    private func deliver(_ alert: AlertNotification) async {
        guard let target else { return }
        var attempt = 1
        while true {
            var failure: String
            do {
                let response = try await NodeClient.request(
                    .POST, host: target.host, port: target.port, path: target.path,
                    headers: [("authorization", "Bearer \(target.token)"), ("content-type", "application/json")],
                    body: alert.jsonBytes, timeout: .seconds(5))
                if (200..<300).contains(response.status) { return }
                failure = "answered \(response.status)"
            } catch {
                failure = "\(error)"
            }
            guard let delay = schedule.delay(afterAttempt: attempt) else {
                logger.error("alert not delivered", metadata: ["alert": "\(alert.alert)", "attempts": "\(attempt)", "error": "\(failure)"])
                return
            }
            logger.warning("alert delivery failed, retrying", metadata: ["attempt": "\(attempt)", "error": "\(failure)", "retry_in_ms": "\(delay)"])
            do { try await Task.sleep(for: .milliseconds(delay)) } catch { return }
            attempt += 1
        }
    }
}
