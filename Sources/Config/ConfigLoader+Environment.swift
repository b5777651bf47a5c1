import Foundation

/// The seed's `loadEnv`, with precedence across layers and strict parsing.
extension ConfigLoader {
    /// One variable's winning value and where it came from, so an error
    /// names `environment: X` or `wrangler.toml: env.staging.vars.X`.
    struct Variable {
        var value: String
        var file: String
        var key: String
    }

    /// The file name used for the process environment in messages.
    static let processEnvironmentName = "environment"

    /// Looks a variable up, highest precedence first: the process
    /// environment, `[env.NAME].vars`, then top-level `[vars]`.
    static func lookup(
        _ name: String, environment: String, wrangler: WranglerConfig, file: String,
        processEnvironment: [String: String]
    ) -> Variable? {
        if let value = processEnvironment[name] {
            return Variable(value: value, file: processEnvironmentName, key: name)
        }
        if let value = wrangler.environments[environment]?.vars[name] {
            return Variable(value: value, file: file, key: "env.\(environment).vars.\(name)")
        }
        if let value = wrangler.vars[name] {
            return Variable(value: value, file: file, key: "vars.\(name)")
        }
        return nil
    }

    static func resolveRuntime(
        environment: String, wrangler: WranglerConfig, file: String,
        processEnvironment: [String: String], requireSecrets: Bool, into problems: inout [ConfigError]
    ) -> RuntimeEnvironment {
        func variable(_ name: String) -> Variable? {
            lookup(
                name, environment: environment, wrangler: wrangler, file: file,
                processEnvironment: processEnvironment)
        }
        var runtime = RuntimeEnvironment(environment: environment)
        runtime.monitoringToken = variable("MONITORING_TOKEN")?.value.nonEmpty
        runtime.adminToken = variable("ADMIN_TOKEN")?.value.nonEmpty

        if let url = variable("ALERT_WEBHOOK_URL"), !url.value.isEmpty {
            if isHTTPURL(url.value) {
                runtime.alertWebhookURL = url.value
            } else {
                problems.append(
                    ConfigError(.invalidValue, file: url.file, key: url.key, "not an http(s) URL: \"\(url.value)\""))
            }
        }

        if let limit = variable("DEFAULT_RATE_LIMIT"),
            let value = positiveInteger(limit, maximum: maximumLimit, into: &problems)
        {
            runtime.defaultRateLimit = value
        }
        if let window = variable("DEFAULT_WINDOW"),
            let value = positiveInteger(window, maximum: maximumPeriod, into: &problems)
        {
            runtime.defaultWindow = value
        }

        // The seed's runPreflightChecks, with its exact wording: deploy
        // scripts and operators grep for it.
        if requireSecrets && environment != implicitEnvironment {
            for name in RuntimeEnvironment.requiredOutsideDevelopment
            where (variable(name)?.value ?? "").isEmpty {
                problems.append(
                    ConfigError(
                        code: .missingEnvironmentVariable, message: "Missing required env var: \(name)",
                        file: processEnvironmentName, key: name))
            }
        }
        return runtime
    }

    /// Digits only, no sign, no spaces, no fraction, at least 1, at most
    /// `maximum`: "12abc", "1.5", "", "-3" and "0" are errors where the
    /// seed's `parseInt` would give 12, 1, NaN, -3 and 0.
    static func positiveInteger(_ variable: Variable, maximum: Int, into problems: inout [ConfigError]) -> Int? {
        let text = variable.value
        let digitsOnly = !text.isEmpty && text.utf8.allSatisfy { (0x30...0x39).contains($0) }
        guard digitsOnly, (Int(text) ?? 1) > 0 else {  // too many digits is out of range, below
            problems.append(
                ConfigError(.malformedNumber, file: variable.file, key: variable.key, "not a positive integer: \"\(text)\""))
            return nil
        }
        guard let value = Int(text), value <= maximum else {
            problems.append(
                ConfigError(.outOfRange, file: variable.file, key: variable.key, "must be at most \(maximum), got \(text)"))
            return nil
        }
        return value
    }

    /// An absolute http or https URL with a host.
    static func isHTTPURL(_ text: String) -> Bool {
        guard let url = URL(string: text), let scheme = url.scheme?.lowercased(),
            scheme == "http" || scheme == "https", let host = url.host, !host.isEmpty
        else { return false }
        return true
    }
}

extension String {
    fileprivate var nonEmpty: String? { isEmpty ? nil : self }
}
