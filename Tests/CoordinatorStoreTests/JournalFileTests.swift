@testable import CoordinatorStore
import Foundation
import GRDB
import Rollout
import TestSupport
import Testing

@Suite("CoordinatorJournal file: WAL, durability, and clear errors for bad files")
struct JournalFileTests {
    @Test("the file is in WAL mode with synchronous FULL on the writer, and reopens with its content")
    func walAndDurability() throws {
        let dir = try TemporaryDirectory(prefix: "coordinator-store-tests")
        let path = dir.file("nested/dir/journal.sqlite")
        let journal = try CoordinatorJournal(path: path)
        try journal.upload(bundle(limit: 1))
        // WAL mode is persistent in the file header: bytes 18 and 19 are 2.
        let header = try #require(FileManager.default.contents(atPath: path))
        #expect(header.count >= 20 && header[18] == 2 && header[19] == 2)
        #expect(try journal.pragma("journal_mode") == "wal")
        #expect(try journal.pragma("synchronous") == "2")  // FULL
        #expect(try journal.pragma("application_id") == String(CoordinatorJournal.applicationID))
        try journal.close()
        try journal.close()

        #expect(try CoordinatorJournal(path: path).versionCount() == 1)
    }

    @Test("the migrations are named once and for all; new ones only come after")
    func migrationNames() {
        #expect(CoordinatorJournal.migrator.migrations == ["v1-versions", "v1-journal", "v1-rollout-state", "v2-alert-state"])
    }

    @Test("a journal written before the alert state opens, gains its table, and keeps what it held")
    func upgradesOlderJournal() throws {
        let dir = try TemporaryDirectory(prefix: "coordinator-store-tests")
        let path = dir.file("coordinator.sqlite")
        do {
            let queue = try DatabaseQueue(path: path)
            try CoordinatorJournal.migrator.migrate(queue, upTo: "v1-rollout-state")
        }
        let journal = try CoordinatorJournal(path: path)
        #expect(try journal.alertState() == nil)
        try journal.saveAlertState(Data("state".utf8), atMs: 1)
        #expect(try journal.alertState() == Data("state".utf8))
    }

    @Test("a file that is not a database is refused with its path, and left as it was")
    func notADatabase() throws {
        let dir = try TemporaryDirectory(prefix: "coordinator-store-tests")
        let path = dir.file("journal.sqlite")
        let garbage = Data(String(repeating: "this is not a database. ", count: 200).utf8)
        #expect(FileManager.default.createFile(atPath: path, contents: garbage))

        let error = #expect(throws: JournalError.self) { try CoordinatorJournal(path: path) }

        #expect(error?.code == .notADatabase)
        #expect(error?.path == path)
        #expect(error?.message.contains(path) == true)
        #expect(FileManager.default.contents(atPath: path) == garbage)
    }

    @Test("another program's SQLite database, such as a node's event log, is refused untouched")
    func wrongDatabase() throws {
        let dir = try TemporaryDirectory(prefix: "coordinator-store-tests")
        let path = dir.file("events.sqlite")
        try DatabaseQueue(path: path).write { db in
            try db.execute(sql: "CREATE TABLE events (seq INTEGER PRIMARY KEY, hits INTEGER)")
        }

        let error = #expect(throws: JournalError.self) { try CoordinatorJournal(path: path) }

        #expect(error?.code == .wrongDatabase)
        #expect(error?.message.contains("events") == true)
        #expect(error?.message.contains(path) == true)
        let tables = try DatabaseQueue(path: path).read { db in
            try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'table'")
        }
        #expect(tables == ["events"])
    }

    @Test("a journal written by a newer release is refused, naming the unknown migration")
    func newerSchema() throws {
        let dir = try TemporaryDirectory(prefix: "coordinator-store-tests")
        let path = dir.file("journal.sqlite")
        try CoordinatorJournal(path: path).close()
        try DatabaseQueue(path: path).write { db in
            try db.execute(sql: "INSERT INTO grdb_migrations (identifier) VALUES ('v9-from-the-future')")
        }

        let error = #expect(throws: JournalError.self) { try CoordinatorJournal(path: path) }

        #expect(error?.code == .newerSchema)
        #expect(error?.message.contains("v9-from-the-future") == true)
    }

