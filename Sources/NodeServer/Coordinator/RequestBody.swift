import JSONCore

/// A JSON request body read field by field, each failure naming the field.
struct RequestBody {
    let members: [(String, JSONValue)]
    /// Put before a field's name in errors: `rules[3].` for a nested object.
    var prefix = ""

    init(_ bytes: [UInt8]) throws(CoordinatorError) {
        if bytes.isEmpty {
            members = []
            return
        }
        let value: JSONValue
        do { value = try JSONParser.parse(bytes) } catch {
            throw CoordinatorError(status: 400, code: "malformed-json", message: "body: \(error.reason) at byte \(error.offset)", field: "body")
        }
        guard case .object(let members) = value else {
            throw .badRequest("body", "expected an object, got \(value.typeName)")
        }
        self.members = members
    }

    subscript(name: String) -> JSONValue? {
        members.first { $0.0 == name }?.1
    }

    func string(_ name: String) throws(CoordinatorError) -> String? {
        switch self[name] {
        case nil, .null?: return nil
        case .string(let value)?: return value
        case let other?: throw .badRequest(prefix + name, "expected string, got \(other.typeName)")
        }
    }

    func requiredString(_ name: String) throws(CoordinatorError) -> String {
        guard let value = try string(name), !value.isEmpty else { throw .badRequest(prefix + name, "is required") }
        return value
    }

    func integer(_ name: String) throws(CoordinatorError) -> Int64? {
        switch self[name] {
        case nil, .null?: return nil
        case .integer(let value)?: return value
        case let other?: throw .badRequest(prefix + name, "expected integer, got \(other.typeName)")
        }
    }

    func bool(_ name: String) throws(CoordinatorError) -> Bool {
        switch self[name] {
        case nil, .null?: return false
        case .bool(let value)?: return value
        case let other?: throw .badRequest(prefix + name, "expected boolean, got \(other.typeName)")
        }
    }
}
