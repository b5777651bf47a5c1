import EventStore

/// Why this node's event log cannot record hits: what `/health` reports as
/// its `reason` (DESIGN.md §5) while checks are answered by the
/// ``UnavailablePolicy`` and the ``StoreSupervisor`` retries.
public struct StoreFault: Error, Sendable, Hashable, CustomStringConvertible {
    /// The ``StoreError`` code behind the fault (`store.disk_full`,
    /// `store.not_a_database`, `store.wal_missing`, ...), or a ``NodeError``
    /// code when the store opened but could not be set up.
    public var code: String
    /// What failed, naming the file and the error.
    public var detail: String
    /// What recovery waits for, when it waits for something besides time
    /// (free space after a disk-full fault).
    public var waitingFor: String?

    public init(code: String, detail: String, waitingFor: String? = nil) {
        self.code = code
        self.detail = detail
        self.waitingFor = waitingFor
    }

    /// `error` while doing `what` (e.g. "event log commit failed").
    public init(_ error: StoreError, while what: String) {
        self.init(code: error.code.rawValue, detail: "\(what): \(error.message)")
    }

    /// One line for operators: the detail, then what recovery waits for.
    public var reason: String {
        guard let waitingFor else { return detail }
        return "\(detail); waiting for \(waitingFor)"
    }

    public var description: String { reason }

    /// Space ran out: recovery waits for free space (see ``StoreSupervisor/Settings``).
    var isDiskFull: Bool { code == StoreError.Code.diskFull.rawValue }

    /// The WAL was removed under the open log: the old connections still hold
    /// its frames, which must reach the database file before it is closed.
    var isWALMissing: Bool { code == StoreError.Code.walMissing.rawValue }
}
