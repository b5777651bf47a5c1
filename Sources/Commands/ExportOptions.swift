import ArgumentParser
import Foundation

/// `--format` and `--output`, shared by the export verbs (`dashboards
/// export`, `alerts export`).
struct ExportOptions: ParsableArguments {
    @Option(name: .long, help: "Write to FILE instead of standard output.")
    var output: String?

    /// Fails with one line naming `--format` and the accepted values when
    /// `format` is not one of them.
    static func check(format: String, accepted: [String]) throws {
        guard accepted.contains(format) else {
            let list = accepted.map { "\"\($0)\"" }.joined(separator: ", ")
            throw CLIError("--format: unknown format \"\(format)\" (accepted: \(list))")
        }
    }

    /// Prints `text`, or writes it to `--output` and says so in one line.
    func emit(_ text: String, what: String) throws {
        guard let output else {
            print(text, terminator: "")
            flushOutput()
            return
        }
        do {
            try text.write(toFile: output, atomically: true, encoding: .utf8)
        } catch {
            throw CLIError("--output: cannot write \(output): \((error as NSError).localizedDescription)")
        }
        print("wrote \(what) to \(output)")
    }
}
