import Wire

/// The table's compact binary snapshot, for `EventLog.writeSnapshot` and restart
/// (DESIGN.md §6: restart replays snapshot + log tail).
///
/// Format version 1, all integers LEB128 varints (signed ones zigzag-encoded):
///
/// ```
/// "RLTS" u8:version=1
/// varint:ruleCount  { string:ruleName }*          rule names, stored once
/// varint:entryCount { varint:ruleIndex string:key u8:algorithm payload }*
/// u32le:crc32 of every preceding byte
/// ```
///
/// Payloads: fixed_window (1) `start count`; sliding_window (2) `start current previous`;
/// sliding_log (3) `n, first at, hits, then n-1 × (delta-at hits)`; token_bucket (4)
/// `scale tokensScaled updatedAt`; gcra (5) `scale tatScaled`. Entry order is unspecified.
/// Decoding checks the trailer first, then every field against the bounds the algorithms
/// rely on, so a hostile or torn file throws a ``SnapshotError`` and never traps.
extension LimiterTable {
    static let magic: [UInt8] = Array("RLTS".utf8)
    static let formatVersion: UInt8 = 1

    enum Tag: UInt8 {
        case fixedWindow = 1, slidingWindow, slidingLog, tokenBucket, gcra
    }

    /// Times in a valid state stay within ±2^61 ms (inputs are clamped to ±2^60).
    static let timeBound = LimitParameters.stateTimeBound

    public func encodeSnapshot() -> [UInt8] {
        var writer = WireWriter()
        writer.bytes.reserveCapacity(16 + states.count * 32)
        writer.bytes.append(contentsOf: Self.magic)
        writer.byte(Self.formatVersion)

        var ruleIndex: [String: Int] = [:]
        var ruleNames: [String] = []
        for counter in states.keys where ruleIndex[counter.rule] == nil {
            ruleIndex[counter.rule] = ruleNames.count
            ruleNames.append(counter.rule)
        }
        writer.count(ruleNames.count)
        for name in ruleNames { writer.string(name) }

        writer.count(states.count)
        for (counter, state) in states {
            writer.count(ruleIndex[counter.rule]!)
            writer.string(counter.key)
            Self.encode(state, into: &writer)
        }

        let crc = CRC32.checksum(writer.bytes)
        for shift in stride(from: 0, to: 32, by: 8) {
            writer.byte(UInt8(truncatingIfNeeded: crc >> UInt32(shift)))
        }
        return writer.bytes
    }

    private static func encode(_ state: CounterState, into writer: inout WireWriter) {
        switch state {
        case .fixedWindow(let s):
            writer.byte(Tag.fixedWindow.rawValue)
            writer.signed(s.windowStart)
            writer.count(s.count)
        case .slidingWindow(let s):
            writer.byte(Tag.slidingWindow.rawValue)
            writer.signed(s.windowStart)
            writer.count(s.current)
            writer.count(s.previous)
        case .slidingLog(let s):
            writer.byte(Tag.slidingLog.rawValue)
            writer.count(s.entries.count)
            var previous: Int64?
            for entry in s.entries {
                if let previous {
                    writer.unsigned(UInt64(entry.at - previous))
                } else {
                    writer.signed(entry.at)
                }
                writer.count(entry.hits)
                previous = entry.at
            }
        case .tokenBucket(let s):
            writer.byte(Tag.tokenBucket.rawValue)
            writer.unsigned(UInt64(s.scale))
            writer.signed(s.tokensScaled)
            writer.signed(s.updatedAt)
        case .gcra(let s):
            writer.byte(Tag.gcra.rawValue)
            writer.unsigned(UInt64(s.scale))
            writer.signed(s.tatScaled)
        }
    }

