import CoordinatorStore
import Foundation
import TestSupport
import Testing

struct AlertStateTests {
    @Test("the alert state is saved whole, replaced by the next save, and read back after the journal is reopened")
    func savedAcrossReopen() throws {
        let dir = try TemporaryDirectory(prefix: "coordinator-store-tests")
        do {
            let journal = try dir.journal()
            #expect(try journal.alertState() == nil)
            try journal.saveAlertState(Data("first".utf8), atMs: 1)
            try journal.saveAlertState(Data("second".utf8), atMs: 2)
        }
        let reopened = try dir.journal()
        #expect(try reopened.alertState() == Data("second".utf8))
    }
}
