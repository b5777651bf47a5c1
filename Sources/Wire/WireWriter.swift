/// Appends the one binary encoding every codec of this project uses (peer
/// messages, SWIM gossip, counter snapshots): bytes, LEB128 varints, zigzag
/// for signed values and varint-length-prefixed UTF-8 strings (protobuf's
/// varint, sint and bytes encodings, without field tags: each message type
/// fixes its layout and appends new fields at the end, see ``Envelope``).
public struct WireWriter: Sendable {
    public var bytes: [UInt8] = []

    @inlinable
    public init(capacity: Int = 64) {
        bytes.reserveCapacity(capacity)
    }

    @inlinable
    public mutating func byte(_ value: UInt8) {
        bytes.append(value)
    }

    @inlinable
    public mutating func bool(_ value: Bool) {
        bytes.append(value ? 1 : 0)
    }

    @inlinable @inline(__always)
    public mutating func varint(_ value: UInt64) {
        // Most varints on the wire (lengths, counts, small numbers) are one byte.
        if value < 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: value))
            return
        }
        var value = value
        while value >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: value) | 0x80)
            value >>= 7
        }
        bytes.append(UInt8(value))
    }

    /// LEB128 of any unsigned width (counter snapshots carry 128-bit values).
    @inlinable
    public mutating func unsigned<T: UnsignedInteger & FixedWidthInteger>(_ value: T) {
        var value = value
        while value >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: value) | 0x80)
            value >>= 7
        }
        bytes.append(UInt8(truncatingIfNeeded: value))
    }

    /// A count, size, port or timeout. Negative values are a programming
    /// error: nothing written through this is negative.
    @inlinable
    public mutating func count(_ value: some BinaryInteger, field: StaticString = "count") {
        precondition(value >= 0, "wire: field \(field) must not be negative, was \(value)")
        varint(UInt64(value))
    }

    /// Zigzag, so small negative numbers stay short.
    @inlinable
    public mutating func signed(_ value: Int64) {
        varint(UInt64(bitPattern: (value << 1) ^ (value >> 63)))
    }

    @inlinable
    public mutating func signed(_ value: Int128) {
        unsigned(UInt128(bitPattern: (value << 1) ^ (value >> 127)))
    }

    @inlinable
    public mutating func string(_ value: String) {
        // Native strings are contiguous UTF-8: one copy, not a byte at a
        // time, read in place (a `var` copy for `withUTF8` cost a retain and
        // a release of the string's storage per call).
        let written: Void? = value.utf8.withContiguousStorageIfAvailable { utf8 in
            varint(UInt64(utf8.count))
            bytes.append(contentsOf: utf8)
        }
        if written == nil {
            var value = value
            value.withUTF8 { utf8 in
                varint(UInt64(utf8.count))
                bytes.append(contentsOf: utf8)
            }
        }
    }

    /// Raw bytes behind their length, read back by ``WireReader/blob(_:maxBytes:)``.
    @inlinable
    public mutating func blob(_ raw: [UInt8]) {
        varint(UInt64(raw.count))
        bytes.append(contentsOf: raw)
    }

    @inlinable
    public mutating func append(_ raw: some Sequence<UInt8>) {
        bytes.append(contentsOf: raw)
    }
}