    /// Restores a table from ``encodeSnapshot()`` output.
    public init(snapshot bytes: [UInt8]) throws(SnapshotError) {
        let headerSize = Self.magic.count + 1
        guard bytes.count >= headerSize + 4 else {
            throw SnapshotError(
                code: .truncated,
                message: "snapshot is \(bytes.count) bytes, shorter than its \(headerSize + 4)-byte frame"
            )
        }
        guard bytes.starts(with: Self.magic) else {
            throw SnapshotError(code: .badMagic, message: "snapshot does not start with \"RLTS\"")
        }
        guard bytes[Self.magic.count] == Self.formatVersion else {
            throw SnapshotError(
                code: .unsupportedVersion,
                message: "snapshot format version \(bytes[Self.magic.count]) is not supported (this build reads \(Self.formatVersion))"
            )
        }
        let bodyEnd = bytes.count - 4
        var stored: UInt32 = 0
        for (index, byte) in bytes[bodyEnd...].enumerated() {
            stored |= UInt32(byte) << UInt32(8 * index)
        }
        let computed = CRC32.checksum(bytes[..<bodyEnd])
        guard stored == computed else {
            throw SnapshotError(
                code: .checksumMismatch,
                message: "snapshot checksum is \(stored), content hashes to \(computed): the file is truncated or corrupt"
            )
        }

        var reader = SnapshotReader(bytes, from: headerSize, to: bodyEnd)
        // Each rule name takes at least one byte and each entry at least four.
        let ruleCount = try reader.count("rule count", atMost: reader.remaining)
        var ruleNames: [String] = []
        ruleNames.reserveCapacity(ruleCount)
        for _ in 0..<ruleCount {
            ruleNames.append(try reader.string("rule name"))
        }
        // No rule names, no entries: an entry's rule index could name none.
        let entryCount = try reader.count("entry count", atMost: ruleNames.isEmpty ? 0 : reader.remaining / 4)
        var states: [CounterKey: CounterState] = [:]
        states.reserveCapacity(entryCount)
        for _ in 0..<entryCount {
            let index = try reader.count("rule index", atMost: ruleNames.count - 1)
            let counter = CounterKey(rule: ruleNames[index], key: try reader.string("key"))
            let state = try Self.decodeState(&reader)
            guard states.updateValue(state, forKey: counter) == nil else {
                throw reader.fail(.invalidValue, "duplicate counter \(counter.rule)/\(counter.key)")
            }
        }
        guard reader.remaining == 0 else {
            throw reader.fail(.invalidValue, "\(reader.remaining) unexpected bytes after the last entry")
        }
        self.init(states: states)
    }

    private static func decodeState(_ reader: inout SnapshotReader) throws(SnapshotError) -> CounterState {
        let rawTag = try reader.byte("algorithm tag")
        guard let tag = Tag(rawValue: rawTag) else {
            throw reader.fail(.invalidValue, "unknown algorithm tag \(rawTag)")
        }
        switch tag {
        case .fixedWindow:
            let start = try time(&reader, "fixed_window start")
            let count = try reader.count("fixed_window count", atMost: .max)
            return .fixedWindow(FixedWindowState(windowStart: start, count: count))
        case .slidingWindow:
            let start = try time(&reader, "sliding_window start")
            let current = try reader.count("sliding_window current", atMost: .max)
            let previous = try reader.count("sliding_window previous", atMost: .max)
            return .slidingWindow(SlidingWindowState(windowStart: start, current: current, previous: previous))
        case .slidingLog:
            return .slidingLog(try decodeLog(&reader))
        case .tokenBucket:
            let scale = try reader.count("token_bucket scale", atMost: Int(Rule.periodSecondsRange.upperBound) * 1000)
            let tokens = try reader.signed128("token_bucket tokens")
            let updatedAt = try time(&reader, "token_bucket updated_at")
            guard scale >= 1000, (-TokenBucketState.tokenBound...TokenBucketState.tokenBound).contains(tokens) else {
                throw reader.fail(.invalidValue, "token_bucket scale \(scale) or tokens \(tokens) out of range")
            }
            return .tokenBucket(TokenBucketState(tokensScaled: tokens, scale: Int64(scale), updatedAt: updatedAt))
        case .gcra:
            let scale = try reader.count("gcra scale", atMost: Rule.limitRange.upperBound)
            let tat = try reader.signed128("gcra tat")
            let bound = GCRAState.tatBoundMs * Int128(scale)
            guard scale >= 1, (-bound...bound).contains(tat) else {
                throw reader.fail(.invalidValue, "gcra scale \(scale) or tat \(tat) out of range")
            }
            return .gcra(GCRAState(tatScaled: tat, scale: Int64(scale)))
        }
    }

    private static func decodeLog(_ reader: inout SnapshotReader) throws(SnapshotError) -> SlidingLogState {
        // Each entry takes at least two bytes.
        let count = try reader.count("sliding_log entry count", atMost: reader.remaining / 2)
        guard count > 0 else { throw reader.fail(.invalidValue, "empty sliding_log") }
        var entries: [SlidingLogState.Entry] = []
        entries.reserveCapacity(count)
        var at = try time(&reader, "sliding_log time")
        for index in 0..<count {
            if index > 0 {
                let delta = try reader.count("sliding_log time delta", atMost: Int(timeBound))
                guard delta > 0, at <= timeBound - Int64(delta) else {
                    throw reader.fail(.invalidValue, "sliding_log times must increase within ±2^61 ms")
                }
                at += Int64(delta)
            }
            let hits = try reader.count("sliding_log hits", atMost: .max)
            guard hits > 0 else { throw reader.fail(.invalidValue, "sliding_log entry without hits") }
            entries.append(SlidingLogState.Entry(at: at, hits: hits))
        }
        return SlidingLogState(entries: entries)
    }

    private static func time(_ reader: inout SnapshotReader, _ field: String) throws(SnapshotError) -> Int64 {
        let value = try reader.signed64(field)
        guard (-timeBound...timeBound).contains(value) else {
            throw reader.fail(.invalidValue, "\(field) \(value) is beyond ±2^61 ms")
        }
        return value
    }
}
