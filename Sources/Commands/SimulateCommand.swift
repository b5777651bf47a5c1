import ArgumentParser
import Foundation
import LimiterCore

struct SimulateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "simulate",
        abstract: "Replay a trace of checks through the rules offline: no network, no clock.",
        discussion: """
            Reads JSON lines {"t": ms, "key": "...", "rule": "API", "hits": 1} and writes one line per input
            {"t", "key", "rule", "allowed", "remaining"}. The same code decides on a live node.
            """)

    @OptionGroup var options: ConfigOptions

    @Option(name: .long, help: "JSON-lines trace file ('-' for standard input).")
    var trace: String

    func run() async throws {
        let config = try options.load()
        let handle: FileHandle
        if trace == "-" {
            handle = .standardInput
        } else {
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: trace, isDirectory: &isDirectory), isDirectory.boolValue {
                throw CLIError("--trace: \(trace) is a directory, not a trace file")
            }
            guard let file = FileHandle(forReadingAtPath: trace) else { throw CLIError("--trace: cannot read \(trace)") }
            handle = file
        }
        var simulator = TraceSimulator(rules: config.rules)
        var output = ""
        output.reserveCapacity(1 << 16)
        var number = 0
        var lines = LineReader(handle: handle)
        do throws(TraceError) {
            while let line = lines.next() {
                number += 1
                if let result = try simulator.run(line: line, number: number) {
                    output += result
                    output += "\n"
                    if output.utf8.count >= 1 << 16 {
                        FileHandle.standardOutput.write(Data(output.utf8))
                        output.removeAll(keepingCapacity: true)
                    }
                }
            }
        } catch {
            FileHandle.standardOutput.write(Data(output.utf8))
            throw CLIError("\(trace): \(error.description)")
        }
        FileHandle.standardOutput.write(Data(output.utf8))
        if let failure = lines.failure { throw CLIError("--trace: cannot read \(trace) after line \(number): \(failure.localizedDescription)") }
    }
}

/// Lines of a file read in 64 KiB chunks, so a large trace is never held whole.
/// A read that fails ends the lines and is kept in ``failure``.
struct LineReader: Sequence, IteratorProtocol {
    let handle: FileHandle
    private var buffer: [UInt8] = []
    private var start = 0
    private var atEnd = false
    private(set) var failure: (any Error)?

    init(handle: FileHandle) { self.handle = handle }

    mutating func next() -> String? {
        while true {
            if let newline = buffer[start...].firstIndex(of: UInt8(ascii: "\n")) {
                defer { start = newline + 1 }
                return String(decoding: buffer[start..<newline], as: UTF8.self)
            }
            if atEnd {
                guard start < buffer.count else { return nil }
                defer { start = buffer.count }
                return String(decoding: buffer[start...], as: UTF8.self)
            }
            buffer.removeFirst(start)
            start = 0
            do {
                let chunk = try handle.read(upToCount: 1 << 16) ?? Data()
                if chunk.isEmpty { atEnd = true } else { buffer.append(contentsOf: chunk) }
            } catch {
                failure = error
                atEnd = true
            }
        }
    }
}
