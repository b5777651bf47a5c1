/// `sliding_log` state: every admitted hit of the trailing period, exactly (DESIGN.md §4).
///
/// Hits admitted in the same millisecond share one entry. Expired entries are dropped from
/// the front lazily: `head` skips them and the array is compacted once more than half of it
/// is dead, so each admission costs amortised O(1) instead of a shift of the whole log.
/// Equality and hashing look only at the live entries, so a state is equal to its snapshot
/// round trip whatever its compaction phase.
public struct SlidingLogState: Sendable {
    /// Hits admitted in one millisecond.
    public struct Entry: Sendable, Hashable {
        public var at: Int64
        public var hits: Int

        public init(at: Int64, hits: Int) {
            self.at = at
            self.hits = hits
        }
    }

    /// Ascending by `at`, no two with the same `at`; entries before `head` are dead.
    private var storage: [Entry]
    private var head: Int
    /// Sum of the live entries' hits.
    public private(set) var total: Int

    /// The live entries, oldest first. Entries older than a period are dropped only when the
    /// next hit is recorded, so a read must still skip expired ones.
    public var entries: ArraySlice<Entry> { storage[head...] }

    /// Builds a log from entries in any order: times are clamped to ±2^61 ms, sorted, and
    /// merged per millisecond; entries without positive hits are dropped.
    public init(entries: [Entry]) {
        var normalized: [Entry] = []
        normalized.reserveCapacity(entries.count)
        var ordered = true
        for entry in entries where entry.hits > 0 {
            let at = LimitParameters.clampStateTime(entry.at)
            if let last = normalized.last, last.at >= at { ordered = false }
            normalized.append(Entry(at: at, hits: entry.hits))
        }
        if !ordered {
            normalized.sort { $0.at < $1.at }
            var merged: [Entry] = []
            for entry in normalized {
                if let last = merged.indices.last, merged[last].at == entry.at {
                    merged[last].hits = merged[last].hits.saturatingAdd(entry.hits)
                } else {
                    merged.append(entry)
                }
            }
            normalized = merged
        }
        storage = normalized
        head = 0
        total = normalized.reduce(0) { $0.saturatingAdd($1.hits) }
    }

    /// Admitted hits at times `s` with `s > t - W` (the in-window sum) and how many live
    /// entries are expired at `t`.
    @inline(__always)
    func inWindow(at t: Int64, period: Int64) -> (used: Int, expiredEntries: Int) {
        let horizon = t - period
        var expired = 0
        var expiredHits = 0
        var index = head
        while index < storage.count, storage[index].at <= horizon {
            expiredHits = expiredHits.saturatingAdd(storage[index].hits)
            expired += 1
            index += 1
        }
        return (total - expiredHits, expired)
    }

    /// Drops the first `count` live entries and appends `hits` at `t` (>= every stored time).
    mutating func append(hits: Int, at t: Int64, droppingFirst count: Int) {
        for index in head..<(head + count) {
            total -= storage[index].hits
        }
        head += count
        if head == storage.count {
            storage.removeAll(keepingCapacity: true)
            head = 0
        } else if head >= 16 && head * 2 >= storage.count {
            storage.removeFirst(head)
            head = 0
        }
        if let last = storage.indices.last, last >= head, storage[last].at == t {
            storage[last].hits = storage[last].hits.saturatingAdd(hits)
        } else {
            storage.append(Entry(at: t, hits: hits))
        }
        total = total.saturatingAdd(hits)
    }

    var newest: Int64? { head < storage.count ? storage[storage.count - 1].at : nil }
}

extension SlidingLogState: Hashable {
    public static func == (lhs: Self, rhs: Self) -> Bool {
        lhs.total == rhs.total && lhs.entries.elementsEqual(rhs.entries)
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(entries.count)
        for entry in entries { hasher.combine(entry) }
    }
}

extension SlidingLogState: AlgorithmState {
    static func take(from state: inout CounterState?) -> SlidingLogState? {
        guard case .slidingLog(let own)? = state else { return nil }
        state = nil  // leaves `own` the only reference, so appends happen in place
        return own
    }

    var wrapped: CounterState { .slidingLog(self) }

    /// A `now` earlier than the newest entry (clock skew between nodes) is read as that
    /// entry's time, so entries stay in order and time never runs backwards inside a state.
    @inline(__always)
    private static func effectiveTime(_ state: Self?, now: Int64) -> Int64 {
        guard let newest = state?.newest else { return now }
        return max(now, newest)
    }

    static func decide(_ state: inout Self?, hits n: Int, now: Int64, _ p: LimitParameters) -> Decision {
        let t = effectiveTime(state, now: now)
        let used = state?.inWindow(at: t, period: p.period).used ?? 0
        let limit = Int(p.limit)
        let fits = n <= limit && used <= limit - n
        if fits && n > 0 {
            record(&state, hits: n, at: now, p)
        }
        let usedAfter = fits ? used + n : used
        // The newest entry is the last to leave the window: at newest + W.
        let resetMs = usedAfter > 0 ? (state?.newest).map { $0 + p.period - now } ?? 0 : 0
        let retryAfterMs: Int64
        if fits {
            retryAfterMs = 0
        } else if n > limit {
            retryAfterMs = max(resetMs, p.period)
        } else if let state {
            retryAfterMs = state.admissibleAt(t: t, excess: used - (limit - n), p) - now
        } else {
            retryAfterMs = 0  // unreachable: an empty log admits any n <= L
        }
        return Decision(
            allowed: fits, limit: limit, remaining: max(0, limit - usedAfter),
            resetMs: resetMs, retryAfterMs: retryAfterMs
        )
    }

    /// The instant the oldest in-window entries holding at least `excess` hits have all left
    /// the window: the entry at `s` leaves at `s + W`.
    private func admissibleAt(t: Int64, excess: Int, _ p: LimitParameters) -> Int64 {
        let horizon = t - p.period
        var freed = 0
        for entry in entries where entry.at > horizon {
            freed = freed.saturatingAdd(entry.hits)
            if freed >= excess { return entry.at + p.period }
        }
        return t + p.period  // unreachable: the whole log is at least `excess`
    }

    static func record(_ state: inout Self?, hits n: Int, at: Int64, _ p: LimitParameters) {
        let t = effectiveTime(state, now: at)
        if state == nil {
            state = SlidingLogState(entries: [Entry(at: t, hits: n)])
            return
        }
        let expired = state!.inWindow(at: t, period: p.period).expiredEntries
        state!.append(hits: n, at: t, droppingFirst: expired)
    }

    func isFullyAvailable(now: Int64, _ p: LimitParameters) -> Bool {
        let t = Self.effectiveTime(self, now: now)
        return inWindow(at: t, period: p.period).used == 0
    }
}
