/// The seed's alert severities, as they appear in webhook payloads and the
/// Prometheus rules' `severity` label.
public enum AlertSeverity: String, Sendable, Hashable, Codable, CaseIterable {
    case warning
    case critical
}
