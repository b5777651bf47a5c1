import TOMLKit

/// A parsed TOML value copied out of TOMLKit into plain Swift values.
///
/// TOMLKit's tables are non-Sendable classes around toml++ pointers; copying
/// once right after parsing keeps the rest of the loader pure and Sendable.
enum TOMLNode: Sendable, Hashable {
    case string(String)
    case integer(Int)
    case float(Double)
    case boolean(Bool)
    /// Dates, times and date-times, kept as their TOML text.
    case dateTime(String)
    case array([TOMLNode])
    case table([String: TOMLNode])

    /// The TOML name of this value's type, for "expected X, got Y" messages.
    var typeName: String {
        switch self {
        case .string: "string"
        case .integer: "integer"
        case .float: "float"
        case .boolean: "boolean"
        case .dateTime: "date"
        case .array: "array"
        case .table: "table"
        }
    }

    /// The value as an operator would write it, for messages.
    var rendered: String {
        switch self {
        case .string(let s): "\"\(s)\""
        case .integer(let i): String(i)
        case .float(let d): String(d)
        case .boolean(let b): String(b)
        case .dateTime(let text): text
        case .array(let items): "[" + items.map(\.rendered).joined(separator: ", ") + "]"
        case .table: "{...}"
        }
    }
}

/// A TOML document that failed to parse, with where.
struct TOMLSyntaxError: Error, Sendable {
    var line: Int
    var column: Int
    var reason: String
}

extension TOMLNode {
    /// Parses a TOML document (TOML 1.0, via toml++) into a root table.
    static func parseDocument(_ text: String) throws(TOMLSyntaxError) -> [String: TOMLNode] {
        let table: TOMLTable
        do {
            table = try TOMLTable(string: text)
        } catch let error as TOMLParseError {
            throw TOMLSyntaxError(
                line: error.source.begin.line,
                column: error.source.begin.column,
                reason: error.description
            )
        } catch {
            throw TOMLSyntaxError(line: 0, column: 0, reason: "\(error)")
        }
        return entries(of: table)
    }

    private static func entries(of table: TOMLTable) -> [String: TOMLNode] {
        var result: [String: TOMLNode] = [:]
        for (key, value) in table {
            result[key] = node(value)
        }
        return result
    }

    private static func node(_ value: any TOMLValueConvertible) -> TOMLNode {
        switch value.type {
        case .string: return .string(value.string ?? "")
        case .int: return .integer(value.int ?? 0)
        case .double: return .float(value.double ?? .nan)
        case .bool: return .boolean(value.bool ?? false)
        case .date, .time, .dateTime: return .dateTime(dateText(value))
        case .array: return .array(value.array.map { $0.map(node) } ?? [])
        case .table: return .table(value.table.map(entries) ?? [:])
        }
    }

    private static func dateText(_ value: any TOMLValueConvertible) -> String {
        if let date = value.date {
            return pad(date.year, 4) + "-" + pad(date.month, 2) + "-" + pad(date.day, 2)
        }
        return value.debugDescription
    }

    private static func pad(_ number: Int, _ width: Int) -> String {
        let digits = String(number)
        return String(repeating: "0", count: max(0, width - digits.count)) + digits
    }
}
