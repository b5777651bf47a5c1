/// Reads what ``WireWriter`` wrote from untrusted bytes. Every read checks
/// bounds first and throws a ``WireError`` naming the field instead of
/// trapping: a peer with a valid certificate, or a corrupted file, must
/// never be able to crash a node.
public struct WireReader: Sendable {
    // Internal to the module but visible to inlined callers: the codecs in
    // other modules inline these reads (callgrind, BENCHMARKS.md).
    @usableFromInline let bytes: [UInt8]
    /// Where the next read starts.
    public var offset: Int { position }
    @usableFromInline var position: Int
    @usableFromInline let end: Int

    @inlinable
    public init(_ bytes: [UInt8]) {
        self.init(bytes, from: 0, to: bytes.count)
    }

    /// Reads `bytes[from..<to]`.
    @inlinable
    public init(_ bytes: [UInt8], from: Int, to end: Int) {
        precondition(0 <= from && from <= end && end <= bytes.count, "WireReader: range \(from)..<\(end) outside \(bytes.count) bytes")
        self.bytes = bytes
        self.position = from
        self.end = end
    }

    @inlinable
    public var remaining: Int { end - position }

    @inlinable
    public func error(_ code: WireError.Code, _ what: String) -> WireError {
        WireError(code: code, message: "\(what) (at byte \(position))")
    }

    @inlinable
    public mutating func byte(_ field: @autoclosure () -> String) throws(WireError) -> UInt8 {
        guard position < end else { throw error(.truncated, "input ends inside \(field())") }
        defer { position += 1 }
        return bytes[position]
    }

    @inlinable
    public mutating func bool(_ field: @autoclosure () -> String) throws(WireError) -> Bool {
        switch try byte(field()) {
        case 0: return false
        case 1: return true
        case let other: throw error(.invalidField, "\(field()) is \(other), not a boolean")
        }
    }

    @inlinable @inline(__always)
    public mutating func varint(_ field: @autoclosure () -> String) throws(WireError) -> UInt64 {
        // Most varints on the wire (lengths, counts, small numbers) are one byte.
        if position < end, bytes[position] < 0x80 {
            defer { position += 1 }
            return UInt64(bytes[position])
        }
        return try unsigned(UInt64.self, field())
    }

    /// LEB128 into `T`; a value wider than `T` is an error, not a truncation.
    @inlinable
    public mutating func unsigned<T: UnsignedInteger & FixedWidthInteger>(
        _: T.Type, _ field: @autoclosure () -> String
    ) throws(WireError) -> T {
        var value: T = 0
        var shift = 0
        while true {
            let byte = try self.byte(field())
            let payload = T(byte & 0x7F)
            if shift >= T.bitWidth || (shift > 0 && payload > (T.max >> shift)) {
                throw error(.invalidField, "\(field()) does not fit in \(T.bitWidth) bits")
            }
            value |= payload << shift
            if byte & 0x80 == 0 { return value }
            shift += 7
        }
    }

    /// A varint that must lie in `0...limit`.
    @inlinable
    public mutating func bounded(_ field: @autoclosure () -> String, limit: Int64) throws(WireError) -> Int64 {
        let value = try varint(field())
        guard value <= UInt64(max(limit, 0)) else {
            throw error(.invalidField, "\(field()) is \(value), above the limit \(limit)")
        }
        return Int64(value)
    }

    /// A count of items each at least `minimumItemSize` bytes long: it can
    /// never exceed what is left in the input, which stops a forged count
    /// from making the reader reserve gigabytes.
    @inlinable
    public mutating func count(_ field: @autoclosure () -> String, limit: Int, minimumItemSize: Int = 0) throws(WireError) -> Int {
        let value = try varint(field())
        let fitting = minimumItemSize > 0 ? remaining / minimumItemSize : Int.max
        guard value <= UInt64(max(limit, 0)), value <= UInt64(fitting) else {
            throw error(.lengthTooLarge, "\(field()) \(value) exceeds the limit \(limit) or the \(remaining) bytes left")
        }
        return Int(value)
    }

    @inlinable
    public mutating func signed64(_ field: @autoclosure () -> String) throws(WireError) -> Int64 {
        let raw = try varint(field())
        return Int64(bitPattern: raw >> 1) ^ -Int64(bitPattern: raw & 1)
    }