    @Test("a path under a regular file cannot be opened")
    func cannotOpen() throws {
        let dir = try TemporaryDirectory(prefix: "coordinator-store-tests")
        let file = dir.file("plain")
        #expect(FileManager.default.createFile(atPath: file, contents: Data("x".utf8)))
        let error = #expect(throws: JournalError.self) { try CoordinatorJournal(path: file + "/journal.sqlite") }
        #expect(error?.code == .cannotOpen)
    }

    @Test("damaged pages give a journal error, never a crash")
    func damagedPages() throws {
        let dir = try TemporaryDirectory(prefix: "coordinator-store-tests")
        let path = dir.file("journal.sqlite")
        do {
            let journal = try CoordinatorJournal(path: path)
            for limit in 1...50 { try journal.upload(bundle(limit: limit, message: String(repeating: "m", count: 500))) }
            try journal.append(entry(
                .percent, .applied, version: "v-b", deployment: Deployment(epoch: 1, stable: "v-a", canary: "v-b", percent: 5)))
            try journal.close()
        }
        // Overwrite everything after the first page (the header and schema stay readable).
        var bytes = try #require(FileManager.default.contents(atPath: path))
        #expect(bytes.count > 8192)
        for index in 4096..<bytes.count { bytes[index] = UInt8(truncatingIfNeeded: index &* 31 &+ 7) }
        try bytes.write(to: URL(fileURLWithPath: path))

        let error = #expect(throws: JournalError.self) {
            let journal = try CoordinatorJournal(path: path)
            _ = try journal.versions()
            _ = try journal.entries()
        }
        #expect([JournalError.Code.corrupt, .notADatabase].contains(error?.code), "\(String(describing: error))")
        #expect(error?.message.contains(path) == true)
    }

    @Test("rows that do not decode give journal.corrupt_record naming what, never a crash")
    func corruptRecords() throws {
        let dir = try TemporaryDirectory(prefix: "coordinator-store-tests")
        let journal = try dir.journal()
        let stored = bundle(limit: 1)
        try journal.upload(stored)
        try journal.record(
            entry: entry(.percent, .applied, version: "v-b", deployment: Deployment(epoch: 1, stable: "v-a", canary: "v-b", percent: 5)),
            rollout: { var r = Rollout(stable: "v-a"); _ = try! r.onSetPercent(version: "v-b", percent: 5, now: 0); return r }(),
            baselines: nil)

        func corrupt(_ sql: String) throws {
            try journal.pool.write { db in try db.execute(sql: sql) }
        }
        func expectCorrupt(_ mentions: String, _ body: () throws -> Void) {
            let error = #expect(throws: JournalError.self) { try body() }
            #expect(error?.code == .corruptRecord, "\(String(describing: error))")
            #expect(error?.message.contains(mentions) == true, "\(String(describing: error))")
            #expect(error?.message.contains(journal.path) == true)
        }

        try corrupt("UPDATE versions SET rules = '[{\"name\": 1}]'")
        expectCorrupt("rules of version \(stored.id)") { _ = try journal.version(stored.id) }
        expectCorrupt("rules of version \(stored.id)") { _ = try journal.versions() }

        try corrupt("UPDATE versions SET rules = '[]'")
        expectCorrupt("whose id is") { _ = try journal.version(stored.id) }

        // A split state with no canary in its deployment: the Rollout's invariants refuse it.
        try corrupt("""
            UPDATE rollout_state SET rollout = '{"deployment":{"epoch":1,"stable":"v-a","canary":null,"percent":0},\
            "state":{"kind":"split","version":"v-b","since":0}}'
            """)
        expectCorrupt("saved rollout state") { _ = try journal.currentRollout() }

        try corrupt("UPDATE journal SET split_percent = 150")
        expectCorrupt("journal entry 1") { _ = try journal.latestDeployment() }
        expectCorrupt("journal entry 1") { _ = try journal.entries() }

        try corrupt("UPDATE journal SET split_percent = 5, actor = x'00ff'")
        expectCorrupt("actor") { _ = try journal.entries() }
    }

    @Test("a closed journal throws instead of crashing")
    func closed() throws {
        let dir = try TemporaryDirectory(prefix: "coordinator-store-tests")
        let journal = try dir.journal()
        try journal.close()
        let read = #expect(throws: JournalError.self) { try journal.versions() }
        let write = #expect(throws: JournalError.self) { try journal.upload(bundle(limit: 1)) }
        #expect(read?.code == .closed)
        #expect(write?.code == .closed)
        #expect(read?.message.contains(journal.path) == true)
    }
}
