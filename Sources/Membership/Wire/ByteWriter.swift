/// Appends the codec's primitives: bytes, LEB128 varints and
/// length-prefixed UTF-8 strings (the encoding of protobuf's varint / bytes
/// fields, without field tags: the layout is fixed by the message type).
struct ByteWriter {
    private(set) var bytes: [UInt8] = []

    init(capacity: Int = 64) {
        self.bytes.reserveCapacity(capacity)
    }

    mutating func write(byte: UInt8) {
        self.bytes.append(byte)
    }

    mutating func write(varint value: UInt64) {
        var value = value
        while value >= 0x80 {
            self.bytes.append(UInt8(truncatingIfNeeded: value) | 0x80)
            value >>= 7
        }
        self.bytes.append(UInt8(value))
    }

    /// Non-negative `Int`/`Int64` values (ports, timeouts, counts).
    /// Negative values are a programming error: nothing in the protocol is negative.
    mutating func write(count value: some BinaryInteger, field: StaticString) {
        precondition(value >= 0, "SWIM codec: field \(field) must not be negative, was \(value)")
        self.write(varint: UInt64(value))
    }

    mutating func write(string: String) {
        self.write(varint: UInt64(string.utf8.count))
        self.bytes.append(contentsOf: string.utf8)
    }
}
