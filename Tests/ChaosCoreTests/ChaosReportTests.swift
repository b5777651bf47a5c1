import ChaosCore
import JSONCore
import LimiterCore
import Testing

@Suite("ChaosReport: the verdict and its figures")
struct ChaosReportTests {
    static let start: Int64 = 1_800_000_000_000 - 1_800_000_000_000 % 3_600_000 + 60_000
    static let setup = ChaosReport.Setup(seed: 7, long: false, initialNodes: 3, listedNodes: 5, replicas: 2, clients: 8,
                                         keys: 12)

    /// Admits `count` hits of `key` one second apart from the start.
    static func admit(_ count: Int, _ key: ChaosWorkload.Key, into ledger: inout Ledger) {
        for index in 0..<count {
            let sent = start + Int64(index) * 1_000
            ledger.record(ClientOperation(key: key.name, rule: key.rule, attempts: [
                .init(node: "n1", sentMs: sent, receivedMs: sent + 3, nodeWasLive: true, result: .answered(allowed: true)),
            ]))
        }
    }

    @Test("a key admitted one over its limit makes one over-admission and a failed run")
    func plantedOverAdmission() throws {
        let workload = ChaosWorkload(keyCount: 12)
        var ledger = Ledger()
        let log = try #require(workload.keys.first { $0.rule == "CHAOS_LOG" })
        let fixed = try #require(workload.keys.first { $0.rule == "CHAOS_FIXED" })
        Self.admit(9, log, into: &ledger)  // limit 8
        Self.admit(6, fixed, into: &ledger)  // limit 6: at the limit, not over
        let report = ChaosReport(setup: Self.setup, workload: workload, ledger: ledger, events: [], startMs: Self.start,
                                 endMs: Self.start + 30_000)
        #expect(report.overAdmissions == 1)
        #expect(report.keysOver.map(\.key) == [log.name])
        #expect(report.admitted == 15)
        #expect(!report.passed(strict: false))
        #expect(report.text.contains("over-admissions:      1 (1 of 12 keys over their limit)"))
    }

    @Test("no key over passes; --strict also needs every check answered")
    func strictNeedsAnswers() {
        let workload = ChaosWorkload(keyCount: 12)
        var ledger = Ledger()
        Self.admit(3, workload.keys[0], into: &ledger)
        ledger.record(ClientOperation(key: workload.keys[1].name, rule: workload.keys[1].rule, attempts: [
            .init(node: "n1", sentMs: Self.start, receivedMs: Self.start + 2_000, nodeWasLive: true, result: .failed(reason: "timeout")),
        ]))
        let report = ChaosReport(setup: Self.setup, workload: workload, ledger: ledger, events: [], startMs: Self.start,
                                 endMs: Self.start + 30_000)
        #expect(report.overAdmissions == 0)
        #expect(report.clientErrors == 1)
        #expect(report.passed(strict: false))
        #expect(!report.passed(strict: true))
    }

    @Test("a node that exited by itself fails only --strict, and is named in the report")
    func crashFailsStrict() {
        let workload = ChaosWorkload(keyCount: 12)
        var ledger = Ledger()
        Self.admit(3, workload.keys[0], into: &ledger)
        let report = ChaosReport(setup: Self.setup, workload: workload, ledger: ledger, events: [], startMs: Self.start,
                                 endMs: Self.start + 30_000, unexpectedExits: ["[  12.300s] n2 exited by itself with status 1"])
        #expect(report.passed(strict: false))
        #expect(!report.passed(strict: true))
        #expect(report.text.contains("node crashes:         1: [  12.300s] n2 exited by itself with status 1"))
    }

    @Test("a node that did not stop cleanly on SIGTERM fails only --strict")
    func shutdownProblemFailsStrict() {
        let workload = ChaosWorkload(keyCount: 12)
        var report = ChaosReport(setup: Self.setup, workload: workload, ledger: Ledger(), events: [], startMs: Self.start,
                                 endMs: Self.start + 30_000)
        #expect(report.passed(strict: true))
        #expect(report.text.contains("shutdown:             every node exited on SIGTERM"))
        report.shutdownProblems = ["n2 (pid 42) was killed by signal 4 on SIGTERM"]
        #expect(report.passed(strict: false))
        #expect(!report.passed(strict: true))
        #expect(report.text.contains("shutdown:             n2 (pid 42) was killed by signal 4 on SIGTERM"))
    }

    @Test("the JSON report parses and carries the figures and the faults by kind")
    func jsonReport() throws {
        let workload = ChaosWorkload(keyCount: 12)
        var ledger = Ledger()
        Self.admit(9, workload.keys[0], into: &ledger)
        let events = [
            FaultEvent(atMs: 3_000, kind: .kill, phase: .began, text: "kill -9 n2"),
            FaultEvent(atMs: 6_000, kind: .kill, phase: .ended, text: "restarted n2"),
            FaultEvent(atMs: 9_000, kind: .freeze, phase: .began, text: "SIGSTOP n1"),
        ]
        let report = ChaosReport(setup: Self.setup, workload: workload, ledger: ledger, events: events, startMs: Self.start,
                                 endMs: Self.start + 30_000)
        let json = try JSONParser.parse(report.json)
        #expect(json[member: "over_admissions"] == .integer(1))
        #expect(json[member: "admitted"] == .integer(9))
        #expect(json[member: "client_errors"] == .integer(0))
        #expect(json[member: "faults"]?[member: "kill -9"] == .integer(1))
        #expect(json[member: "faults"]?[member: "SIGSTOP"] == .integer(1))
        #expect(json[member: "faults"]?[member: "add node"] == .integer(0))
        #expect(json[member: "setup"]?[member: "seed"] == .string("7"))
        #expect(report.text.contains("faults:               2 (1 kill -9, 1 SIGSTOP, 0 add node, 0 remove node)"))
    }

    @Test("the workload deals its keys to the rules in turn and writes them as [[ratelimits]] tables")
    func workload() {
        let workload = ChaosWorkload(keyCount: 60)
        #expect(workload.keys.count == 60)
        let perRule = Dictionary(grouping: workload.keys, by: \.rule).mapValues(\.count)
        #expect(perRule.count == ChaosWorkload.defaultRules.count)
        #expect(perRule.values.allSatisfy { $0 == 10 })
        #expect(Set(workload.keys.map(\.name)).count == 60)
        #expect(workload.wranglerRules.contains("name = \"CHAOS_BUCKET\""))
        #expect(workload.wranglerRules.contains("algorithm = \"token_bucket\"\nburst = 6"))
    }
}
