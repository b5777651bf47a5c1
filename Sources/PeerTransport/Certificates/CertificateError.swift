/// A problem creating, loading or checking cluster certificates.
///
/// Follows the `ServiceGroupError` shape (swift-service-lifecycle): a stable
/// ``code`` that tools and tests can match on, and a human ``message`` that names
/// the offending file, node id or environment.
public struct CertificateError: Error, Sendable, Hashable, CustomStringConvertible {
    /// A stable, machine-matchable reason.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        private let name: String
        private init(_ name: String) { self.name = name }
        public var description: String { self.name }

        /// A node id or environment name is not `[a-z0-9-]+`.
        public static let invalidName = Code("invalid_name")
        /// A file would be overwritten and `force` was not given.
        public static let fileExists = Code("file_exists")
        /// A file that must exist (the CA, a node's certificate or key) is absent.
        public static let fileMissing = Code("file_missing")
        /// A file could not be read, written or its directory created.
        public static let io = Code("io")
        /// A PEM file could not be parsed, or a certificate does not fit the cluster.
        public static let malformed = Code("malformed")
        /// Generating or signing a certificate failed.
        public static let signing = Code("signing")
    }

    public let code: Code
    public let message: String

    public init(code: Code, message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(self.code): \(self.message)" }
}
