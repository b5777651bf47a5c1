import LimiterCore

/// `[[ratelimits]]` in Cloudflare's rate-limiting binding form
/// (https://developers.cloudflare.com/workers/runtime-apis/bindings/rate-limit/):
/// `name`, `namespace_id`, `simple = { limit, period }`, plus our `algorithm`
/// and `burst` (DESIGN.md §3).
extension ConfigLoader {
    /// Hits per period (and burst): LimiterCore's ``Rule/limitRange``, below
    /// 2^31 like the HTTP API's `hits`, so its arithmetic cannot overflow.
    static var maximumLimit: Int { Rule.limitRange.upperBound }

    /// LimiterCore's ``Rule/periodSecondsRange``. Cloudflare allows only 10 or
    /// 60 seconds; we allow any positive period the algorithms handle exactly.
    static var maximumPeriod: Int { Rule.periodSecondsRange.upperBound }

    static func parseRules(_ root: TableReader, into problems: inout [ConfigError]) -> [Rule] {
        var rules: [Rule] = []
        var firstIndex: [String: String] = [:]
        for (_, entry) in root.tables("ratelimits", into: &problems) {
            // A misspelt `algorithm` or `burst` would otherwise run the defaults silently.
            entry.rejectUnknownKeys(known: ["name", "namespace_id", "simple", "algorithm", "burst"], into: &problems)
            let name = ruleName(entry, firstIndex: &firstIndex, into: &problems)
            let namespaceID = entry.string("namespace_id", required: true, into: &problems)
            if namespaceID == "" {
                problems.append(entry.error(.invalidValue, "namespace_id", "must not be empty"))
            }

            var limit: Int?
            var period: Int?
            if let simple = entry.table("simple", required: true, into: &problems) {
                simple.rejectUnknownKeys(known: ["limit", "period"], into: &problems)
                limit = simple.integer("limit", in: 1...maximumLimit, required: true, into: &problems)
                period = simple.integer("period", in: 1...maximumPeriod, required: true, into: &problems)
            }

            var algorithm: Algorithm? = AlgorithmNames.slidingWindow
            var algorithmName = "sliding_window"
            if let named = entry.string("algorithm", into: &problems) {
                algorithmName = named
                algorithm = AlgorithmNames.algorithm(named: named)
                if algorithm == nil {
                    problems.append(
                        entry.error(
                            .unknownAlgorithm, "algorithm",
                            "unknown algorithm \"\(named)\" (expected one of \(AlgorithmNames.expectedList))"))
                }
            } else if entry.has("algorithm") {
                algorithm = nil
            }

            let burst = ruleBurst(entry, algorithmName: algorithm == nil ? nil : algorithmName, into: &problems)

            guard let name, let namespaceID, !namespaceID.isEmpty, let limit, let period, let algorithm,
                let burst
            else { continue }
            rules.append(
                Rule(
                    name: name, namespaceID: namespaceID, limit: limit, periodSeconds: period,
                    algorithm: algorithm, burst: burst ?? limit))
        }
        return rules
    }

    /// The rule's name: present, usable in a `RateLimit-Policy` structured
    /// field string and a URL, not `default` (that one is built from
    /// `DEFAULT_RATE_LIMIT`/`DEFAULT_WINDOW`), and unique.
    private static func ruleName(
        _ entry: TableReader, firstIndex: inout [String: String], into problems: inout [ConfigError]
    ) -> String? {
        guard let name = entry.string("name", required: true, into: &problems) else { return nil }
        guard isRuleName(name) else {
            problems.append(
                entry.error(.invalidValue, "name", "rule names must match [A-Za-z0-9_.:-]+, got \"\(name)\""))
            return nil
        }
        guard name != ResolvedConfig.defaultRuleName else {
            problems.append(
                entry.error(
                    .invalidValue, "name",
                    "\"default\" is reserved; set DEFAULT_RATE_LIMIT and DEFAULT_WINDOW to change it"))
            return nil
        }
        if let first = firstIndex[name] {
            problems.append(entry.error(.duplicateRule, "name", "duplicate rule name \"\(name)\" (first at \(first))"))
            return nil
        }
        firstIndex[name] = entry.path
        return name
    }

    static func isRuleName(_ name: String) -> Bool {
        !name.isEmpty && name.unicodeScalars.allSatisfy { scalar in
            scalar.isASCII && (scalar.properties.isAlphabetic || ("0"..."9").contains(scalar) || "_.:-".unicodeScalars.contains(scalar))
        }
    }

    /// `burst`: `.some(nil)` when absent (defaults to the limit), `.some(n)`
    /// when valid, nil when invalid. Only token_bucket (bucket size) and gcra
    /// (redis-cell's max_burst) have one; on other algorithms it would be
    /// silently ignored, so it is an error. `algorithmName` is nil when the
    /// algorithm itself was invalid, which skips the applicability check.
    private static func ruleBurst(
        _ entry: TableReader, algorithmName: String?, into problems: inout [ConfigError]
    ) -> Int?? {
        guard entry.has("burst") else { return .some(nil) }
        guard let burst = entry.integer("burst", in: 1...maximumLimit, into: &problems) else { return nil }
        if let algorithmName, !AlgorithmNames.withBurst.contains(algorithmName) {
            problems.append(
                entry.error(
                    .burstNotApplicable, "burst",
                    "burst applies only to token_bucket and gcra, not \(algorithmName)"))
            return nil
        }
        return .some(burst)
    }
}
