import TestSupport
import Testing
import Wire

@Suite("Wire codec")
struct WireCodecTests {
    @Test("Varints, zigzag integers, strings and booleans round-trip at their edges")
    func roundTrip() throws {
        var writer = WireWriter()
        let unsigned: [UInt64] = [0, 1, 127, 128, 16_383, 16_384, .max]
        let signed: [Int64] = [0, -1, 1, .min, .max]
        for value in unsigned { writer.varint(value) }
        for value in signed { writer.signed(value) }
        writer.signed(Int128.min)
        writer.string("é user:42")
        writer.bool(true)
        var reader = WireReader(writer.bytes)
        for value in unsigned { #expect(try reader.varint("u") == value) }
        for value in signed { #expect(try reader.signed64("s") == value) }
        #expect(try reader.signed128("s128") == Int128.min)
        #expect(try reader.string("text", maxBytes: 64) == "é user:42")
        #expect(try reader.bool("flag"))
        try reader.expectEnd("sample")
    }

    @Test("Every truncation fails with a WireError naming the field, never a trap")
    func truncation() {
        var writer = WireWriter()
        writer.varint(300)
        writer.string("abcdef")
        let bytes = writer.bytes
        for length in 0..<bytes.count {
            var reader = WireReader(Array(bytes.prefix(length)))
            do {
                _ = try reader.varint("id")
                _ = try reader.string("name", maxBytes: 16)
                Issue.record("\(length) of \(bytes.count) bytes read whole")
            } catch {
                // The varint takes 2 bytes: a cut inside it names `id`, a later one `name`.
                let field = length < 2 ? "id" : "name"
                #expect(error.code == .truncated && error.message.contains(field), "\(length) bytes: \(error)")
            }
        }
        var reader = WireReader([0x05])
        let error = #expect(throws: WireError.self) { _ = try reader.string("key", maxBytes: 16) }
        #expect(error?.code == .truncated)
        #expect(error?.message.contains("key") == true)
    }

    @Test("A string is read only if its bytes are valid UTF-8, and then unchanged")
    func utf8Validation() throws {
        let invalid: [[UInt8]] = [
            [0x80], [0xFF], [0xC0, 0xAF], [0xED, 0xA0, 0x80], [0xF1, 0x80, 0x80, 0x61], [0x61, 0xF0, 0x9F, 0x98], [0xF4, 0x90, 0x80, 0x80],
        ]
        for bytes in invalid {
            var reader = WireReader([UInt8(bytes.count)] + bytes)
            let error = #expect(throws: WireError.self) { _ = try reader.string("name", maxBytes: 16) }
            #expect(error?.code == .invalidField)
            #expect(error?.message.contains("name is not valid UTF-8") == true)
        }
        // Random short byte strings, most of them high bytes: the reader agrees
        // with the standard library's validating initializer on every one.
        var random = SplitMix64(seed: 0x9E37_79B9_7F4A_7C15)
        var valid = 0
        for _ in 0..<20_000 {
            let bytes = (0..<random.below(7)).map { _ in UInt8(random.below(4) == 0 ? random.below(0x80) : 0x80 + random.below(0x80)) }
            var reader = WireReader([UInt8(bytes.count)] + bytes)
            let expected = String(validating: bytes, as: UTF8.self)
            let read = try? reader.string("name", maxBytes: 16)
            #expect(read == expected, "\(bytes)")
            if expected != nil { valid += 1 }
        }
        #expect(valid > 1_000)
    }

    @Test("A string read against a previous one is that string itself when the bytes match, and what was written otherwise")
    func stringReusingPrevious() throws {
        // Longer than 15 bytes, so each String has its own heap storage.
        let version = "v-42127cfe3ca3007d"
        let other = "v-6edb8b60ba5fcd32"
        let accented = "règle-é-de-test-long"
        var writer = WireWriter()
        for text in [version, version, other, "v-42127cfe3ca300", accented, accented] { writer.string(text) }
        writer.varint(2)
        writer.append([0xC0, 0xAF])
        var reader = WireReader(writer.bytes)

        /// Where a string's UTF-8 lives, compared only while the strings are alive.
        func storage(_ text: String) -> UInt? {
            text.utf8.withContiguousStorageIfAvailable { UInt(bitPattern: $0.baseAddress) } ?? nil
        }
        let first = try reader.string("first", maxBytes: 64)
        let second = try reader.string("second", maxBytes: 64, reusing: first)
        #expect(second == version)
        #expect(storage(second) == storage(first), "the previous string is handed back, not a copy")
        // Same length, other bytes; then a prefix of the previous: read as written.
        let third = try reader.string("third", maxBytes: 64, reusing: second)
        #expect(third == other)
        #expect(storage(third) != storage(second))
        #expect(try reader.string("fourth", maxBytes: 64, reusing: version) == "v-42127cfe3ca300")
        let fifth = try reader.string("fifth", maxBytes: 64)
        let sixth = try reader.string("sixth", maxBytes: 64, reusing: fifth)
        #expect(sixth == accented && storage(sixth) == storage(fifth))
        // Invalid bytes are still refused when a previous string is offered.
        let error = #expect(throws: WireError.self) { _ = try reader.string("seventh", maxBytes: 64, reusing: accented) }
        #expect(error?.code == .invalidField)
        #expect(reader.remaining == 2, "the refused bytes are left unread")
    }

    @Test("A forged count larger than the bytes left is refused before anything is reserved")
    func forgedCount() {
        var writer = WireWriter()
        writer.varint(1 << 40)
        var reader = WireReader(writer.bytes)
        let error = #expect(throws: WireError.self) { _ = try reader.count("items", limit: .max, minimumItemSize: 1) }
        #expect(error?.code == .lengthTooLarge)
    }

    @Test("A varint wider than 64 bits is invalid")
    func overlongVarint() {
        var reader = WireReader(Array(repeating: 0xFF, count: 10) + [0x01])
        let error = #expect(throws: WireError.self) { _ = try reader.varint("sequence") }
        #expect(error?.code == .invalidField)
    }

    @Test("An envelope from a newer build may carry fields this build ignores; one of this build's version may not")
    func forwardCompatibility() throws {
        let newer = Envelope.seal(type: 7, version: Envelope.currentVersion + 1) { writer in
            writer.varint(42)
            writer.string("a field added later")
        }
        var envelope = try Envelope(opening: newer)
        #expect(envelope.isFromNewerVersion)
        #expect(envelope.type == 7)
        #expect(try envelope.body.varint("known") == 42)
        try envelope.finish("message")

        let same = Envelope.seal(type: 7) { writer in
            writer.varint(42)
            writer.string("unexpected")
        }
        var strict = try Envelope(opening: same)
        _ = try strict.body.varint("known")
        let error = #expect(throws: WireError.self) { try strict.finish("message") }
        #expect(error?.code == .trailingBytes)
    }

    @Test("An envelope older than the oldest version this build reads is refused by version")
    func oldVersion() {
        let error = #expect(throws: WireError.self) { _ = try Envelope(opening: [Envelope.minimumVersion - 1, 1]) }
        #expect(error?.code == .unsupportedVersion)
    }
}
