import JSONCore
import LimiterCore
import NodeServer
import Testing

@Suite("Validation of check requests (DESIGN §5)")
struct CheckRequestTests {
    let rules: [String: Rule] = [
        "default": Rule(name: "default", namespaceID: "default", limit: 100, periodSeconds: 60, algorithm: .slidingWindow),
        "API": Rule(name: "API", namespaceID: "1001", limit: 10, periodSeconds: 60, algorithm: .fixedWindow),
    ]

    func single(_ body: String) throws(APIProblem) -> CheckRequest {
        let result: Result<CheckRequest, APIProblem> = Array(body.utf8).withUnsafeBytes { raw in
            do throws(APIProblem) { return .success(try CheckRequest.parseSingle(raw, rules: rules)) } catch { return .failure(error) }
        }
        return try result.get()
    }

    func batch(_ body: String) throws(APIProblem) -> [CheckRequest] {
        let result: Result<[CheckRequest], APIProblem> = Array(body.utf8).withUnsafeBytes { raw in
            do throws(APIProblem) { return .success(try CheckRequest.parseBatch(raw, rules: rules)) } catch { return .failure(error) }
        }
        return try result.get()
    }

    func problem(_ body: () throws(APIProblem) -> Any) -> APIProblem? {
        do { _ = try body(); return nil } catch { return error }
    }

    @Test("rule defaults to default and hits to 1; unknown members are ignored")
    func defaults() throws {
        #expect(try single(#"{"key": "u", "extra": {"x": 1}}"#) == CheckRequest(key: "u", rule: "default", hits: 1))
        #expect(try single(#"{"key": "u", "rule": "API", "hits": 0}"#) == CheckRequest(key: "u", rule: "API", hits: 0))
    }

    @Test("each bad field is named with its status")
    func badFields() {
        let cases: [(String, Int, String?)] = [
            ("{", 400, nil),
            (#"{"key": 1}"#, 422, "key"),
            (#"{"hits": 1}"#, 422, "key"),
            (#"{"key": ""}"#, 422, "key"),
            (#"{"key": "a", "rule": "nope"}"#, 422, "rule"),
            (#"{"key": "a", "rule": null}"#, 422, "rule"),
            (#"{"key": "a", "hits": -1}"#, 422, "hits"),
            (#"{"key": "a", "hits": 2147483649}"#, 422, "hits"),
            (#"{"key": "a", "hits": 2.5}"#, 422, "hits"),
            (#"{"key": "a", "hits": "1"}"#, 422, "hits"),
            (#"{"key": "\#(String(repeating: "é", count: 513))"}"#, 422, "key"),
        ]
        for (body, status, field) in cases {
            let found = problem { () throws(APIProblem) in try single(body) }
            #expect(found?.status == status, "\(body)")
            #expect(found?.field == field, "\(body)")
        }
        #expect(throws: Never.self) { try single(#"{"key": "a", "hits": 2147483648}"#) }
        #expect(throws: Never.self) { try single(#"{"key": "\#(String(repeating: "k", count: 1024))"}"#) }
    }

    @Test("batch errors name the index; over 10,000 checks is 413")
    func batches() {
        #expect(problem { () throws(APIProblem) in try batch(#"{"checks": [{"key": "a"}, {"key": "b", "rule": "x"}]}"#) }?.field
            == "checks[1].rule")
        let many = "{\"checks\": [" + Array(repeating: #"{"key":"a"}"#, count: 10_001).joined(separator: ",") + "]}"
        #expect(problem { () throws(APIProblem) in try batch(many) }?.status == 413)
        #expect(problem { () throws(APIProblem) in try batch(#"{"checks": {}}"#) }?.field == "checks")
    }

    @Test("problems render as RFC 9457 JSON")
    func problemJSON() throws {
        let json = try JSONParser.parse(APIProblem.invalidField("hits", "must not be negative").json)
        #expect(json[member: "status"] == .integer(422))
        #expect(json[member: "field"] == .string("hits"))
        #expect(json[member: "type"] == .string("https://ratelimit.dev/problems/invalid-field"))
    }

    @Test("RateLimit headers follow the structured-field draft")
    func headers() {
        let result = CheckResult(decision: Decision(allowed: false, limit: 100, remaining: 0, resetMs: 16_001, retryAfterMs: 1),
                                 rule: "API", version: "v-1", node: "n1")
        let headers = Dictionary(uniqueKeysWithValues: result.headers(periodSeconds: 60))
        #expect(headers["RateLimit-Policy"] == "\"API\";q=100;w=60")
        #expect(headers["RateLimit"] == "\"API\";r=0;t=17")
        #expect(headers["Retry-After"] == "1")
    }
}
