import Foundation
import JSONCore
import TestSupport
import Testing

/// `ratelimit chaos`, the fault suite that judges the cluster, run in its
/// short form as `scripts/test` runs it: real node processes, kill -9,
/// SIGSTOP, a node added and one removed under concurrent clients. It holds
/// because of replication, failover, imports and handoff (DESIGN §6); before
/// them the same run reported 262 over-admissions.
@Suite("ratelimit chaos", .serialized)
struct ChaosTests {
    @Test("the short chaos run reports every fault kind and no key admitted over its limit")
    func shortRunHasNoOverAdmission() async throws {
        let directory = try TemporaryDirectory(prefix: "ratelimit-chaos-e2e")
        let reportPath = directory.file("report.json")
        let process = try TestProcess(name: "chaos", executable: TestEnvironment.binary,
                                      arguments: ["chaos", "--seed", "1", "--report", reportPath], directory: directory.path)
        // The short form loads for 30 s; forming the cluster and stopping it
        // take most of the rest on a loaded machine.
        if !(await process.waitForExit(within: .seconds(300))) {
            await process.stop()
            Issue.record("ratelimit chaos did not finish within 300 s:\n\(process.output)")
            return
        }
        let output = process.output
        #expect(process.exitStatus != 2, "the harness itself failed:\n\(output)")
        let text = try #require(FileManager.default.contents(atPath: reportPath), "no report written:\n\(output)")
        let report = try JSONParser.parse(Array(text))
        let operations = try #require(report[member: "operations"]?.int)
        #expect(operations > 100, "the clients made \(operations) checks")
        #expect((report[member: "admitted"]?.int ?? 0) > 0)
        for kind in ["kill -9", "SIGSTOP", "add node", "remove node"] {
            #expect((report[member: "faults"]?[member: kind]?.int ?? 0) >= 1, "no \(kind) fault:\n\(output)")
        }
        #expect(report[member: "over_admissions"]?.int == 0, "over-admissions:\n\(output)")
        #expect(process.exitStatus == 0, "\(output)")
        withExtendedLifetime(directory) {}
    }
}
