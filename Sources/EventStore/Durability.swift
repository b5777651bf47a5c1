/// How hard SQLite works to keep a committed transaction across power loss.
///
/// Both modes use the write-ahead log. With `.full`, SQLite syncs the WAL on
/// every commit, so an acknowledged hit survives an OS crash or power cut
/// (https://sqlite.org/pragma.html#pragma_synchronous). With `.normal`, a
/// commit survives a process crash but the last transactions may be lost on
/// power failure; it trades that for fewer fsyncs.
public enum Durability: String, Sendable, Hashable, CaseIterable {
    /// `PRAGMA synchronous = FULL`: fsync on every commit.
    case full
    /// `PRAGMA synchronous = NORMAL`: fsync at checkpoints only.
    case normal

    var pragmaValue: String {
        switch self {
        case .full: "FULL"
        case .normal: "NORMAL"
        }
    }
}
