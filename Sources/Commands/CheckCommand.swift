import ArgumentParser
import Config
import JSONCore
import NIOHTTP1
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
        let response = try await nodeRequest(.POST, host: host, port: port, path: "/v1/check", body: writer.bytes, config: config)
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

/// A request to a node, with a failure to connect said plainly: which node,
/// and how to start the cluster.
func nodeRequest(_ method: HTTPMethod, host: String, port: Int, path: String, headers: [(String, String)] = [],
                 body: [UInt8]? = nil, config: ResolvedConfig) async throws -> NodeClient.Response {
    do {
        return try await NodeClient.request(method, host: host, port: port, path: path, headers: headers, body: body)
    } catch let error as NodeClient.ClientError {
        let node = config.topology?.nodes.first { $0.host == host && $0.httpPort == port }.map { "node \($0.id) " } ?? ""
        switch error.kind {
        case .connect:
            let start = config.environment == "development" ? "scripts/up" : "ratelimit up --env \(config.environment)"
            throw CLIError("cannot reach \(node)at http://\(host):\(port): \(error.reason) (is the cluster running? start it with `\(start)`)")
        case .timeout, .exchange:
            throw CLIError("\(node)at http://\(host):\(port)\(path): \(error.reason)")
        }
    }
}
