import JSONCore
import ArgumentParser
import NodeServer

struct CheckCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Ask a node whether KEY may take hits now; prints the decision and its RateLimit headers.")

    @Argument(help: "The rate-limit key, e.g. user:42.")
    var key: String

    @Option(name: .long, help: "Rule name from wrangler.toml.")
    var rule: String = "default"

    @Option(name: .long, help: "Hits to take (0 only reads).")
    var hits: Int = 1

    @OptionGroup var options: ConfigOptions
    @OptionGroup var target: TargetOptions

    func run() async throws {
        let config = try options.load()
        let (host, port) = try target.endpoint(config)
        var writer = JSONWriter()
        writer.beginObject()
        writer.field("key", key)
        writer.field("rule", rule)
        writer.field("hits", hits)
        writer.endObject()
        let response = try await NodeClient.request(.POST, host: host, port: port, path: "/v1/check", body: writer.bytes)
        guard response.status == 200 else {
            throw CLIError("http://\(host):\(port)/v1/check answered \(response.status): \(problemDetail(response))")
        }
        for name in ["RateLimit-Policy", "RateLimit", "Retry-After"] {
            if let value = response.header(name) { print("\(name): \(value)") }
        }
        print(response.text)
    }
}

/// The `detail` of a problem+json body, or the raw body.
func problemDetail(_ response: NodeClient.Response) -> String {
    if case .string(let detail)? = response.json?[member: "detail"] { return detail }
    return response.text
}
