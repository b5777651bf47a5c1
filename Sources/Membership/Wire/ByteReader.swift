/// Reads the codec's primitives from untrusted bytes. Every read checks
/// bounds first and throws instead of trapping: a peer (or an attacker with
/// a valid certificate) must never be able to crash a node.
struct ByteReader {
    private let bytes: [UInt8]
    private(set) var offset: Int = 0

    init(_ bytes: [UInt8]) {
        self.bytes = bytes
    }

    var remaining: Int { self.bytes.count - self.offset }

    mutating func readByte(_ field: @autoclosure () -> String) throws(MembershipError) -> UInt8 {
        guard self.offset < self.bytes.count else {
            throw MembershipError(
                code: .truncated,
                message: "SWIM message ended at byte \(self.offset) while reading \(field())"
            )
        }
        defer { self.offset += 1 }
        return self.bytes[self.offset]
    }

    /// LEB128, at most 10 bytes, and the 10th may only carry the top bit of a UInt64.
    mutating func readVarint(_ field: @autoclosure () -> String) throws(MembershipError) -> UInt64 {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        for index in 0..<10 {
            let byte = try self.readByte(field())
            if index == 9 && byte > 0x01 {
                throw MembershipError(code: .invalidField, message: "varint \(field()) does not fit in 64 bits")
            }
            result |= UInt64(byte & 0x7F) << shift
            if byte & 0x80 == 0 {
                return result
            }
            shift += 7
        }
        throw MembershipError(code: .invalidField, message: "varint \(field()) is longer than 10 bytes")
    }

    /// A varint that must fit in `0...limit`.
    mutating func readBounded(_ field: @autoclosure () -> String, limit: Int64) throws(MembershipError) -> Int64 {
        let value = try self.readVarint(field())
        guard value <= UInt64(limit) else {
            throw MembershipError(code: .invalidField, message: "\(field()) is \(value), above the limit \(limit)")
        }
        return Int64(value)
    }

    /// A count of items each at least `minimumItemSize` bytes long: it can
    /// never exceed what is left in the input, which stops a forged count
    /// from making us reserve gigabytes.
    mutating func readCount(_ field: @autoclosure () -> String, limit: Int, minimumItemSize: Int) throws(MembershipError) -> Int {
        let value = try self.readVarint(field())
        let fitting = minimumItemSize > 0 ? self.remaining / minimumItemSize : Int.max
        guard value <= UInt64(limit), value <= UInt64(fitting) else {
            throw MembershipError(
                code: .lengthTooLarge,
                message: "\(field()) count \(value) exceeds the limit \(limit) or the \(self.remaining) bytes left"
            )
        }
        return Int(value)
    }

    mutating func readString(_ field: @autoclosure () -> String, maxBytes: Int) throws(MembershipError) -> String {
        let length = try self.readVarint("\(field()) length")
        guard length <= UInt64(maxBytes) else {
            throw MembershipError(
                code: .lengthTooLarge,
                message: "\(field()) is \(length) bytes, above the limit \(maxBytes)"
            )
        }
        let count = Int(length)
        guard count <= self.remaining else {
            throw MembershipError(
                code: .truncated,
                message: "\(field()) needs \(count) bytes but only \(self.remaining) are left"
            )
        }
        let slice = self.bytes[self.offset..<(self.offset + count)]
        self.offset += count
        guard let string = String(validating: slice, as: UTF8.self) else {
            throw MembershipError(code: .invalidField, message: "\(field()) is not valid UTF-8")
        }
        return string
    }
}
