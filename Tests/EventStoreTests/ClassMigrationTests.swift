import EventStore
import TestSupport
import Testing

@Suite("Durable Object class migrations recorded in the store")
struct ClassMigrationTests {
    let v1 = ClassMigration(tag: "v1", newClasses: ["RateLimitDO", "Counter"])
    let v2 = ClassMigration(tag: "v2", renamedClasses: [.init(from: "RateLimitDO", to: "RateLimiter")])
    let v3 = ClassMigration(tag: "v3", deletedClasses: ["Counter"])

    @Test("migrations are applied once, in order, and re-applying the list is a no-op")
    func appliedOnceInOrder() throws {
        let dir = try TemporaryDirectory(prefix: "eventstore")
        let log = try EventLog(path: dir.file("events.sqlite"))

        #expect(try log.applyMigrations([v1], at: 1) == ["v1"])
        #expect(try log.classes() == ["Counter", "RateLimitDO"])
        #expect(try log.applyMigrations([v1, v2, v3], at: 2) == ["v2", "v3"])
        #expect(try log.classes() == ["RateLimiter"])
        #expect(try log.applyMigrations([v1, v2, v3], at: 3) == [])
        #expect(try log.appliedMigrationTags() == ["v1", "v2", "v3"])
    }

    @Test("the recorded migrations survive a reopen and are not applied again")
    func survivesReopen() throws {
        let dir = try TemporaryDirectory(prefix: "eventstore")
        let path = dir.file("events.sqlite")
        do {
            let log = try EventLog(path: path)
            try log.applyMigrations([v1, v2])
            try log.close()
        }
        let log = try EventLog(path: path)
        #expect(try log.applyMigrations([v1, v2, v3]) == ["v3"])
        #expect(try log.classes() == ["RateLimiter"])
    }

    @Test("a reordered or removed applied tag is an error naming the tag")
    func reorderIsAnError() throws {
        let dir = try TemporaryDirectory(prefix: "eventstore")
        let log = try EventLog(path: dir.file("events.sqlite"))
        try log.applyMigrations([v1, v2])

        let reordered = #expect(throws: StoreError.self) { try log.applyMigrations([v2, v1]) }
        #expect(reordered?.code == .migrationOrder)
        #expect(reordered?.message.contains("'v2'") == true)
        #expect(reordered?.message.contains("'v1'") == true)

        let removed = #expect(throws: StoreError.self) { try log.applyMigrations([v1]) }
        #expect(removed?.code == .migrationOrder)
        #expect(removed?.message.contains("'v2'") == true)

        let duplicated = #expect(throws: StoreError.self) { try log.applyMigrations([v1, v2, v1]) }
        #expect(duplicated?.code == .migrationOrder)
        #expect(try log.appliedMigrationTags() == ["v1", "v2"])
    }

    @Test("renaming needs an existing source and a free target; deleting needs an existing class")
    func renameAndDeleteSemantics() throws {
        let dir = try TemporaryDirectory(prefix: "eventstore")
        let log = try EventLog(path: dir.file("events.sqlite"))
        try log.applyMigrations([v1])

        let cases: [ClassMigration] = [
            ClassMigration(tag: "x", renamedClasses: [.init(from: "Missing", to: "New")]),
            ClassMigration(tag: "x", renamedClasses: [.init(from: "RateLimitDO", to: "Counter")]),
            ClassMigration(tag: "x", deletedClasses: ["Missing"]),
            ClassMigration(tag: "x", newClasses: ["Counter"]),
        ]
        for migration in cases {
            let error = #expect(throws: StoreError.self) { try log.applyMigrations([v1, migration]) }
            #expect(error?.code == .migrationConflict)
            #expect(error?.message.contains("'x'") == true)
        }
        #expect(try log.classes() == ["Counter", "RateLimitDO"])
        #expect(try log.appliedMigrationTags() == ["v1"])
    }

    @Test("a failing migration applies nothing from the list, not even earlier new tags")
    func failureAppliesNothing() throws {
        let dir = try TemporaryDirectory(prefix: "eventstore")
        let log = try EventLog(path: dir.file("events.sqlite"))
        let bad = ClassMigration(tag: "bad", deletedClasses: ["Nope"])

        #expect(throws: StoreError.self) { try log.applyMigrations([v1, v2, bad]) }
        #expect(try log.appliedMigrationTags() == [])
        #expect(try log.classes() == [])
    }
}
