import ArgumentParser
import Foundation
import JSONCore

struct VersionsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "versions",
        abstract: "Rule-set versions uploaded to the environment's coordinator.",
        subcommands: [List.self])

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the versions, newest first (the last 100 are kept).")

        @OptionGroup var options: ConfigOptions

        func run() async throws {
            let client = try CoordinatorClient(config: try options.load())
            let versions = try await client.call(.get, "/admin/versions").arrayValue
            var rows = [["VERSION", "CREATED", "AUTHOR", "TAG", "RULES", "MESSAGE"]]
            for version in versions {
                rows.append([
                    version[member: "version"]?.stringValue ?? "", formatTime(version[member: "created_at_ms"]?.int),
                    version[member: "author"]?.stringValue ?? "", version[member: "tag"]?.stringValue ?? "-",
                    "\(version[member: "rules"]?.int ?? 0)", version[member: "message"]?.stringValue ?? "",
                ])
            }
            print(table(rows))
        }
    }
}

/// `2026-11-30 12:00:05Z` from ms since the epoch.
func formatTime(_ ms: Int64?) -> String {
    guard let ms else { return "-" }
    let formatter = DateFormatter()
    formatter.locale = Locale(identifier: "en_US_POSIX")
    formatter.timeZone = TimeZone(identifier: "UTC")
    formatter.dateFormat = "yyyy-MM-dd HH:mm:ss'Z'"
    return formatter.string(from: Date(timeIntervalSince1970: Double(ms) / 1000))
}
