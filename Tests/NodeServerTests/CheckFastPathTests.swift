import EventStore
import Foundation
import JSONCore
import LimiterCore
import NIOCore
@testable import NodeServer
import TestSupport
import Testing

/// The single-check route's shortcuts must answer exactly as the general
/// path: the common-body reader, the per-rule response template, and the
/// engine's one-check entry.
@Suite("The check fast path agrees with the general path")
struct CheckFastPathTests {
    /// Removed when the test ends: Swift Testing makes a suite instance per test.
    let directory: TemporaryDirectory

    init() throws {
        directory = try TemporaryDirectory(prefix: "fastpath")
    }

    static let rules: [String: Rule] = [
        "default": Rule(name: "default", namespaceID: "default", limit: 100, periodSeconds: 60, algorithm: .slidingWindow),
        "API": Rule(name: "API", namespaceID: "1001", limit: 10, periodSeconds: 60, algorithm: .fixedWindow),
        "SEARCH": Rule(name: "SEARCH", namespaceID: "1003", limit: 10, periodSeconds: 1, algorithm: .tokenBucket, burst: 30),
        "q\"b\\s": Rule(name: "q\"b\\s", namespaceID: "9", limit: 2_147_483_647, periodSeconds: 3_153_600_000, algorithm: .gcra, burst: 7),
    ]

    func full(_ body: [UInt8]) -> Result<CheckRequest, APIProblem> {
        body.withUnsafeBytes { raw in
            do throws(APIProblem) { return .success(try CheckRequest.parseSingle(raw, rules: Self.rules)) } catch { return .failure(error) }
        }
    }

    func common(_ body: [UInt8]) -> CheckRequest? {
        body.withUnsafeBytes { raw in CheckRequest.parseCommonBody(raw, rules: Self.rules)?.0 }
    }

