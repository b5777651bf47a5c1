/// One thing wrong with the configuration, found while loading it.
///
/// Shaped like swift-service-lifecycle's `ServiceGroupError`: a stable ``code``
/// that tools and tests can match on, and a one-line ``message`` for people
/// that names the file and the key, e.g.
/// `wrangler.toml: ratelimits[1].simple.limit: must be a positive integer, got -5`.
public struct ConfigError: Error, Hashable, Sendable, CustomStringConvertible {
    /// A stable, machine-matchable kind of configuration problem.
    public struct Code: Hashable, Sendable, RawRepresentable, CustomStringConvertible {
        public let rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }

        /// A configuration file could not be read.
        public static let fileUnreadable = Code(rawValue: "file_unreadable")
        /// A TOML file is not valid TOML.
        public static let syntax = Code(rawValue: "syntax")
        /// A key holds a value of the wrong TOML type (e.g. `limit = "100"`).
        public static let wrongType = Code(rawValue: "wrong_type")
        /// A required key is absent.
        public static let missingKey = Code(rawValue: "missing_key")
        /// A number is zero, negative, or beyond its allowed range.
        public static let outOfRange = Code(rawValue: "out_of_range")
        /// A value is present but not in the accepted form (names, dates, URLs...).
        public static let invalidValue = Code(rawValue: "invalid_value")
        /// An environment variable meant as a number is not a positive integer.
        public static let malformedNumber = Code(rawValue: "malformed_number")
        /// `algorithm` names no algorithm LimiterCore implements.
        public static let unknownAlgorithm = Code(rawValue: "unknown_algorithm")
        /// Two `[[ratelimits]]` share a name.
        public static let duplicateRule = Code(rawValue: "duplicate_rule")
        /// A table that accepts only known keys has another (a misspelling would
        /// otherwise silently mean the default).
        public static let unknownKey = Code(rawValue: "unknown_key")
        /// `burst` is set on an algorithm that has no burst.
        public static let burstNotApplicable = Code(rawValue: "burst_not_applicable")
        /// The selected environment has no `[env.NAME]` section.
        public static let unknownEnvironment = Code(rawValue: "unknown_environment")
        /// A variable the selected environment requires is unset or empty.
        public static let missingEnvironmentVariable = Code(rawValue: "missing_env_var")
        /// `[[migrations]]` are inconsistent (empty or duplicate tag, unknown class).
        public static let invalidMigration = Code(rawValue: "invalid_migration")
        /// Two durable-object bindings share a name.
        public static let duplicateBinding = Code(rawValue: "duplicate_binding")
        /// A binding names a class the migrations never create (or delete it).
        public static let bindingClassMissing = Code(rawValue: "binding_class_missing")
        /// Two nodes share an id.
        public static let duplicateNode = Code(rawValue: "duplicate_node")
        /// Two listeners share a host and port.
        public static let duplicatePort = Code(rawValue: "duplicate_port")
        /// A node id is not usable in certificate URIs and file names.
        public static let invalidNodeID = Code(rawValue: "invalid_node_id")
        /// `replicas` is below 1 or above the number of nodes.
        public static let invalidReplicas = Code(rawValue: "invalid_replicas")
        /// A lookup asked for a node the topology does not contain.
        public static let unknownNode = Code(rawValue: "unknown_node")
    }

    /// What kind of problem this is; stable across releases.
    public let code: Code
    /// One line for people, naming the file and key.
    public let message: String
    /// The file (relative to the directory holding wrangler.toml), or
    /// `environment` for the process environment; nil when no file applies.
    public let file: String?
    /// The dotted key path inside ``file`` (e.g. `ratelimits[2].algorithm`).
    public let key: String?

    public init(code: Code, message: String, file: String? = nil, key: String? = nil) {
        self.code = code
        self.message = message
        self.file = file
        self.key = key
    }

    /// Builds the usual `file: key: detail` message.
    public init(_ code: Code, file: String, key: String?, _ detail: String) {
        let location = key.map { "\(file): \($0)" } ?? file
        self.init(code: code, message: "\(location): \(detail)", file: file, key: key)
    }

    public var description: String { message }
}

/// Every problem found in one load, so an operator fixes them in one pass
/// instead of discovering them one restart at a time.
public struct ConfigProblems: Error, Hashable, Sendable, CustomStringConvertible {
    /// In the order they were found: wrangler.toml, environment, topology.
    public let problems: [ConfigError]

    public init(_ problems: [ConfigError]) {
        self.problems = problems
    }

    /// Every message, one per line.
    public var description: String {
        problems.map(\.message).joined(separator: "\n")
    }

    /// The codes present, for tests and tools that branch on the kind.
    public var codes: Set<ConfigError.Code> { Set(problems.map(\.code)) }
}
