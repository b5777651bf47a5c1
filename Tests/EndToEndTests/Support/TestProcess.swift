import Chaos
import Foundation
import Synchronization
import TestSupport
#if canImport(Glibc)
import Glibc
#endif

/// A child process a test started; stopped by pid, never by name.
final class TestProcess: @unchecked Sendable {
    // @unchecked: `process` is only touched from the test that owns it; the
    // output file handle is written by the child, read after it stops.
    let process: Process
    let name: String
    let outputPath: String

    var pid: Int32 { process.processIdentifier }
    var isRunning: Bool { process.isRunning }

    init(name: String, executable: String, arguments: [String], directory: String,
         environment: [String: String] = [:]) throws {
        self.name = name
        outputPath = directory + "/\(name).log"
        _ = FileManager.default.createFile(atPath: outputPath, contents: nil)
        let output = try FileHandle(forWritingTo: URL(fileURLWithPath: outputPath))
        process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.currentDirectoryURL = URL(fileURLWithPath: directory)
        var env = ProcessInfo.processInfo.environment
        for (key, value) in environment { env[key] = value }
        process.environment = env
        process.standardOutput = output
        process.standardError = output
        process.standardInput = FileHandle.nullDevice
        try process.run()
    }

    var output: String { (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? "" }

    func signal(_ signal: Int32) { if process.isRunning { kill(process.processIdentifier, signal) } }

    /// SIGTERM, then SIGKILL if it has not exited within `grace`.
    func stop(grace: Duration = .seconds(10)) async {
        guard process.isRunning else { return }
        signal(SIGCONT)
        signal(SIGTERM)
        if await waitForExit(within: grace) { return }
        signal(SIGKILL)
        _ = await waitForExit(within: .seconds(5))
    }

    func kill9() async {
        signal(SIGKILL)
        _ = await waitForExit(within: .seconds(5))
    }

    /// Whether the process has exited, waiting up to `limit` for it.
    func waitForExit(within limit: Duration) async -> Bool {
        _ = try? await poll("\(name) exits", within: limit) { !process.isRunning }
        return !process.isRunning
    }

    var exitStatus: Int32? { process.isRunning ? nil : process.terminationStatus }
}

enum TestEnvironment {
    /// The package root, found from this file's path.
    static let packageRoot: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<4 { url.deleteLastPathComponent() }
        return url.path
    }()

    /// The `ratelimit` binary `swift build` made (override with RATELIMIT_BIN).
    static var binary: String {
        if let path = ProcessInfo.processInfo.environment["RATELIMIT_BIN"] { return path }
        for configuration in ["debug", "release"] {
            let path = packageRoot + "/.build/\(configuration)/ratelimit"
            if FileManager.default.isExecutableFile(atPath: path) { return path }
        }
        return packageRoot + "/.build/debug/ratelimit"
    }

    /// A port nobody listens on now. Taken below Linux's ephemeral range
    /// (32768-60999): a port the kernel hands out for bind(0) can be taken as
    /// the source port of the tests' own outgoing connections before the node
    /// binds it. Handed out once per test process.
    static func freePort() -> Int {
        while true {
            let port = nextPort.wrappingAdd(1, ordering: .relaxed).oldValue
            if port >= 32_000 { nextPort.store(20_000, ordering: .relaxed); continue }
            if FreePorts.canBind(port) { return port }
        }
    }

    private static let nextPort = Atomic<Int>(20_000 + Int.random(in: 0..<8_000))
}
