/// When a check that finds its owner's lane idle waits for company before it
/// leaves (gubernator's batch wait, Kafka's `linger.ms`): DESIGN §6's "a short
/// window" beside the size cap.
///
/// A lane with a batch in flight needs no window: what arrives meanwhile
/// leaves as the next batch when the answer comes back. A lane with nothing
/// in flight would send each check alone; under a steady stream of checks
/// every one then pays a round trip, a peer frame and an owner commit of its
/// own. The window holds the first check for up to `length` so that the ones
/// right behind it share that cost.
///
/// It waits only while checks for this owner have been arriving at least
/// once per window on average over the last ``spanWindows`` windows, so a
/// lone check after a quiet spell leaves at once: no company is coming for
/// it to wait for. The count over that span is the sliding-window estimate
/// of DESIGN §4 (the previous span's count, weighted by how much of it still
/// overlaps, plus the current one's), which sees a burst every few
/// milliseconds as the load it is, where a mean gap would not.
///
/// Pure: the caller passes monotonic nanoseconds.
struct ForwardWindow: Sendable, Equatable {
    /// How many windows the arrival count looks back over.
    static let spanWindows: UInt64 = 8

    /// The longest the first check of a batch waits; zero: it never waits.
    let lengthNanos: UInt64
    private var spanStart: UInt64 = 0
    private var previous: UInt64 = 0
    private var current: UInt64 = 0

    init(lengthNanos: UInt64) {
        self.lengthNanos = lengthNanos
    }

    /// Records an arrival at `now` and says whether a check that finds the
    /// lane idle at `now` should wait `lengthNanos` for others to join it.
    mutating func arrival(at now: UInt64) -> Bool {
        guard lengthNanos > 0 else { return false }
        let (span, overflow) = lengthNanos.multipliedReportingOverflow(by: Self.spanWindows)
        guard !overflow else { return false }
        if now >= spanStart && now - spanStart >= span {
            let elapsed = (now - spanStart) / span
            previous = elapsed == 1 ? current : 0
            current = 0
            spanStart += elapsed * span
        }
        let into = now >= spanStart ? now - spanStart : 0
        let estimate = previous * (span - into) / span + current
        current += 1
        return estimate >= Self.spanWindows
    }
}