    @inlinable
    public mutating func signed128(_ field: @autoclosure () -> String) throws(WireError) -> Int128 {
        let raw = try unsigned(UInt128.self, field())
        return Int128(bitPattern: raw >> 1) ^ -Int128(bitPattern: raw & 1)
    }

    /// A length-prefixed UTF-8 string. With `previous`, a string whose bytes
    /// are exactly `previous`'s UTF-8 comes back as `previous` itself: the
    /// items of a batch repeat their rule, version and node names, and
    /// reusing one saves validating and allocating each copy.
    @inlinable
    public mutating func string(_ field: @autoclosure () -> String, maxBytes: Int,
                                reusing previous: String? = nil) throws(WireError) -> String {
        let length = try varint("\(field()) length")
        guard length <= UInt64(maxBytes) else {
            throw error(.lengthTooLarge, "\(field()) is \(length) bytes, above the limit \(maxBytes)")
        }
        let count = Int(length)
        guard count <= remaining else {
            throw error(.truncated, "\(field()) needs \(count) bytes but only \(remaining) are left")
        }
        let range = position..<(position + count)
        if let previous, Self.isUTF8(of: previous, bytes, range) {
            position += count
            return previous
        }
        guard let text = Self.utf8(bytes, range) else {
            throw error(.invalidField, "\(field()) is not valid UTF-8")
        }
        position += count
        return text
    }

    /// Whether `bytes[range]` is `text`'s UTF-8. A plain loop: the generic
    /// `elementsEqual` cost about 500 instructions a call (callgrind).
    @usableFromInline
    static func isUTF8(of text: String, _ bytes: [UInt8], _ range: Range<Int>) -> Bool {
        // Read in place: a `var` copy for `withUTF8` cost a retain and a
        // release of the string's storage per call (callgrind).
        let same = text.utf8.withContiguousStorageIfAvailable { utf8 in
            guard utf8.count == range.count else { return false }
            return bytes.withUnsafeBufferPointer { all in
                var index = 0
                while index < utf8.count {
                    if utf8[index] != all[range.lowerBound + index] { return false }
                    index += 1
                }
                return true
            }
        }
        return same ?? text.utf8.elementsEqual(bytes[range])
    }

    /// `bytes[range]` as a string if it is valid UTF-8. ASCII, what peers
    /// send almost always, is valid as it is. Otherwise `String(decoding:)`
    /// replaces invalid sequences with U+FFFD, so only valid bytes come back
    /// unchanged. The generic `String(validating:as:)` looked up type
    /// metadata at run time on every call (callgrind, BENCHMARKS.md).
    @usableFromInline
    static func utf8(_ bytes: [UInt8], _ range: Range<Int>) -> String? {
        bytes.withUnsafeBufferPointer { all in
            let raw = UnsafeBufferPointer(rebasing: all[range])
            let text = String(decoding: raw, as: UTF8.self)
            if !raw.contains(where: { $0 >= 0x80 }) { return text }
            return text.utf8.elementsEqual(raw) ? text : nil
        }
    }

    /// A length-prefixed run of raw bytes (``WireWriter/blob(_:)``).
    @inlinable
    public mutating func blob(_ field: @autoclosure () -> String, maxBytes: Int) throws(WireError) -> [UInt8] {
        let length = try varint("\(field()) length")
        guard length <= UInt64(maxBytes) else {
            throw error(.lengthTooLarge, "\(field()) is \(length) bytes, above the limit \(maxBytes)")
        }
        let count = Int(length)
        guard count <= remaining else {
            throw error(.truncated, "\(field()) needs \(count) bytes but only \(remaining) are left")
        }
        defer { position += count }
        return Array(bytes[position..<(position + count)])
    }

    /// The rest of the input, consumed.
    @inlinable
    public mutating func rest() -> [UInt8] {
        defer { position = end }
        return Array(bytes[position..<end])
    }

    /// Fails unless every byte was read.
    @inlinable
    public func expectEnd(_ what: @autoclosure () -> String) throws(WireError) {
        guard remaining == 0 else { throw error(.trailingBytes, "\(remaining) bytes left after a complete \(what())") }
    }
}
