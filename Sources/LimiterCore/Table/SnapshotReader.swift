import Wire

/// The shared ``WireReader`` with the snapshot's error type: every failure
/// becomes a ``SnapshotError`` naming the field and offset.
struct SnapshotReader {
    private var wire: WireReader

    init(_ bytes: [UInt8], from offset: Int, to end: Int) {
        wire = WireReader(bytes, from: offset, to: end)
    }

    var remaining: Int { wire.remaining }

    func fail(_ code: SnapshotError.Code, _ what: String) -> SnapshotError {
        SnapshotError(code: code, message: "\(what) at byte \(wire.offset)")
    }

    private static func mapped(_ error: WireError) -> SnapshotError {
        SnapshotError(code: error.code == .truncated ? .truncated : .invalidValue, message: error.message)
    }

    mutating func byte(_ field: String) throws(SnapshotError) -> UInt8 {
        do { return try wire.byte(field) } catch { throw Self.mapped(error) }
    }

    /// A count or size, at most `limit`.
    mutating func count(_ field: String, atMost limit: Int) throws(SnapshotError) -> Int {
        do { return try wire.count(field, limit: limit) } catch { throw Self.mapped(error) }
    }

    mutating func signed64(_ field: String) throws(SnapshotError) -> Int64 {
        do { return try wire.signed64(field) } catch { throw Self.mapped(error) }
    }

    mutating func signed128(_ field: String) throws(SnapshotError) -> Int128 {
        do { return try wire.signed128(field) } catch { throw Self.mapped(error) }
    }

    mutating func string(_ field: String) throws(SnapshotError) -> String {
        do { return try wire.string(field, maxBytes: wire.remaining) } catch { throw Self.mapped(error) }
    }
}
