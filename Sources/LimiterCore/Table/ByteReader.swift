/// Reads what ``ByteWriter`` wrote from untrusted bytes: every read is bounds-checked and
/// fails with a ``SnapshotError`` naming the field and offset instead of trapping.
struct ByteReader {
    private let bytes: [UInt8]
    private(set) var offset: Int
    private let end: Int

    init(_ bytes: [UInt8], from offset: Int, to end: Int) {
        self.bytes = bytes
        self.offset = offset
        self.end = end
    }

    var remaining: Int { end - offset }

    func fail(_ code: SnapshotError.Code, _ what: String) -> SnapshotError {
        SnapshotError(code: code, message: "\(what) at byte \(offset)")
    }

    mutating func byte(_ field: String) throws(SnapshotError) -> UInt8 {
        guard offset < end else { throw fail(.truncated, "input ends inside \(field)") }
        defer { offset += 1 }
        return bytes[offset]
    }

    mutating func unsigned<T: UnsignedInteger & FixedWidthInteger>(
        _: T.Type, _ field: String
    ) throws(SnapshotError) -> T {
        var value: T = 0
        var shift = 0
        while true {
            let byte = try self.byte(field)
            let payload = T(byte & 0x7F)
            if shift >= T.bitWidth || (shift > 0 && payload > (T.max >> shift)) {
                throw fail(.invalidValue, "\(field) overflows \(T.bitWidth) bits")
            }
            value |= payload << shift
            if byte & 0x80 == 0 { return value }
            shift += 7
        }
    }

    /// A count or size, at most `limit`.
    mutating func count(_ field: String, atMost limit: Int) throws(SnapshotError) -> Int {
        let value = try unsigned(UInt64.self, field)
        guard value <= UInt64(max(limit, 0)) else {
            throw fail(.invalidValue, "\(field) \(value) exceeds \(limit)")
        }
        return Int(value)
    }

    mutating func signed64(_ field: String) throws(SnapshotError) -> Int64 {
        let raw = try unsigned(UInt64.self, field)
        return Int64(bitPattern: raw >> 1) ^ -Int64(bitPattern: raw & 1)
    }

    mutating func signed128(_ field: String) throws(SnapshotError) -> Int128 {
        let raw = try unsigned(UInt128.self, field)
        return Int128(bitPattern: raw >> 1) ^ -Int128(bitPattern: raw & 1)
    }

    mutating func string(_ field: String) throws(SnapshotError) -> String {
        let length = try count("\(field) length", atMost: remaining)
        let slice = bytes[offset..<(offset + length)]
        guard let text = String(validating: slice, as: UTF8.self) else {
            throw fail(.invalidValue, "\(field) is not valid UTF-8")
        }
        offset += length
        return text
    }
}
