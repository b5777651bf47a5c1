import Foundation
import TestSupport
#if canImport(Glibc)
import Glibc
#endif

/// Debian's `chromium` run headless on a page, as a user's browser would
/// load it: `--dump-dom` for the DOM its script built, `--screenshot` for
/// what it drew. Virtual time (`--virtual-time-budget`) lets the page's
/// timers run that long without the test waiting that long; Chromium holds
/// virtual time while a fetch is pending, so polls get their answers.
///
/// Every run has its own profile directory, so runs never share a lock;
/// a run that outlives its deadline is killed by pid.
struct HeadlessChromium {
    /// What a run gave back on stdout, and its stderr for failure messages.
    struct Output {
        var stdout: String
        var stderr: String
    }

    /// The width, height and size of a PNG file, read from its IHDR chunk
    /// (PNG spec §5.2, §11.2.2): enough to tell a drawn page from an
    /// empty one without decoding pixels.
    struct PNGSummary: CustomStringConvertible {
        var width: Int
        var height: Int
        var byteCount: Int

        init(_ data: Data) throws {
            let bytes = [UInt8](data)
            let signature: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
            guard bytes.count > 24, Array(bytes[0..<8]) == signature, Array(bytes[12..<16]) == Array("IHDR".utf8) else {
                throw TestFailure("not a PNG file (\(bytes.count) bytes, starting \(bytes.prefix(16)))")
            }
            func bigEndian(_ offset: Int) -> Int { bytes[offset..<offset + 4].reduce(0) { $0 << 8 | Int($1) } }
            width = bigEndian(16)
            height = bigEndian(20)
            byteCount = bytes.count
        }

        var description: String { "\(width)x\(height) PNG, \(byteCount) bytes" }
    }

    let executable: String
    /// Where profiles and screenshots go (the test's temporary directory).
    let directory: String

    /// `CHROMIUM_BIN`, or the first browser found on the usual paths;
    /// fails saying how to install one when there is none.
    init(directory: String) throws {
        let candidates = [ProcessInfo.processInfo.environment["CHROMIUM_BIN"], "/usr/bin/chromium", "/usr/bin/chromium-browser",
                          "/usr/bin/google-chrome"].compactMap { $0 }
        guard let found = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
            throw TestFailure("no headless browser: install Debian's chromium (scripts/test does, through scripts/bootstrap chromium) "
                + "or set CHROMIUM_BIN; looked at \(candidates)")
        }
        executable = found
        self.directory = directory
    }

    /// The DOM of `url` once its scripts have run for `virtualTimeMs` of virtual time.
    func dumpDOM(_ url: String, virtualTimeMs: Int = 8000, width: Int = 1280, height: Int = 900) async throws -> String {
        let output = try await run(["--virtual-time-budget=\(virtualTimeMs)", "--window-size=\(width),\(height)",
                                    "--dump-dom", url])
        guard output.stdout.contains("<html") else {
            throw TestFailure("chromium --dump-dom \(url) printed no document:\n\(output.stdout.prefix(2000))\n\(output.stderr.suffix(3000))")
        }
        return output.stdout
    }

    /// A `width` x `height` screenshot of `url` after `virtualTimeMs`, written
    /// to `path`.
    @discardableResult
    func screenshot(_ url: String, to path: String, virtualTimeMs: Int = 8000, width: Int = 1280,
                    height: Int = 900) async throws -> PNGSummary {
        try? FileManager.default.removeItem(atPath: path)
        let output = try await run(["--virtual-time-budget=\(virtualTimeMs)", "--window-size=\(width),\(height)",
                                    "--hide-scrollbars", "--screenshot=\(path)", url])
        guard let data = FileManager.default.contents(atPath: path) else {
            throw TestFailure("chromium --screenshot \(url) wrote no \(path):\n\(output.stderr.suffix(3000))")
        }
        return try PNGSummary(data)
    }

    /// Runs the browser with `arguments` after the headless flags; kills it
    /// (by pid) if it has not exited within `limit`.
    private func run(_ arguments: [String], within limit: Duration = .seconds(60)) async throws -> Output {
        let id = UUID().uuidString.prefix(8)
        let profile = directory + "/chromium-profile-\(id)"
        let stdoutPath = directory + "/chromium-\(id).out"
        let stderrPath = directory + "/chromium-\(id).err"
        defer { try? FileManager.default.removeItem(atPath: profile) }
        for path in [stdoutPath, stderrPath] { _ = FileManager.default.createFile(atPath: path, contents: nil) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        // --no-sandbox: the tests run as root, where Chromium's sandbox
        // refuses to start; the page is our own.
        process.arguments = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
                             "--no-default-browser-check", "--disable-extensions", "--user-data-dir=\(profile)"] + arguments
        process.currentDirectoryURL = URL(fileURLWithPath: directory)
        process.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: stdoutPath))
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: stderrPath))
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let finished = (try? await poll("chromium \(arguments.last ?? "") exits", within: limit, every: .milliseconds(50)) {
            !process.isRunning
        }) != nil
        if !finished {
            kill(process.processIdentifier, SIGKILL)
            _ = try? await poll("chromium exits after SIGKILL", within: .seconds(5)) { !process.isRunning }
        }
        let output = Output(stdout: (try? String(contentsOfFile: stdoutPath, encoding: .utf8)) ?? "",
                            stderr: (try? String(contentsOfFile: stderrPath, encoding: .utf8)) ?? "")
        guard finished else { throw TestFailure("chromium \(arguments) still running after \(limit):\n\(output.stderr.suffix(3000))") }
        return output
    }
}
