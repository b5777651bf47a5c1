/// A JSON value as the trace reader needs it. Numbers keep their source text so integers
/// beyond 2^53 stay exact. Pure Swift, so the core needs no Foundation.
enum JSONValue: Equatable {
    case object([String: JSONValue])
    case array([JSONValue])
    case string(String)
    case number(String)
    case bool(Bool)
    case null

    /// The kind, for error messages ("expected an integer, got a string").
    var kind: String {
        switch self {
        case .object: "an object"
        case .array: "an array"
        case .string: "a string"
        case .number: "a number"
        case .bool: "a boolean"
        case .null: "null"
        }
    }

    /// The value as an exact 64-bit integer: an integer literal, or a number with a zero
    /// fraction or an exponent that denotes one exactly (`1e3`, `1000.0`).
    var integer: Int64? {
        guard case .number(let text) = self else { return nil }
        if let exact = Int64(text) { return exact }
        guard let real = Double(text), real.isFinite, real == real.rounded(),
              abs(real) < 9_007_199_254_740_992 else { return nil }  // 2^53: every such integer is exact
        return Int64(real)
    }
}
