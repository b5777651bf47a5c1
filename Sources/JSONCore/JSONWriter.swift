/// Appends JSON text to a byte array without Foundation, for response bodies
/// written on the check path.
public struct JSONWriter: Sendable {
    public private(set) var bytes: [UInt8] = []
    private var needsComma: [Bool] = []

    public init(capacity: Int = 256) { bytes.reserveCapacity(capacity) }

    public mutating func beginObject() { separate(); bytes.append(UInt8(ascii: "{")); needsComma.append(false) }
    public mutating func endObject() { needsComma.removeLast(); bytes.append(UInt8(ascii: "}")) }
    public mutating func beginArray() { separate(); bytes.append(UInt8(ascii: "[")); needsComma.append(false) }
    public mutating func endArray() { needsComma.removeLast(); bytes.append(UInt8(ascii: "]")) }

    public mutating func key(_ name: String) {
        separate()
        appendQuoted(name)
        bytes.append(UInt8(ascii: ":"))
        afterKey = true
    }

    /// Set between a member name and its value, which takes no comma.
    private var afterKey = false

    private mutating func separate() {
        if afterKey {
            afterKey = false
            return
        }
        guard !needsComma.isEmpty else { return }
        if needsComma[needsComma.count - 1] { bytes.append(UInt8(ascii: ",")) }
        needsComma[needsComma.count - 1] = true
    }

    public mutating func value(_ string: String) { separate(); appendQuoted(string) }
    public mutating func value(_ bool: Bool) { separate(); bytes.append(contentsOf: bool ? Array("true".utf8) : Array("false".utf8)) }
    public mutating func value(_ int: Int64) { separate(); bytes.append(contentsOf: String(int).utf8) }
    public mutating func value(_ int: Int) { value(Int64(int)) }
    public mutating func value(_ double: Double) {
        separate()
        if double.isFinite { bytes.append(contentsOf: String(double).utf8) } else { bytes.append(contentsOf: "null".utf8) }
    }
    public mutating func null() { separate(); bytes.append(contentsOf: "null".utf8) }

    public mutating func field(_ name: String, _ string: String) { key(name); value(string) }
    public mutating func field(_ name: String, _ bool: Bool) { key(name); value(bool) }
    public mutating func field(_ name: String, _ int: Int64) { key(name); value(int) }
    public mutating func field(_ name: String, _ int: Int) { key(name); value(int) }
    public mutating func field(_ name: String, _ double: Double) { key(name); value(double) }

    private mutating func appendQuoted(_ string: String) {
        bytes.append(UInt8(ascii: "\""))
        for byte in string.utf8 {
            switch byte {
            case UInt8(ascii: "\""): bytes.append(UInt8(ascii: "\\")); bytes.append(byte)
            case UInt8(ascii: "\\"): bytes.append(UInt8(ascii: "\\")); bytes.append(byte)
            case 0x0A: bytes.append(UInt8(ascii: "\\")); bytes.append(UInt8(ascii: "n"))
            case 0x0D: bytes.append(UInt8(ascii: "\\")); bytes.append(UInt8(ascii: "r"))
            case 0x09: bytes.append(UInt8(ascii: "\\")); bytes.append(UInt8(ascii: "t"))
            case 0..<0x20:
                let hex = Array("0123456789abcdef".utf8)
                bytes.append(contentsOf: Array("\\u00".utf8))
                bytes.append(hex[Int(byte >> 4)])
                bytes.append(hex[Int(byte & 0xF)])
            default: bytes.append(byte)
            }
        }
        bytes.append(UInt8(ascii: "\""))
    }
}

extension JSONWriter {
    /// Writes any ``JSONValue``, members in their order.
    public mutating func write(_ value: JSONValue) {
        switch value {
        case .null: null()
        case .bool(let bool): self.value(bool)
        case .integer(let int): self.value(int)
        case .double(let double): self.value(double)
        case .string(let string): self.value(string)
        case .array(let elements):
            beginArray()
            for element in elements { write(element) }
            endArray()
        case .object(let members):
            beginObject()
            for (name, member) in members {
                key(name)
                write(member)
            }
            endObject()
        }
    }
}
