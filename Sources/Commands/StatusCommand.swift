import Alerting
import ArgumentParser
import Config
import JSONCore
import NodeServer

struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "One screen of the environment's cluster from its coordinator: members, rates, p95, errors, the rollout, firing alerts.",
        discussion: """
            Reads the coordinator's open GET /api/summary (the figures the /dashboard page charts; no ADMIN_TOKEN \
            needed) at the [coordinator] of cluster/<env>.toml. --watch redraws the screen every --interval seconds \
            until Ctrl-C.
            """)

    @OptionGroup var options: ConfigOptions

    @Flag(name: .long, help: "Redraw every --interval seconds until Ctrl-C.")
    var watch = false

    @Option(name: .long, help: "Seconds between redraws with --watch (default: the coordinator's scrape interval).")
    var interval: Double?

    /// Home the cursor and clear the screen (ANSI CSI H, CSI 2J).
    static let clearScreen = "\u{1B}[H\u{1B}[2J"

    func validate() throws {
        if let interval, !(interval >= 0.1 && interval <= 3_600) {
            throw ValidationError("--interval: expected seconds in 0.1...3600, got \(interval)")
        }
    }

    func run() async throws {
        let config = try options.load()
        let endpoint = try CoordinatorClient.endpoint(of: config)
        let source = SummarySource(endpoint: endpoint, environment: config.environment, topologyFile: config.topologyFile)
        guard watch else {
            let summary = try await source.fetch()
            print(StatusScreen.lines(summary, coordinator: source.base).joined(separator: "\n"))
            return
        }
        // Ctrl-C ends the loop: SIGINT's default action, nothing to clean up.
        while true {
            var screen: [String]
            var seconds = interval ?? 5
            do {
                let summary = try await source.fetch()
                screen = StatusScreen.lines(summary, coordinator: source.base)
                if interval == nil, case .integer(let scrape)? = summary[member: "scrape_interval_s"], scrape > 0 {
                    seconds = Double(scrape)
                }
            } catch {
                // A coordinator restarting is worth watching through: say so and keep trying.
                screen = ["\(error)"]
            }
            screen.append("")
            let every = seconds == seconds.rounded() ? String(Int(seconds)) : String(seconds)
            screen.append("every \(every) s; Ctrl-C to stop")
            print(Self.clearScreen + screen.joined(separator: "\n"))
            flushOutput()
            try await Task.sleep(for: .milliseconds(Int(seconds * 1_000)))
        }
    }
}

/// Where `status` reads the summary, and its one-line errors.
struct SummarySource {
    let endpoint: Endpoint
    let environment: String
    let topologyFile: String

    var base: String { "http://\(endpoint.host):\(endpoint.httpPort)" }

    func fetch() async throws -> JSONValue {
        let response: NodeClient.Response
        do {
            response = try await NodeClient.request(.GET, host: endpoint.host, port: endpoint.httpPort, path: "/api/summary",
                                                    timeout: .seconds(10))
        } catch {
            throw CLIError(
                "cannot reach the \(environment) coordinator at \(base) ([coordinator] of \(topologyFile)): is it running? "
                    + "Start it with `ratelimit coordinator --env \(environment)` (or the whole cluster with `ratelimit up --env \(environment)`)")
        }
        guard response.status == 200, let json = response.json, case .object = json else {
            throw CLIError("the \(environment) coordinator \(base)/api/summary answered \(response.status): \(problemDetail(response))")
        }
        return json
    }
}