    /// Bodies near the common shape: members shuffled, repeated, mistyped,
    /// escaped, spaced, and then bytes changed at random.
    func randomBody(_ random: inout SplitMix64) -> [UInt8] {
        let spaces = ["", "", " ", "\n", "\t ", "\r\n"]
        let keys = ["k1", "user:42", "", "é", "a\\\"b", "a\\u0041", String(repeating: "x", count: 1024),
                    String(repeating: "y", count: 1025), "tab\there", "\u{7f}"]
        let ruleNames = ["API", "default", "SEARCH", "NOPE", "q\\\"b\\\\s", "api"]
        let hits = ["1", "0", "00", "01", "-1", "-0", "1.0", "1e2", "2147483648", "2147483649", "99999999999",
                    "12345678901", "\"1\"", "null", "true", "3", " 7 "]
        var members: [String] = []
        if random.below(3) == 0 {
            // The usual shape, members in any order.
            members = ["\"key\":\"k\(random.below(100))\"", "\"rule\":\"\(random.pick(["API", "default", "SEARCH"]))\"",
                       "\"hits\":\(random.below(5))"].filter { $0.hasPrefix("\"key") || random.below(3) > 0 }
            members.swapAt(0, random.below(members.count))
        }
        for _ in 0..<random.below(members.isEmpty ? 5 : 2) {
            switch random.below(7) {
            case 0, 1: members.append("\"key\":\(random.pick(spaces))\"\(random.pick(keys))\"")
            case 2: members.append("\"rule\":\"\(random.pick(ruleNames))\"")
            case 3: members.append("\"hits\":\(random.pick(hits))")
            case 4: members.append("\"extra\":\(random.pick(["1", "[1,{\"a\":2}]", "\"x\"", "null"]))")
            case 5: members.append("\"key\":\(random.pick(["1", "null", "[\"a\"]"]))")
            default: members.append("\"ke\\u0079\":\"k\"")
            }
        }
        var text = random.pick(spaces) + "{" + members.map { random.pick(spaces) + $0 + random.pick(spaces) }
            .joined(separator: ",") + "}" + random.pick(spaces)
        if random.below(6) == 0 { text = random.pick(["[", "\"k\"", "{\"key\":\"a\"", "{\"key\":\"a\"} x", "", "{\"key\":\"a\",}"]) }
        var bytes = Array(text.utf8)
        if !bytes.isEmpty && random.below(4) == 0 {
            for _ in 0...random.below(3) {
                bytes[random.below(bytes.count)] = random.pick(Array("{}[],:\"\\ 0123456789-.eEaktruln".utf8) + [0, 0x80, 0xff])
            }
        }
        return bytes
    }

    @Test("what the common-body reader accepts, the full parser accepts identically")
    func commonBodyAgreesWithFullParser() {
        var random = SplitMix64(seed: 7)
        var accepted = 0
        for _ in 0..<50_000 {
            let body = randomBody(&random)
            guard let fast = common(body) else { continue }
            accepted += 1
            #expect(full(body) == .success(fast), "\(String(decoding: body, as: UTF8.self))")
        }
        #expect(accepted > 1_000)
    }

    @Test("the bodies clients send take the common path", arguments: [
        #"{"key":"k1","rule":"API","hits":1}"#, #"{"key": "user:42", "rule": "SEARCH", "hits": 0}"#,
        #"{"key":"u"}"#, #" { "hits" : 2147483648 , "key" : "u" } "#, "{\"rule\":\"default\",\n\"key\":\"a b\"}",
    ])
    func commonBodies(_ text: String) {
        let body = Array(text.utf8)
        let fast = common(body)
        #expect(fast != nil)
        #expect(fast.map { full(body) == .success($0) } == true)
    }

    /// The template holds no node: the answering node's id, n1's own or that
    /// of an owner n1 forwarded to, is written into its tail.
    @Test("the template renders the bytes of the general path, for this node's answers and its peers'", arguments: [true, false])
    func templateMatchesGeneralRendering(keepAlive: Bool) {
        var random = SplitMix64(seed: 11)
        let numbers: [Int64] = [0, 1, 9, 10, 999, 1000, 1001, 59_999, 60_000, 86_400_000, 2_147_483_647, 3_153_600_000_000]
        let nodes = ["n1", "n2", "node-10", "eu-west-3a"]
        for rule in Self.rules.values {
            let template = CheckResponseTemplate(rule: rule, version: "v-0123456789abcdef")
            for _ in 0..<200 {
                let decision = Decision(allowed: random.below(2) == 0, limit: Int(random.pick(numbers)),
                                        remaining: Int(random.pick(numbers)), resetMs: random.pick(numbers),
                                        retryAfterMs: random.pick(numbers))
                let result = CheckResult(decision: decision, rule: rule.name, version: "v-0123456789abcdef", node: random.pick(nodes))
                #expect(template.fits(result))
                var own = ByteBuffer()
                template.encode(result, into: &own, keepAlive: keepAlive)
                // Written after what a buffer already holds, too.
                var after = ByteBuffer(string: "earlier bytes")
                template.encode(result, into: &after, keepAlive: keepAlive)
                #expect(String(buffer: after) == "earlier bytes" + String(buffer: own))
                var general = ByteBuffer()
                HTTPResponse.json(result.json, headers: result.headers(periodSeconds: rule.periodSeconds))
                    .encode(into: &general, keepAlive: keepAlive, requestMethod: .POST)
                #expect(String(buffer: own) == String(buffer: general))
            }
            let decision = Decision(allowed: true, limit: 1, remaining: 0, resetMs: 0, retryAfterMs: 0)
            #expect(!template.fits(CheckResult(decision: decision, rule: rule.name, version: "v-other", node: "n1")))
            // A node name JSON would have to escape takes the general path.
            for name in [#"n"2"#, #"n\2"#, "n\n2"] {
                #expect(!template.fits(CheckResult(decision: decision, rule: rule.name, version: "v-0123456789abcdef", node: name)))
            }
        }
    }

    func engine(_ clock: ManualClock) throws -> LimiterEngine {
        let log = try EventLog(path: directory.file("events-\(UUID().uuidString).sqlite"), durability: .normal)
        return try LimiterEngine(nodeID: "n1", rules: Self.rules, log: log, clock: clock)
    }

    @Test("the engine's one-check entry decides and logs as its batch entry")
    func singleCheckAgreesWithBatch() async throws {
        let clock = ManualClock()
        let batch = try engine(clock)
        let single = try engine(clock)
        var random = SplitMix64(seed: 3)
        let names = Self.rules.keys.sorted()
        for _ in 0..<400 {
            clock.advance(by: Int64(random.below(700)))
            let request = CheckRequest(key: "k\(random.below(3))", rule: random.pick(names), hits: random.below(4))
            let expected: Result<[CheckResult], APIProblem> = await withCheckedContinuation { continuation in
                if case .done(let result) = batch.check([Self.resolved(request)], onCommit: { continuation.resume(returning: $0) }) {
                    continuation.resume(returning: result)
                }
            }
            let got: Result<CheckResult, APIProblem> = await withCheckedContinuation { continuation in
                let rule = Self.rules[request.rule]!
                if case .done(let result) = single.check(request, rule: rule, version: Self.version, onCommit: { continuation.resume(returning: $0) }) {
                    continuation.resume(returning: result)
                }
            }
            #expect(got == expected.map { $0[0] }, "\(request)")
        }
        try batch.close()
        try single.close()
        for key in ["k0", "k1", "k2"] {
            let a = try #require(batch.log).events(key: key).map { [$0.rule, "\($0.hits)", "\($0.atMs)"] }
            let b = try #require(single.log).events(key: key).map { [$0.rule, "\($0.hits)", "\($0.atMs)"] }
            #expect(a == b)
        }
    }
}

extension CheckFastPathTests {
    static let version = "v-test"

    static func resolved(_ request: CheckRequest) -> LimiterEngine.ResolvedCheck {
        LimiterEngine.ResolvedCheck(request: request, rule: rules[request.rule]!, version: version)
    }
}
