/// When a check that finds its owner's lane idle waits for company before it
/// leaves (gubernator's batch wait, Kafka's `linger.ms`): DESIGN §6's "a short
/// window" beside the size cap.
///
/// A lane with a batch in flight needs no window: what arrives meanwhile
/// leaves as the next batch when the answer comes back. A lane with nothing
/// in flight would send each check alone; under a steady stream of checks
/// from many clients every one then pays a round trip, a peer frame and an
/// owner commit of its own. The window holds the first check for up to
/// `length` so that the ones right behind it share that cost.
///
/// A window opens only when company is likely:
/// - checks for this owner have been arriving at least once per window on
///   average over the last ``spanWindows`` windows, so a lone check after a
///   quiet spell leaves at once. The count over that span is the
///   sliding-window estimate of DESIGN §4 (the previous span's count,
///   weighted by how much of it still overlaps, plus the current one's),
///   which sees a burst every few milliseconds as the load it is;
/// - the last windows gathered someone. A client that sends its next check
///   only after the answer to the previous one arrives often but never
///   during a window (TCP's Nagle problem): once 6 of the last 8 windows
///   gathered no one, the next 8 chances to open one are skipped, then 16,
///   32, 64 and at most 128 after each further empty window, so such a
///   client waits on fewer than one check in a hundred once the back-off is
///   at its longest. Many clients leave a window empty now and then by
///   chance, and one or two in a row must not stop the batching: with two
///   in a row as the rule, batches at the steady load of `scripts/bench`
///   section 4b fell from 8.3-8.4 checks to 6.6-7.0 (BENCHMARKS.md).
///
/// Pure: the caller passes monotonic nanoseconds, and calls ``close()``
/// when a window it was told to open has run its length.
struct ForwardWindow: Sendable, Equatable {
    /// How many windows the arrival count looks back over.
    static let spanWindows: UInt64 = 8
    /// Of the last 8 windows, how many that gathered no one start the back-off.
    static let emptyOfEight = 6
    /// Chances skipped after the first empty window that starts the
    /// back-off; doubled for each further one, up to ``maxSkipped``.
    static let firstSkipped = 8
    static let maxSkipped = 128

    /// The longest the first check of a batch waits; zero: it never waits.
    let lengthNanos: UInt64
    /// A window is open: its timer has not fired yet.
    private(set) var isOpen = false
    private var spanStart: UInt64 = 0
    private var previous: UInt64 = 0
    private var current: UInt64 = 0
    /// Arrivals in the open window, the one that opened it included.
    private var gathered = 0
    /// Skips left before a window may open again.
    private var skipping = 0
    private var skipLength = 0
    /// The last 8 windows, newest in the lowest bit: 1 for one that gathered no one.
    private var emptyWindows: UInt8 = 0

    init(lengthNanos: UInt64) {
        self.lengthNanos = lengthNanos
    }

    /// Records an arrival at `now` and says whether it opens a window: the
    /// caller then holds the lane's checks for `lengthNanos` and calls
    /// ``close()``. `idle`: the arrival would start a batch (nothing in
    /// flight to the owner, and the batch not already full).
    mutating func arrival(at now: UInt64, idle: Bool) -> Bool {
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
        if isOpen {
            gathered += 1
            return false
        }
        guard idle, estimate >= Self.spanWindows else { return false }
        if skipping > 0 {
            skipping -= 1
            return false
        }
        isOpen = true
        gathered = 1
        return true
    }

    /// The open window has run its length: whether it gathered anyone sets
    /// how many chances to open the next are skipped. Returns how many
    /// arrivals it gathered, the one that opened it included (0 when no
    /// window was open).
    @discardableResult
    mutating func close() -> Int {
        guard isOpen else { return 0 }
        isOpen = false
        defer { gathered = 0 }
        let empty = gathered == 1
        emptyWindows = emptyWindows << 1 | (empty ? 1 : 0)
        guard empty, emptyWindows.nonzeroBitCount >= Self.emptyOfEight else {
            skipLength = 0
            return gathered
        }
        skipLength = skipLength == 0 ? Self.firstSkipped : min(skipLength * 2, Self.maxSkipped)
        skipping = skipLength
        return gathered
    }
}
