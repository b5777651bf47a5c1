#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import GRDB
import GRDBSQLite

/// The files behind the log, checked by the node's store supervisor: the
/// WAL must stay the file SQLite opened, and recovery must prove the store
/// can write and fold its WAL into the database again.
extension EventLog {
    /// The write-ahead log next to the database (SQLite's `<path>-wal`).
    public var walPath: String { path + "-wal" }

    /// Fails with `store.wal_missing` when `<path>-wal` is gone or is no longer
    /// the file this log opened (same device and inode). SQLite keeps writing
    /// to the file it holds open, so committed frames would be lost at the
    /// next open if nothing noticed.
    public func checkWAL() throws(StoreError) {
        guard let opened = walIdentity else { return }
        switch FileIdentity(of: walPath) {
        case nil:
            throw StoreError(code: .walMissing, message:
                "the write-ahead log \(walPath) was removed while the event log was open", path: path)
        case let current? where current != opened:
            throw StoreError(code: .walMissing, message:
                "the write-ahead log \(walPath) was replaced by another file while the event log was open", path: path)
        default:
            return
        }
    }

    /// Copies every committed WAL frame into the database file and truncates
    /// the WAL (`PRAGMA wal_checkpoint(TRUNCATE)`) on the writer connection.
    /// Frames of a WAL that was removed from the directory are still read
    /// through the descriptors this log holds, so they reach the database.
    ///
    /// - Throws: `store.busy` when a reader kept part of the WAL in use, so
    ///   not everything was copied; any write failure (disk full, I/O).
    public func foldWAL() throws(StoreError) {
        try ensureOpen("folding the WAL into the database")
        let busy: Bool = try StoreError.typed(path: path, doing: "folding the WAL into the database") {
            try pool.writeWithoutTransaction { db in
                // (busy, frames in the WAL, frames copied); busy is 1 when a
                // reader kept the checkpoint from finishing.
                let row = try Row.fetchOne(db, sql: "PRAGMA wal_checkpoint(TRUNCATE)")
                return ((row?[0] as Int?) ?? 1) != 0
            }
        }
        if busy {
            throw StoreError(code: .busy, message:
                "the WAL of \(path) could not be fully copied into the database: a reader still uses it", path: path)
        }
    }

    /// Proves the store can write: folds the WAL into the database (so the
    /// database file can grow) and commits one row, `node_state.store_probe`,
    /// holding `nowMs`, the last time this node found its store writable.
    public func probeWrite(at nowMs: Int64) throws(StoreError) {
        try foldWAL()
        var bytes: [UInt8] = []
        var value = UInt64(bitPattern: nowMs).bigEndian
        withUnsafeBytes(of: &value) { bytes.append(contentsOf: $0) }
        try saveState("store_probe", bytes, at: nowMs)
    }

    /// The size of `<path>-wal` in bytes, or nil when there is none.
    public var walFileBytes: Int64? {
        var info = stat()
        guard stat(walPath, &info) == 0 else { return nil }
        return Int64(info.st_size)
    }

    /// Fails with SQLite's own error (`store.not_a_database`) when an
    /// existing, non-empty file at `path` is not a SQLite database, asking
    /// SQLite through a read-only connection on the file alone (`immutable=1`:
    /// no WAL, no locks). Such a connection never writes, whereas a
    /// read-write one that fails would fold the WAL into the broken file as
    /// it closes: the node leaves such a file exactly as it found it, for an
    /// operator to judge. Other errors are left to the real open, which
    /// takes locks: without them a page read while another process writes
    /// it may look corrupt, but the header's first bytes never change.
    static func checkDatabaseFile(at path: String) throws(StoreError) {
        var info = stat()
        guard stat(path, &info) == 0, info.st_size > 0 else { return }
        var uri = "file:"
        for character in path.unicodeScalars {
            switch character {
            case "%": uri += "%25"
            case "?": uri += "%3f"
            case "#": uri += "%23"
            default: uri.unicodeScalars.append(character)
            }
        }
        uri += "?immutable=1"
        var connection: OpaquePointer?
        defer { sqlite3_close(connection) }
        var code = sqlite3_open_v2(uri, &connection, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI, nil)
        if code == SQLITE_OK {
            code = sqlite3_exec(connection, "SELECT count(*) FROM sqlite_master", nil, nil, nil)
        }
        guard code & 0xFF == SQLITE_NOTADB else { return }
        let message = connection.map { String(cString: sqlite3_errmsg($0)) } ?? String(cString: sqlite3_errstr(code))
        throw StoreError(DatabaseError(resultCode: ResultCode(rawValue: code), message: message), path: path,
                         doing: "opening the event log")
    }

    /// Bytes available on the filesystem holding `path`'s directory (which
    /// need not hold a database yet), or nil when `statvfs` fails.
    public static func freeBytes(onFilesystemOf path: String) -> Int64? {
        let slash = path.lastIndex(of: "/")
        let directory = slash.map { $0 == path.startIndex ? "/" : String(path[..<$0]) } ?? "."
        var stats = statvfs()
        guard statvfs(directory, &stats) == 0 else { return nil }
        return Int64(stats.f_bavail) * Int64(stats.f_frsize)
    }
}

/// A file's device and inode: the same path naming another file changes it.
struct FileIdentity: Hashable, Sendable {
    var device: UInt64
    var inode: UInt64

    /// The identity of the file at `path`, or nil when there is none.
    init?(of path: String) {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        device = UInt64(info.st_dev)
        inode = UInt64(info.st_ino)
    }
}
