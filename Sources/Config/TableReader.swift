/// Reads typed fields out of one TOML table, recording every problem instead
/// of stopping at the first, and naming each by file and dotted key path.
struct TableReader: Sendable {
    /// File name shown in messages, relative to the wrangler.toml directory.
    let file: String
    /// Key path of this table inside the file; empty for the root.
    let path: String
    let entries: [String: TOMLNode]

    init(file: String, path: String = "", entries: [String: TOMLNode]) {
        self.file = file
        self.path = path
        self.entries = entries
    }

    /// The full key path of `key` in this table, e.g. `ratelimits[1].simple.limit`.
    func keyPath(_ key: String) -> String {
        path.isEmpty ? key : "\(path).\(key)"
    }

    /// A problem about `key` in this table.
    func error(_ code: ConfigError.Code, _ key: String, _ detail: String) -> ConfigError {
        ConfigError(code, file: file, key: keyPath(key), detail)
    }

    /// A problem about this table as a whole.
    func error(_ code: ConfigError.Code, _ detail: String) -> ConfigError {
        ConfigError(code, file: file, key: path.isEmpty ? nil : path, detail)
    }

    func has(_ key: String) -> Bool { entries[key] != nil }

    private func wrongType(_ key: String, expected: String, got node: TOMLNode) -> ConfigError {
        error(.wrongType, key, "expected \(expected), got \(node.typeName) \(node.rendered)")
    }

    private func missing(_ key: String, _ expected: String) -> ConfigError {
        error(.missingKey, key, "required \(expected) is missing")
    }

    /// A string, or nil when absent (error if `required`) or of another type (error).
    func string(_ key: String, required: Bool = false, into problems: inout [ConfigError]) -> String? {
        guard let node = entries[key] else {
            if required { problems.append(missing(key, "string")) }
            return nil
        }
        guard case .string(let value) = node else {
            problems.append(wrongType(key, expected: "string", got: node))
            return nil
        }
        return value
    }

    /// An integer, or nil when absent (error if `required`) or of another type (error).
    /// A float such as `1.5` is a type error, never truncated.
    func integer(_ key: String, required: Bool = false, into problems: inout [ConfigError]) -> Int? {
        guard let node = entries[key] else {
            if required { problems.append(missing(key, "integer")) }
            return nil
        }
        guard case .integer(let value) = node else {
            problems.append(wrongType(key, expected: "integer", got: node))
            return nil
        }
        return value
    }

    /// An integer in `range`; out-of-range values are reported with `unit` words.
    func integer(
        _ key: String, in range: ClosedRange<Int>, required: Bool = false, into problems: inout [ConfigError]
    ) -> Int? {
        guard let value = integer(key, required: required, into: &problems) else { return nil }
        if value < 1 && range.lowerBound >= 1 {
            problems.append(error(.outOfRange, key, "must be a positive integer, got \(value)"))
            return nil
        }
        guard range.contains(value) else {
            problems.append(
                error(.outOfRange, key, "must be in \(range.lowerBound)...\(range.upperBound), got \(value)"))
            return nil
        }
        return value
    }

    /// A number: a float, or an integer read as one (`block_rate = 1`); nil
    /// when absent or of another type (error).
    func number(_ key: String, into problems: inout [ConfigError]) -> Double? {
        switch entries[key] {
        case nil: return nil
        case .float(let value)?: return value
        case .integer(let value)?: return Double(value)
        case let node?:
            problems.append(wrongType(key, expected: "number", got: node))
            return nil
        }
    }

    /// Reports every key not in `known`, suggesting the nearest known one,
    /// for tables where a misspelt key would otherwise silently mean its default.
    func rejectUnknownKeys(known: [String], into problems: inout [ConfigError]) {
        for key in entries.keys.sorted() where !known.contains(key) {
            let detail =
                NearestName.nearest(to: key, in: known).map { "unknown key, did you mean \"\($0)\"?" }
                ?? "unknown key (expected one of \(known.joined(separator: ", ")))"
            problems.append(error(.unknownKey, key, detail))
        }
    }

    /// A nested table (inline or standard), or nil when absent or of another type (error).
    func table(_ key: String, required: Bool = false, into problems: inout [ConfigError]) -> TableReader? {
        guard let node = entries[key] else {
            if required { problems.append(missing(key, "table")) }
            return nil
        }
        guard case .table(let nested) = node else {
            problems.append(wrongType(key, expected: "table", got: node))
            return nil
        }
        return TableReader(file: file, path: keyPath(key), entries: nested)
    }

    /// The raw items of an array, or nil when absent or of another type (error).
    func array(_ key: String, into problems: inout [ConfigError]) -> [TOMLNode]? {
        guard let node = entries[key] else { return nil }
        guard case .array(let items) = node else {
            problems.append(wrongType(key, expected: "array", got: node))
            return nil
        }
        return items
    }

    /// An array of tables (`[[key]]` or `key = [{...}]`), each a reader named
    /// `key[i]`; items that are not tables are reported and skipped.
    func tables(_ key: String, into problems: inout [ConfigError]) -> [(index: Int, reader: TableReader)] {
        guard let items = array(key, into: &problems) else { return [] }
        var result: [(Int, TableReader)] = []
        for (index, item) in items.enumerated() {
            let itemPath = "\(keyPath(key))[\(index)]"
            guard case .table(let entries) = item else {
                problems.append(
                    ConfigError(
                        .wrongType, file: file, key: itemPath,
                        "expected table, got \(item.typeName) \(item.rendered)"))
                continue
            }
            result.append((index, TableReader(file: file, path: itemPath, entries: entries)))
        }
        return result
    }

    /// An array of strings; non-string items are reported and skipped.
    func strings(_ key: String, into problems: inout [ConfigError]) -> [String] {
        guard let items = array(key, into: &problems) else { return [] }
        var result: [String] = []
        for (index, item) in items.enumerated() {
            guard case .string(let value) = item else {
                problems.append(
                    ConfigError(
                        .wrongType, file: file, key: "\(keyPath(key))[\(index)]",
                        "expected string, got \(item.typeName) \(item.rendered)"))
                continue
            }
            result.append(value)
        }
        return result
    }
}
