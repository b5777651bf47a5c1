import LimiterCore

extension CheckRequest {
    /// Reads the body nearly every client sends, `{"key": "...", "rule":
    /// "...", "hits": n}`, without building a ``JSONValue``.
    ///
    /// Only a body the full path would accept is taken here: members among
    /// `key`, `rule` and `hits`, each at most once; printable ASCII strings
    /// without escapes; `hits` a plain non-negative integer within
    /// ``maxHits``; a valid key and a known rule. Anything else returns nil,
    /// and ``parseSingle(_:rules:)`` then decides and names the problem, so
    /// the answers stay exactly those of the full parser.
    /// `rules` maps the known rule names to what the caller needs of them.
    static func parseCommonBody<RuleInfo>(_ body: UnsafeRawBufferPointer, rules: [String: RuleInfo]) -> (CheckRequest, RuleInfo)? {
        var reader = CommonBodyReader(bytes: body)
        guard let (key, rule, hits) = reader.read() else { return nil }
        let ruleName = rule ?? "default"
        guard !key.isEmpty, key.utf8.count <= maxKeyBytes, let found = rules[ruleName] else { return nil }
        return (CheckRequest(key: key, rule: ruleName, hits: hits ?? 1), found)
    }
}

/// The scanner behind ``CheckRequest/parseCommonBody(_:rules:)``; every
/// method returns nil (give up) rather than an error.
private struct CommonBodyReader {
    let bytes: UnsafeRawBufferPointer
    var index = 0

    init(bytes: UnsafeRawBufferPointer) { self.bytes = bytes }

    mutating func read() -> (key: String, rule: String?, hits: Int?)? {
        var key: String?
        var rule: String?
        var hits: Int?
        skipWhitespace()
        guard take(UInt8(ascii: "{")) else { return nil }
        repeat {
            skipWhitespace()
            guard let name = stringBytes() else { return nil }
            skipWhitespace()
            guard take(UInt8(ascii: ":")) else { return nil }
            skipWhitespace()
            switch (name.count, name.first) {
            case (3, UInt8(ascii: "k")) where Self.equals(name, "key"):
                guard key == nil, let value = stringBytes() else { return nil }
                key = String(decoding: value, as: UTF8.self)
            case (4, UInt8(ascii: "r")) where Self.equals(name, "rule"):
                guard rule == nil, let value = stringBytes() else { return nil }
                rule = String(decoding: value, as: UTF8.self)
            case (4, UInt8(ascii: "h")) where Self.equals(name, "hits"):
                guard hits == nil, let value = integer() else { return nil }
                hits = value
            default:
                return nil
            }
            skipWhitespace()
        } while take(UInt8(ascii: ","))
        guard take(UInt8(ascii: "}")) else { return nil }
        skipWhitespace()
        guard index == bytes.count, let key else { return nil }
        return (key, rule, hits)
    }

    static func equals(_ bytes: UnsafeRawBufferPointer, _ name: StaticString) -> Bool {
        bytes.elementsEqual(UnsafeRawBufferPointer(start: name.utf8Start, count: name.utf8CodeUnitCount))
    }

    mutating func skipWhitespace() {
        while index < bytes.count {
            switch bytes[index] {
            case 0x20, 0x09, 0x0A, 0x0D: index += 1
            default: return
            }
        }
    }

    mutating func take(_ byte: UInt8) -> Bool {
        guard index < bytes.count, bytes[index] == byte else { return false }
        index += 1
        return true
    }

    /// A string's bytes when it is printable ASCII without escapes.
    mutating func stringBytes() -> UnsafeRawBufferPointer? {
        guard take(UInt8(ascii: "\"")) else { return nil }
        let start = index
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "\"") {
                index += 1
                return UnsafeRawBufferPointer(rebasing: bytes[start..<index - 1])
            }
            guard byte >= 0x20, byte < 0x7F, byte != UInt8(ascii: "\\") else { return nil }
            index += 1
        }
        return nil
    }

    /// A non-negative integer without sign, fraction, exponent or leading
    /// zero, at most ``CheckRequest/maxHits``.
    mutating func integer() -> Int? {
        let start = index
        var value = 0
        while index < bytes.count, index - start < 11 {
            let byte = bytes[index]
            guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { break }
            value = value * 10 + Int(byte &- UInt8(ascii: "0"))
            index += 1
        }
        let digits = index - start
        guard digits > 0, digits <= 10, digits == 1 || bytes[start] != UInt8(ascii: "0") else { return nil }
        if index < bytes.count {
            switch bytes[index] {
            case UInt8(ascii: "."), UInt8(ascii: "e"), UInt8(ascii: "E"), UInt8(ascii: "0")...UInt8(ascii: "9"): return nil
            default: break
            }
        }
        guard value <= Int(CheckRequest.maxHits) else { return nil }
        return value
    }
}
