import JSONCore

/// One webhook payload (DESIGN.md §8), POSTed to `ALERT_WEBHOOK_URL` with
/// `Authorization: Bearer MONITORING_TOKEN`:
///
///     {"alert": "High Block Rate", "severity": "warning", "status": "firing",
///      "environment": "staging", "value": 0.43, "threshold": 0.2,
///      "message": "...", "at": "2026-11-30T12:00:00Z"}
///
/// The automatic rollback alert (``automaticRollback(environment:version:percent:reason:at:details:)``)
/// has no value or threshold and carries `details` instead. Named
/// `AlertNotification` so it does not clash with Foundation's `Notification`
/// in shells that import both.
public struct AlertNotification: Sendable, Equatable, CustomStringConvertible {
    public enum Status: String, Sendable, Hashable, Codable {
        case firing
        case resolved
    }

    public let alert: String
    public let severity: AlertSeverity
    public let status: Status
    public let environment: String
    /// The measured value; nil (left out of the JSON) for the rollback alert.
    public let value: Double?
    /// The rule's threshold; nil (left out) for the rollback alert.
    public let threshold: Double?
    public let message: String
    /// When it fired or resolved, wall-clock ms since 1970; sent as ISO-8601 UTC.
    public let at: Int64
    /// Extra members under `details`; empty ones are left out.
    public let details: [(String, JSONValue)]

    public init(
        alert: String,
        severity: AlertSeverity,
        status: Status,
        environment: String,
        value: Double?,
        threshold: Double?,
        message: String,
        at: Int64,
        details: [(String, JSONValue)] = []
    ) {
        self.alert = alert
        self.severity = severity
        self.status = status
        self.environment = environment
        self.value = value
        self.threshold = threshold
        self.message = message
        self.at = at
        self.details = details
    }

    /// The alert a failed rollout step sends, once, with no resolve after it
    /// (§8): `{"alert": "Automatic rollback", "severity": "critical",
    /// "status": "firing", "message": "Automatic rollback triggered",
    /// "details": {"version", "percent", "reason", ...}}`. `details` adds
    /// members after those three (the step's figures, say).
    public static func automaticRollback(
        environment: String,
        version: String,
        percent: Int,
        reason: String,
        at: Int64,
        details: [(String, JSONValue)] = []
    ) -> AlertNotification {
        AlertNotification(
            alert: "Automatic rollback",
            severity: .critical,
            status: .firing,
            environment: environment,
            value: nil,
            threshold: nil,
            message: "Automatic rollback triggered",
            at: at,
            details: [("version", .string(version)), ("percent", .integer(Int64(percent))), ("reason", .string(reason))] + details
        )
    }

    /// The `at` field's text.
    public var timestamp: String { UTCTimestamp.iso8601(milliseconds: self.at) }

    public static func == (lhs: AlertNotification, rhs: AlertNotification) -> Bool {
        lhs.alert == rhs.alert && lhs.severity == rhs.severity && lhs.status == rhs.status
            && lhs.environment == rhs.environment && lhs.value == rhs.value && lhs.threshold == rhs.threshold
            && lhs.message == rhs.message && lhs.at == rhs.at
            && lhs.details.count == rhs.details.count
            && zip(lhs.details, rhs.details).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
    }

    public var description: String {
        "\(self.alert) \(self.status.rawValue) (\(self.severity.rawValue), \(self.environment)) at \(self.timestamp): \(self.message)"
    }
}
