import LimiterCore
import Testing

@Suite("TraceSimulator")
struct TraceSimulatorTests {
    let rules: [String: Rule] = [
        "default": Rule(name: "default", limit: 2, periodSeconds: 60, algorithm: .slidingWindow),
        "API": Rule(name: "API", limit: 1, periodSeconds: 1, algorithm: .gcra, burst: 2),
    ]

    @Test("writes one JSON line per input line, with defaults for rule and hits")
    func runsATrace() throws {
        let input = """
            {"t": 0, "key": "u1"}
            {"t": 10, "key": "u1", "hits": 1, "rule": "default"}

            {"t": 20, "key": "u1"}
            {"t": 30, "key": "u2", "rule": "API", "hits": 2}
            {"t": 40, "key": "u2", "rule": "API", "hits": 0, "note": ["ignored", {"x": null}]}
            {"t": 1030, "key": "u2", "rule": "API"}
            """
        let output = try TraceSimulator.run(rules: rules, input: input)
        #expect(output == """
            {"t":0,"key":"u1","rule":"default","allowed":true,"remaining":1}
            {"t":10,"key":"u1","rule":"default","allowed":true,"remaining":0}
            {"t":20,"key":"u1","rule":"default","allowed":false,"remaining":0}
            {"t":30,"key":"u2","rule":"API","allowed":true,"remaining":0}
            {"t":40,"key":"u2","rule":"API","allowed":true,"remaining":0}
            {"t":1030,"key":"u2","rule":"API","allowed":true,"remaining":0}

            """)
    }

    @Test("streams line by line, numbering lines in call order, blank lines included")
    func streaming() throws {
        var simulator = TraceSimulator(rules: rules)
        #expect(try simulator.run(line: "{\"t\": 5, \"key\": \"a\"}") == "{\"t\":5,\"key\":\"a\",\"rule\":\"default\",\"allowed\":true,\"remaining\":1}")
        #expect(try simulator.run(line: "   ") == nil)
        let error = try #require(throws: TraceError.self) { try simulator.run(line: "{\"t\": 5}") }
        #expect(error.line == 3)
        #expect(simulator.table.count == 1)
    }

    @Test("escapes keys in its output and accepts escaped and non-ASCII keys in its input")
    func escaping() throws {
        let output = try TraceSimulator.run(rules: rules, input: #"{"t": 1, "key": "a\"b\\c\n\u00e9\ud83d\ude00\u0001"}"#)
        #expect(output == #"{"t":1,"key":"a\"b\\c\né😀\u0001","rule":"default","allowed":true,"remaining":1}"# + "\n")
    }

    @Test("accepts integral numbers written with an exponent or a zero fraction")
    func integralNumbers() throws {
        let output = try TraceSimulator.run(rules: rules, input: #"{"t": 1e3, "key": "k", "hits": 2.0}"#)
        #expect(output.hasPrefix(#"{"t":1000,"#))
    }

    @Test("names the line, the field and the problem for each bad input", arguments: [
        (#"{"t": 1, "key": "k""#, TraceError.Code.malformedLine, nil as String?, "malformed JSON"),
        (#"[1, 2]"#, .malformedLine, nil, "expected a JSON object"),
        (#"{"t": 1, "key": "k"} x"#, .malformedLine, nil, "unexpected data after the JSON value"),
        (#"{"key": "k"}"#, .missingField, "t", "is missing"),
        (#"{"t": "soon", "key": "k"}"#, .invalidField, "t", "must be an integer number of ms, got a string"),
        (#"{"t": 1.5, "key": "k"}"#, .invalidField, "t", "must be an integer"),
        (#"{"t": 99999999999999999999, "key": "k"}"#, .invalidField, "t", "must be an integer"),
        (#"{"t": 1}"#, .missingField, "key", "is missing"),
        (#"{"t": 1, "key": 7}"#, .invalidField, "key", "must be a string, got a number"),
        (#"{"t": 1, "key": ""}"#, .invalidField, "key", "must not be empty"),
        (#"{"t": 1, "key": "k", "rule": "nope"}"#, .unknownRule, "rule", "unknown rule \"nope\" (known: API, default)"),
        (#"{"t": 1, "key": "k", "rule": 3}"#, .invalidField, "rule", "must be a non-empty string"),
        (#"{"t": 1, "key": "k", "hits": -1}"#, .invalidField, "hits", "must not be negative, got -1"),
        (#"{"t": 1, "key": "k", "hits": true}"#, .invalidField, "hits", "must be an integer, got a boolean"),
        (#"{"t": 1, "key": "k", "hits": 2147483649}"#, .invalidField, "hits", "must be at most 2147483648"),
    ])
    func errors(line: String, code: TraceError.Code, field: String?, detail: String) throws {
        let input = "{\"t\": 0, \"key\": \"ok\"}\n\n" + line
        let error = try #require(throws: TraceError.self) { try TraceSimulator.run(rules: rules, input: input) }
        #expect(error.code == code)
        #expect(error.line == 3)
        #expect(error.field == field)
        #expect(error.message.hasPrefix(field.map { "line 3: field \"\($0)\"" } ?? "line 3: "))
        #expect(error.message.contains(detail), "\(error.message)")
    }

    @Test("rejects a key over 1024 bytes, as the HTTP API does")
    func longKey() throws {
        let key = String(repeating: "k", count: 1_025)
        let error = try #require(throws: TraceError.self) {
            try TraceSimulator.run(rules: rules, input: "{\"t\": 0, \"key\": \"\(key)\"}")
        }
        #expect(error.field == "key")
        #expect(error.message.contains("1025 bytes"))
    }

    @Test("survives deeply nested and hostile lines with an error, not a crash")
    func hostileLines() {
        let lines = [
            String(repeating: "[", count: 100_000),
            "{\"t\": 1, \"key\": \"k\", \"x\": " + String(repeating: "{\"a\":", count: 10_000) + "1" + String(repeating: "}", count: 10_001),
            "{\"t\": 1, \"key\": \"\\ud800\"}",
            "{\"t\": 1, \"key\": \"\u{01}\"}",
            "{\"t\": -, \"key\": \"k\"}",
            "{\"t\": 01, \"key\": \"k\"}",
            "nul",
            "\"",
        ]
        for line in lines {
            var simulator = TraceSimulator(rules: rules)
            #expect(throws: TraceError.self) { try simulator.run(line: line, number: 1) }
        }
    }
}
