import Foundation
import LimiterCore

/// Loads and validates `wrangler.toml`, the environment and
/// `cluster/<env>.toml` into one ``ResolvedConfig``.
///
/// Validation happens here, at load, so a bad file stops a process before it
/// serves anything, and it collects every problem rather than the first, so
/// `ratelimit config check` reports them all in one run. Unlike the seed's
/// `loadEnv` (`parseInt` turning "abc" into NaN), nothing malformed is
/// silently replaced by a default.
public enum ConfigLoader {
    /// The environment used when neither the caller nor `ENVIRONMENT` names one.
    /// It is implicit: the top level of wrangler.toml is its configuration.
    public static let implicitEnvironment = "development"

    /// Loads the configuration for one environment.
    ///
    /// - Parameters:
    ///   - wranglerPath: path to wrangler.toml; its directory is the base for
    ///     `cluster/<env>.toml` and every relative path inside it.
    ///   - environment: the environment to select (`--env`); when nil,
    ///     `ENVIRONMENT` from `processEnvironment`, else `development`.
    ///   - processEnvironment: the variables that override wrangler.toml's
    ///     `vars`; pass `ProcessInfo.processInfo.environment` in production
    ///     and an explicit dictionary in tests.
    /// - Throws: ``ConfigProblems`` with every problem found.
    public static func load(
        wranglerPath: String,
        environment: String? = nil,
        processEnvironment: [String: String] = ProcessInfo.processInfo.environment
    ) throws(ConfigProblems) -> ResolvedConfig {
        let absolutePath = absolute(wranglerPath)
        let baseDirectory = parentDirectory(of: absolutePath)
        let file = lastComponent(of: absolutePath)

        let root: [String: TOMLNode]
        switch readDocument(at: absolutePath, displayName: file) {
        case .success(let entries): root = entries
        case .failure(let problem): throw ConfigProblems([problem])
        }

        var problems: [ConfigError] = []
        let wrangler = parseWrangler(TableReader(file: file, entries: root), into: &problems)

        let selected = selectEnvironment(explicit: environment, processEnvironment: processEnvironment)
        let isKnown = selected == implicitEnvironment || wrangler.environments[selected] != nil
        if !isKnown {
            problems.append(
                ConfigError(
                    code: .unknownEnvironment,
                    message: "unknown environment \"\(selected)\" (\(file) has: "
                        + wrangler.environmentNames.joined(separator: ", ") + ")",
                    file: file, key: "env"))
        }

        let runtime = resolveRuntime(
            environment: selected, wrangler: wrangler, file: file,
            processEnvironment: processEnvironment, requireSecrets: isKnown, into: &problems)

        let monitoring = resolveMonitoring(environment: selected, wrangler: wrangler, file: file, into: &problems)

        var rules: [String: Rule] = [:]
        for rule in wrangler.ratelimits { rules[rule.name] = rule }
        rules[ResolvedConfig.defaultRuleName] = ResolvedConfig.defaultRule(for: runtime)

        let topology =
            isKnown
            ? loadTopology(environment: selected, baseDirectory: baseDirectory, into: &problems)
            : nil

        guard problems.isEmpty else { throw ConfigProblems(problems) }
        return ResolvedConfig(
            wrangler: wrangler, environment: selected, runtime: runtime,
            rules: rules, topology: topology, baseDirectory: baseDirectory, monitoring: monitoring)
    }

    /// `--env`, else a non-empty `ENVIRONMENT` (the seed's `env.ENVIRONMENT ||
    /// 'development'`), else development.
    static func selectEnvironment(explicit: String?, processEnvironment: [String: String]) -> String {
        if let explicit, !explicit.isEmpty { return explicit }
        if let named = processEnvironment["ENVIRONMENT"], !named.isEmpty { return named }
        return implicitEnvironment
    }

    /// Reads and parses one TOML file; the error names the file as shown to
    /// people, with the line and column of a syntax error.
    static func readDocument(at path: String, displayName: String) -> Result<[String: TOMLNode], ConfigError> {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            let reason = FileManager.default.fileExists(atPath: path) ? "cannot read" : "file not found"
            return .failure(ConfigError(.fileUnreadable, file: displayName, key: nil, "\(reason) at \(path)"))
        }
        do {
            return .success(try TOMLNode.parseDocument(text))
        } catch {
            return .failure(
                ConfigError(
                    code: .syntax,
                    message: "\(displayName): line \(error.line), column \(error.column): "
                        + "TOML syntax error: \(error.reason)",
                    file: displayName, key: nil))
        }
    }
}

extension ConfigLoader {
    /// `path` made absolute against the current directory and normalized.
    static func absolute(_ path: String) -> String {
        resolve(path, against: FileManager.default.currentDirectoryPath)
    }

    /// `path` if absolute, else `base/path`; `.` and `..` removed, so messages
    /// and data directories show one canonical spelling.
    static func resolve(_ path: String, against base: String) -> String {
        let joined = path.hasPrefix("/") ? path : base + "/" + path
        var parts: [Substring] = []
        for part in joined.split(separator: "/", omittingEmptySubsequences: true) {
            switch part {
            case ".": continue
            case "..": if !parts.isEmpty { parts.removeLast() }
            default: parts.append(part)
            }
        }
        return "/" + parts.joined(separator: "/")
    }

    static func parentDirectory(of absolutePath: String) -> String {
        resolve("..", against: absolutePath)
    }

    static func lastComponent(of path: String) -> String {
        path.split(separator: "/").last.map(String.init) ?? path
    }
}
