import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// One `ratelimit node` process the chaos run started, signalled by its pid
/// (never by name). Its output goes to a log file in the project directory.
final class NodeProcess: @unchecked Sendable {
    // @unchecked: Process is used here only through calls that are safe
    // from any thread (run once in init, then pid, isRunning,
    // terminationStatus); everything else is immutable.
    let id: String
    let logPath: String
    private let process: Process

    init(id: String, executable: String, directory: String, environment: [String: String], logPath: String) throws {
        self.id = id
        self.logPath = logPath
        _ = FileManager.default.createFile(atPath: logPath, contents: nil)
        let output = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
        defer { try? output.close() }
        process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = ["node", "--env", ChaosProject.environment, "--id", id]
        process.currentDirectoryURL = URL(fileURLWithPath: directory)
        process.environment = environment
        process.standardOutput = output
        process.standardError = output
        process.standardInput = FileHandle.nullDevice
        try process.run()
    }

    var pid: Int32 { process.processIdentifier }
    var isRunning: Bool { process.isRunning }
    /// What ``exitDescription`` says of a clean exit.
    static let cleanExit = "exited with status 0"

    /// `exited with status 1` or `was killed by signal 9`; nil while running.
    var exitDescription: String? {
        guard !process.isRunning else { return nil }
        return process.terminationReason == .uncaughtSignal
            ? "was killed by signal \(process.terminationStatus)" : "exited with status \(process.terminationStatus)"
    }

    func signal(_ signal: Int32) {
        if process.isRunning { kill(process.processIdentifier, signal) }
    }

    /// Waits up to `limit` for the process to exit; whether it has.
    func waitForExit(within limit: Duration) async -> Bool {
        let deadline = ContinuousClock.now + limit
        while process.isRunning && ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(20))
        }
        return !process.isRunning
    }

    /// How ``stop(grace:)`` ended.
    enum StopOutcome: Sendable, Equatable {
        /// It exited within the grace: `how` it ended (``exitDescription``);
        /// a clean stop is `exited with status 0`.
        case exited(how: String)
        /// It outlived the grace and was sent SIGKILL, after which it exited.
        case killed
        /// Still running 30 s after SIGKILL (stuck in the kernel, say).
        case stillRunning
    }

    /// SIGCONT (it may be frozen) and SIGTERM, then SIGKILL if it has not
    /// exited within `grace`.
    @discardableResult
    func stop(grace: Duration) async -> StopOutcome {
        guard process.isRunning else { return .exited(how: exitDescription ?? "exited") }
        signal(SIGCONT)
        signal(SIGTERM)
        if await waitForExit(within: grace) { return .exited(how: exitDescription ?? "exited") }
        signal(SIGKILL)
        return await waitForExit(within: .seconds(30)) ? .killed : .stillRunning
    }

    /// The last `lines` lines of the node's output, for an error message.
    func tail(_ lines: Int = 20) -> String {
        let text = (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
        return text.split(separator: "\n", omittingEmptySubsequences: false).suffix(lines).joined(separator: "\n")
    }
}
