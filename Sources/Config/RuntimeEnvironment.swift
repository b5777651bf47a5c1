/// The seed's `loadEnv` result (`RateLimitEnv`), after layering the process
/// environment over `[env.NAME].vars` over top-level `[vars]` over defaults,
/// with every number validated instead of `parseInt`'s silent NaN.
public struct RuntimeEnvironment: Sendable, Hashable {
    /// `ENVIRONMENT`: the selected environment name.
    public var environment: String
    /// `MONITORING_TOKEN`: required outside development. A secret.
    public var monitoringToken: String?
    /// `ALERT_WEBHOOK_URL`: an http(s) URL; required outside development.
    public var alertWebhookURL: String?
    /// `DEFAULT_RATE_LIMIT`: the limit of the rule named `default`.
    public var defaultRateLimit: Int
    /// `DEFAULT_WINDOW`: the period, in seconds, of the rule named `default`.
    public var defaultWindow: Int
    /// `ADMIN_TOKEN`: bearer token for `/admin/...`; admin is closed when nil. A secret.
    public var adminToken: String?

    public init(
        environment: String = "development",
        monitoringToken: String? = nil,
        alertWebhookURL: String? = nil,
        defaultRateLimit: Int = 100,
        defaultWindow: Int = 60,
        adminToken: String? = nil
    ) {
        self.environment = environment
        self.monitoringToken = monitoringToken
        self.alertWebhookURL = alertWebhookURL
        self.defaultRateLimit = defaultRateLimit
        self.defaultWindow = defaultWindow
        self.adminToken = adminToken
    }

    /// The variable names this type reads, in the order `describe` lists them.
    public static let variableNames = [
        "ENVIRONMENT", "MONITORING_TOKEN", "ALERT_WEBHOOK_URL",
        "DEFAULT_RATE_LIMIT", "DEFAULT_WINDOW", "ADMIN_TOKEN",
    ]

    /// The variables that may carry credentials (a webhook URL often embeds
    /// one): a version's vars leave them out.
    public static let secretNames: Set<String> = ["MONITORING_TOKEN", "ADMIN_TOKEN", "ALERT_WEBHOOK_URL"]

    /// Variables that must be set (non-empty) outside `development`, as the
    /// seed's `runPreflightChecks` requires.
    public static let requiredOutsideDevelopment = ["MONITORING_TOKEN", "ALERT_WEBHOOK_URL"]

    /// `NAME = value` lines, safe to print or log: tokens show only their last
    /// four characters (`****abcd`), or `(set)` when too short to hide anything.
    public var masked: [String] {
        [
            "ENVIRONMENT = \(environment)",
            "MONITORING_TOKEN = \(Self.mask(monitoringToken))",
            "ALERT_WEBHOOK_URL = \(Self.maskURL(alertWebhookURL))",
            "DEFAULT_RATE_LIMIT = \(defaultRateLimit)",
            "DEFAULT_WINDOW = \(defaultWindow)",
            "ADMIN_TOKEN = \(Self.mask(adminToken))",
        ]
    }

    /// Hides a secret: `(unset)`, `(set)` for 8 characters or fewer (showing
    /// four would reveal half), else `****` and the last four.
    public static func mask(_ secret: String?) -> String {
        guard let secret, !secret.isEmpty else { return "(unset)" }
        guard secret.count > 8 else { return "(set)" }
        return "****" + secret.suffix(4)
    }

    /// Webhook URLs often carry a token in their path or query (Slack, Teams),
    /// so only the scheme and host are shown.
    static func maskURL(_ url: String?) -> String {
        guard let url, !url.isEmpty else { return "(unset)" }
        guard let schemeEnd = url.range(of: "://") else { return "(set)" }
        let rest = url[schemeEnd.upperBound...]
        let host = rest.prefix { $0 != "/" && $0 != "?" && $0 != "#" }
        let hostOnly = host.split(separator: "@").last.map(String.init) ?? String(host)
        let hidden = rest.count > host.count || host.contains("@")
        return url[..<schemeEnd.upperBound] + hostOnly + (hidden ? "/****" : "")
    }
}

extension RuntimeEnvironment: CustomStringConvertible {
    /// The masked form, so interpolating the environment into a log line
    /// never leaks a token.
    public var description: String { masked.joined(separator: "\n") }
}
