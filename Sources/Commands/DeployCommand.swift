import ArgumentParser
import Config
import Foundation
import JSONCore
import Rollout

struct DeployCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "deploy",
        abstract: "Upload the environment's rules from wrangler.toml as a version and deploy it through the coordinator.",
        discussion: """
            --percent P sends P % of keys to the new version at once; --gradual steps through 10, 25, 50, 75 and 100 %, \
            each held duration/5 and judged (error rate, p95, block rate, samples), rolling back at once on a failed step. \
            Without either: gradual in production, 100 % elsewhere. Production accepts only rules that completed on staging, \
            unless --force --message WHY.
            """)

    @OptionGroup var options: ConfigOptions

    @Option(name: .long, help: "Why this version exists (kept with it).")
    var message: String?

    @Option(name: .long, help: "A tag for the version, e.g. a release name.")
    var tag: String?

    @Option(name: .long, help: "Put the version on this percentage of keys at once (1-100).")
    var percent: Int?

    @Flag(name: .long, help: "Roll out step by step with analysis.")
    var gradual = false

    @Option(name: .long, help: "Gradual rollout length: 30s, 5m or 1h (default 5m); implies --gradual.")
    var duration: String?

    @Flag(name: .long, help: "Print the plan and change nothing.")
    var dryRun = false

    @Flag(name: .long, help: "Production only: deploy although staging has not completed these rules (needs --message).")
    var force = false

    func validate() throws {
        if let percent, !(1...100).contains(percent) { throw ValidationError("--percent: must be 1 to 100, got \(percent)") }
        if percent != nil && gradual { throw ValidationError("--percent and --gradual exclude each other") }
        if duration != nil && percent != nil { throw ValidationError("--duration goes with --gradual, not --percent") }
        if let duration {
            guard let ms = Self.milliseconds(duration) else {
                throw ValidationError("--duration: expected a number with s, m or h (30s, 5m, 1h), got \"\(duration)\"")
            }
            guard ms >= 5_000 else { throw ValidationError("--duration: must be at least 5s (1 s per step), got \(duration)") }
            guard ms <= RolloutPlan.maxDuration else { throw ValidationError("--duration: must be at most 168h (7 days), got \(duration)") }
        }
        if force && (message ?? "").trimmingCharacters(in: .whitespaces).isEmpty {
            throw ValidationError("--force needs --message saying why")
        }
    }

    /// `30s`, `5m`, `1h` in ms; nil for anything else, or too long to count in ms.
    static func milliseconds(_ text: String) -> Int64? {
        guard let unit = text.last, let value = Int64(text.dropLast()), value > 0 else { return nil }
        let scale: Int64
        switch unit {
        case "s": scale = 1_000
        case "m": scale = 60_000
        case "h": scale = 3_600_000
        default: return nil
        }
        let (ms, overflow) = value.multipliedReportingOverflow(by: scale)
        return overflow ? nil : ms
    }

    func run() async throws {
        let config = try options.load()
        let client = try CoordinatorClient(config: config)
        let rules: [JSONValue] = config.sortedRules.map { rule in
            .object([("name", .string(rule.name)), ("namespace_id", .string(rule.namespaceID)), ("limit", .integer(Int64(rule.limit))),
                     ("period", .integer(Int64(rule.periodSeconds))), ("algorithm", .string(rule.algorithm.rawValue)),
                     ("burst", .integer(Int64(rule.burst)))])
        }
        let vars: JSONValue = .object(config.versionVars.sorted { $0.key < $1.key }.map { ($0.key, .string($0.value)) })
        let bundle: [(String, JSONValue)] = [
            ("rules", .array(rules)), ("vars", vars), ("tag", tag.map { .string($0) } ?? .null),
            ("message", message.map { .string($0) } ?? .null), ("author", .string(client.author)),
        ]
        var body: [(String, JSONValue)]
        var version = ""
        if dryRun {
            // The rules travel with the dry run: the coordinator stores nothing.
            body = bundle + [("dry_run", .bool(true))]
        } else {
            let uploaded = try await client.call(.post, "/admin/versions", body: .object(bundle))
            guard let id = uploaded[member: "version"]?.stringValue else { throw CLIError("the coordinator answered no version id") }
            version = id
            print("version \(version) (\(uploaded[member: "created"]?.boolValue == true ? "uploaded" : "already uploaded"))")
            body = [("version", .string(version)), ("message", message.map { .string($0) } ?? .null), ("author", .string(client.author))]
        }
        body.append(("force", .bool(force)))

        let isGradual = gradual || duration != nil || (percent == nil && config.environment == "production")
        if isGradual {
            body.append(("gradual", .bool(true)))
            body.append(("duration_ms", .integer(duration.flatMap(Self.milliseconds) ?? 300_000)))
        } else {
            body.append(("percent", .integer(Int64(percent ?? 100))))
        }
        let answer = try await client.call(.post, "/admin/deployments", body: .object(body))
        for line in answer.lines { print(line) }
        flushOutput()
        guard isGradual, !dryRun, answer.lines.first?.hasPrefix("rolling out") == true else { return }
        try await follow(client, version: version)
    }

    /// Prints each judged step as it happens; exits 1 if the rollout fails.
    /// A coordinator that restarts mid-rollout resumes it from its journal,
    /// so an unreachable coordinator is retried for a while before giving up.
    private func follow(_ client: CoordinatorClient, version: String) async throws {
        var printed = 0
        var number: Int64?
        var unreachableSince: ContinuousClock.Instant?
        while true {
            let status: JSONValue
            do {
                status = try await client.call(.get, "/admin/rollout")
                unreachableSince = nil
            } catch {
                let since = unreachableSince ?? .now
                unreachableSince = since
                guard ContinuousClock.now - since < .seconds(60) else { throw error }
                try await Task.sleep(for: .milliseconds(500))
                continue
            }
            // A restarted coordinator counts rollouts and lists steps afresh.
            let current = status[member: "number"]?.int
            if let number, current != number { printed = 0 }
            number = current
            let steps = status[member: "steps"]?.arrayValue ?? []
            for step in steps.dropFirst(printed) {
                print("\(step[member: "summary"]?.stringValue ?? "") -> \(step[member: "outcome"]?.stringValue ?? "")")
            }
            printed = max(printed, steps.count)
            flushOutput()
            if let ending = status[member: "ending"], ending != .null {
                switch ending[member: "outcome"]?.stringValue {
                case "completed":
                    print("\(version) is stable at 100%")
                    return
                case "rolled-back":
                    printError("Rollout failed at \(ending[member: "percent"]?.int ?? 0)%: \(ending[member: "reason"]?.stringValue ?? "")")
                    throw ExitCode.failure
                default:
                    printError("Rollout aborted at \(ending[member: "percent"]?.int ?? 0)%")
                    throw ExitCode.failure
                }
            }
            try await Task.sleep(for: .milliseconds(300))
        }
    }
}
