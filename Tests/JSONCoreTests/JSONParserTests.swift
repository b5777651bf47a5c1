import JSONCore
import TestSupport
import Testing

@Suite("JSON parser of the check path")
struct JSONParserTests {
    @Test("parses every JSON type, escapes and surrogate pairs")
    func parsesValues() throws {
        let value = try JSONParser.parse(#"{"a": [1, -2, 3.5, 1e3, true, false, null], "s": "x\"\\\/\b\f\n\r\tq\u00e9\ud83d\ude00"}"#)
        #expect(value[member: "a"] == .array([.integer(1), .integer(-2), .double(3.5), .double(1000), .bool(true), .bool(false), .null]))
        #expect(value[member: "s"] == .string("x\"\\/\u{8}\u{c}\n\r\tqé😀"))
    }

    @Test("integers beyond Int64 become doubles, not traps")
    func hugeIntegers() throws {
        #expect(try JSONParser.parse("9223372036854775807") == .integer(.max))
        #expect(try JSONParser.parse("92233720368547758070") == .double(Double("92233720368547758070")!))
    }

    @Test("rejects malformed input with a position", arguments: [
        "", "{", "{\"a\" 1}", "[1,]", "01", "1.", "-", "\"abc", "\"\\x\"", "tru", "{\"a\":1}x", "\"\u{01}\"",
        "\"\\ud800\"", "[" + String(repeating: "[", count: 100) + String(repeating: "]", count: 101),
    ])
    func rejectsMalformed(_ text: String) {
        #expect(throws: JSONParser.Failure.self) { try JSONParser.parse(text) }
    }

    @Test("random bytes never crash the parser")
    func randomBytes() {
        var random = SplitMix64(seed: 0x9E37_79B9_7F4A_7C15)
        let alphabet = Array("{}[],:\"\\0123456789.eE+-truefalsnul \u{0}\u{ff}".utf8)
        for _ in 0..<5000 {
            let bytes = (0..<random.below(64)).map { _ in random.pick(alphabet) }
            _ = try? JSONParser.parse(bytes)
        }
    }

    @Test("the writer escapes what the parser reads back")
    func writerRoundTrip() throws {
        var writer = JSONWriter()
        writer.beginObject()
        writer.field("k", "a\"b\\c\n\u{1}é")
        writer.field("n", Int64(-5))
        writer.key("list")
        writer.beginArray()
        writer.value(true)
        writer.null()
        writer.endArray()
        writer.endObject()
        let parsed = try JSONParser.parse(writer.bytes)
        #expect(parsed[member: "k"] == .string("a\"b\\c\n\u{1}é"))
        #expect(parsed[member: "n"] == .integer(-5))
        #expect(parsed[member: "list"] == .array([.bool(true), .null]))
    }
}
