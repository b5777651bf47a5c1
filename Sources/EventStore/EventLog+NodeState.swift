import Foundation
import GRDB

extension EventLog {
    /// Stores `value` under `name`, replacing what was there, in one
    /// committed transaction (with the log's durability).
    public func saveState(_ name: String, _ value: [UInt8], at updatedAtMs: Int64) throws(StoreError) {
        try writeTransaction("saving node state \(name)") { db in
            try db.execute(
                sql: "INSERT OR REPLACE INTO node_state (name, value, updated_at_ms) VALUES (?, ?, ?)",
                arguments: [name, Data(value), updatedAtMs])
        }
    }

    /// The value stored under `name`, or nil when none was saved.
    public func loadState(_ name: String) throws(StoreError) -> [UInt8]? {
        try read("reading node state \(name)") { db in
            try Data.fetchOne(db, sql: "SELECT value FROM node_state WHERE name = ?", arguments: [name]).map { [UInt8]($0) }
        }
    }
}
