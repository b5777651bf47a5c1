/// A trace line `ratelimit simulate` cannot run. `code` is stable for tools; `message` names
/// the line and the field, e.g. `line 3: field "t" must be an integer, got a string`.
public struct TraceError: Error, Sendable, Hashable, CustomStringConvertible {
    public struct Code: RawRepresentable, Sendable, Hashable, CustomStringConvertible {
        public var rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }

        /// Not a JSON object.
        public static let malformedLine = Code(rawValue: "trace_malformed_line")
        /// `t` or `key` is absent.
        public static let missingField = Code(rawValue: "trace_missing_field")
        /// A field has the wrong type or an unacceptable value (empty key, negative hits...).
        public static let invalidField = Code(rawValue: "trace_invalid_field")
        /// `rule` names no configured rule.
        public static let unknownRule = Code(rawValue: "trace_unknown_rule")
    }

    public var code: Code
    public var message: String
    /// 1-based line number in the trace.
    public var line: Int
    /// The offending field, nil when the line as a whole is malformed.
    public var field: String?

    public init(code: Code, line: Int, field: String?, detail: String) {
        self.code = code
        self.line = line
        self.field = field
        self.message = field.map { "line \(line): field \"\($0)\" \(detail)" } ?? "line \(line): \(detail)"
    }

    public var description: String { "\(code): \(message)" }
}
