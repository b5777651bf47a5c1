/// One thing the driver did to a node, as it happened: printed with its time
/// during the run and listed in the report.
public struct FaultEvent: Sendable, Hashable {
    /// Milliseconds since the load started.
    public var atMs: Int64
    public var kind: Fault.Kind
    /// `began` is the fault itself (kill, SIGSTOP, start, SIGTERM); `ended`
    /// is its undoing or outcome (restarted and healthy, SIGCONT, joined, exited).
    public var phase: Phase
    public var text: String

    public enum Phase: String, Sendable, Hashable {
        case began
        case ended
    }

    public init(atMs: Int64, kind: Fault.Kind, phase: Phase, text: String) {
        self.atMs = atMs
        self.kind = kind
        self.phase = phase
        self.text = text
    }

    /// `[ 12.345s] text`
    public var line: String {
        "[\(ChaosReport.clock(atMs))] \(text)"
    }
}
