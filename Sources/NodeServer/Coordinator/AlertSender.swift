import Alerting
import Foundation
import Logging
import NIOSSL
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
        /// https: the receiver's certificate must chain to a trusted root
        /// and name `host` (``makeTLSContext(environment:)``).
        var https: Bool

        /// `http(s)://HOST[:PORT]/PATH`; a failure naming the variable for anything else.
        static func parse(url: String, token: String) -> Result<Target, CLIStyleError> {
            guard let parsed = URL(string: url), let scheme = parsed.scheme?.lowercased(), scheme == "http" || scheme == "https",
                  let host = parsed.host, !host.isEmpty
            else {
                return .failure(CLIStyleError("ALERT_WEBHOOK_URL: expected http(s)://HOST[:PORT]/PATH, got \"\(url)\""))
            }
            let path = parsed.path.isEmpty ? "/" : parsed.path + (parsed.query.map { "?\($0)" } ?? "")
            let https = scheme == "https"
            // URL keeps the brackets of an IPv6 literal in `host`; a socket address has none.
            let bare = host.hasPrefix("[") && host.hasSuffix("]") ? String(host.dropFirst().dropLast()) : host
            return .success(Target(host: bare, port: parsed.port ?? (https ? 443 : 80), path: path, token: token, https: https))
        }
    }

    /// The client TLS context for an https webhook: TLS 1.2 or later, the
    /// receiver's certificate checked against the system's trusted roots, or
    /// against the PEM file `SSL_CERT_FILE` names when it is set (as curl and
    /// OpenSSL read it), e.g. for a receiver behind a private CA.
    static func makeTLSContext(environment: [String: String]) -> Result<NIOSSLContext, CLIStyleError> {
        var configuration = TLSConfiguration.makeClientConfiguration()
        configuration.minimumTLSVersion = .tlsv12
        if let file = environment["SSL_CERT_FILE"], !file.isEmpty {
            guard FileManager.default.isReadableFile(atPath: file) else {
                return .failure(CLIStyleError("SSL_CERT_FILE: cannot read \"\(file)\" (the roots an https ALERT_WEBHOOK_URL is checked against)"))
            }
            configuration.trustRoots = .file(file)
        }
        do {
            return .success(try NIOSSLContext(configuration: configuration))
        } catch {
            let source = environment["SSL_CERT_FILE"].map { "SSL_CERT_FILE \"\($0)\"" } ?? "the system's trusted roots"
            return .failure(CLIStyleError("cannot set up TLS for ALERT_WEBHOOK_URL from \(source): \(error)"))
        }
    }

    struct CLIStyleError: Error, CustomStringConvertible {
        var description: String
        init(_ description: String) { self.description = description }
    }

    private let target: Target?
    /// Set when `target` is https.
    private let tls: NIOSSLContext?
    private let schedule: RetrySchedule
    private let logger: Logger
    private let stream: AsyncStream<AlertNotification>
    private let continuation: AsyncStream<AlertNotification>.Continuation
    /// Tests replace the webhook POST to watch the order of deliveries.
    private let deliverOverride: (@Sendable (AlertNotification) async -> Void)?

    /// `target` nil: alerts are logged only (development without a webhook).
    /// An https `target` needs `tls`.
    init(target: Target?, tls: NIOSSLContext? = nil,
         schedule: RetrySchedule = RetrySchedule(firstDelay: 500, maxDelay: 10_000, maxAttempts: 6), logger: Logger,
         deliver: (@Sendable (AlertNotification) async -> Void)? = nil) {
        precondition(target?.https != true || tls != nil, "an https webhook needs a TLS context")
        deliverOverride = deliver
        self.target = target
        self.tls = target?.https == true ? tls : nil
        self.schedule = schedule
        self.logger = logger
        (stream, continuation) = AsyncStream.makeStream(of: AlertNotification.self)
    }

    /// Queues `alert`; returns at once.
    func send(_ alert: AlertNotification) {
        logger.notice("alert", metadata: ["alert": "\(alert.alert)", "status": "\(alert.status.rawValue)", "message": "\(alert.message)"])
        continuation.yield(alert)
    }

    /// Delivers each alert name's notifications in the order they were
    /// queued (a "resolved" never overtakes the "firing" still being
    /// retried); different alerts go out side by side.
    func run() async throws {
        await withDiscardingTaskGroup { group in
            var lanes: [String: AsyncStream<AlertNotification>.Continuation] = [:]
            for await alert in stream.cancelOnGracefulShutdown() {
                if let lane = lanes[alert.alert] {
                    lane.yield(alert)
                    continue
                }
                let (queued, lane) = AsyncStream.makeStream(of: AlertNotification.self)
                lanes[alert.alert] = lane
                lane.yield(alert)
                group.addTask {
                    for await next in queued { await self.deliver(next) }
                }
            }
            for lane in lanes.values { lane.finish() }
        }
    }

    private func deliver(_ alert: AlertNotification) async {
        if let deliverOverride { return await deliverOverride(alert) }
        guard let target else { return }
        var attempt = 1
        while true {
            var failure: String
            do {
                let response = try await NodeClient.request(
                    .POST, host: target.host, port: target.port, path: target.path,
                    headers: [("authorization", "Bearer \(target.token)"), ("content-type", "application/json")],
                    body: alert.jsonBytes, timeout: .seconds(5), tls: tls)
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
