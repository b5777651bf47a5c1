import Alerting
import Foundation
import Logging
@testable import NodeServer
import Synchronization
import TestSupport
import Testing

/// Where the coordinator sends alerts (`ALERT_WEBHOOK_URL`) and the roots an
/// https receiver is checked against (`SSL_CERT_FILE`); delivery over TLS is
/// tested end to end in `HTTPSWebhookTests`.
struct AlertSenderTests {
    @Test("SSL_CERT_FILE that cannot be read is refused, naming the variable and the file")
    func unreadableRoots() {
        let missing = "/nonexistent/roots-\(UUID().uuidString).pem"
        switch AlertSender.makeTLSContext(environment: ["SSL_CERT_FILE": missing]) {
        case .success: Issue.record("an unreadable SSL_CERT_FILE was accepted")
        case .failure(let error):
            #expect(error.description.hasPrefix("SSL_CERT_FILE:"), "\(error)")
            #expect(error.description.contains(missing), "\(error)")
        }
    }

    @Test("ALERT_WEBHOOK_URL: http and https with their default ports, a path and query kept, anything else refused by name")
    func parsesTargets() throws {
        let plain = try AlertSender.Target.parse(url: "http://hooks.example.com/a?b=1", token: "t").get()
        #expect(plain.host == "hooks.example.com" && plain.port == 80 && plain.path == "/a?b=1" && !plain.https)
        let secure = try AlertSender.Target.parse(url: "HTTPS://hooks.example.com", token: "t").get()
        #expect(secure.port == 443 && secure.path == "/" && secure.https)
        let explicit = try AlertSender.Target.parse(url: "https://[::1]:8443/x", token: "t").get()
        #expect(explicit.host == "::1" && explicit.port == 8443 && explicit.https)
        for bad in ["ftp://hooks.example.com/", "hooks.example.com/x", "https:///nohost"] {
            guard case .failure(let error) = AlertSender.Target.parse(url: bad, token: "t") else {
                Issue.record("\(bad) was accepted")
                continue
            }
            #expect(error.description.hasPrefix("ALERT_WEBHOOK_URL:") && error.description.contains(bad), "\(error)")
        }
    }

    @Test("an alert's resolved never overtakes its firing still being delivered; another alert is not held up behind them")
    func deliveryOrder() async throws {
        let delivered = Mutex<[String]>([])
        let sender = AlertSender(target: nil, logger: Logger(label: "test"), deliver: { alert in
            // The firing of High Block Rate goes out only once Error Spike's has, as a
            // delivery still being retried would: with one queue for all alerts this never ends.
            if alert.alert == "High Block Rate" && alert.status == .firing {
                _ = try? await poll("Error Spike delivered first", within: .seconds(60)) {
                    delivered.withLock { $0.contains("Error Spike firing") }
                }
            }
            delivered.withLock { $0.append("\(alert.alert) \(alert.status.rawValue)") }
        })
        func notification(_ name: String, _ status: AlertNotification.Status) -> AlertNotification {
            AlertNotification(alert: name, severity: .warning, status: status, environment: "test", value: nil, threshold: nil,
                              message: "", at: 0)
        }
        let running = Task { try await sender.run() }
        defer { running.cancel() }
        sender.send(notification("High Block Rate", .firing))
        sender.send(notification("High Block Rate", .resolved))
        sender.send(notification("Error Spike", .firing))
        // Generous: a busy test run can hold the cooperative pool for a while.
        try await poll("three deliveries", within: .seconds(120)) { delivered.withLock { $0.count } == 3 }
        #expect(delivered.withLock { $0 } == ["Error Spike firing", "High Block Rate firing", "High Block Rate resolved"])
    }
}
