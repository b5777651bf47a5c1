import ArgumentParser
import Chaos
import ChaosCore
import Foundation
import UnixSignals

struct ChaosCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "chaos",
        abstract: "Judge the cluster under faults: real nodes, concurrent clients, kill -9, SIGSTOP, nodes added and removed; exits 1 if any key was admitted over its limit.",
        discussion: """
            Writes its own project in a temp dir (5 nodes listed on free loopback ports, replicas = 2, \
            rules with small limits), starts --nodes of them, and runs --clients concurrent HTTP/1.1 \
            keep-alive clients on --keys keys through every live node. Meanwhile a schedule drawn from \
            --seed kills the owner of a busy key with kill -9 and restarts it, freezes an owner with \
            SIGSTOP for 2-5 s, starts a listed node and removes one with SIGTERM; each is printed as it \
            happens. A failed check is retried once on another live node.

            Every acknowledged `allowed: true` is recorded with its [sent, received] interval. At the \
            end each key is judged against its rule, counting a hit in a window only when its whole \
            interval lies inside it, so a reported over-admission is never an artefact of timing. \
            The report gives operations, faults, admitted, over-admissions, client errors (checks no \
            node answered), failed attempts against down vs live nodes, and the longest time a key \
            went unanswered after a failed attempt on a live node.

            Exit status: 0 when no key was over-admitted (and, with --strict, every check was \
            answered, no node crashed and every node stopped on SIGTERM); 1 otherwise; 2 when the \
            harness itself failed (a node would not start, a --duration too short for the faults, \
            an interruption); 64 for a malformed option. Every process started is stopped by pid \
            at the end, on Ctrl-C and SIGTERM too.
            """)

    @Flag(name: .long, help: "The long form: minutes of load and more faults (default duration 180s, 4 nodes).")
    var long = false

    @Option(name: .long, help: "Seed of the fault schedule and the clients' key choices (default: random, printed).")
    var seed: UInt64?

    @Option(name: .long, help: "Nodes started before the load, 3 to 5 (default 3; 4 with --long). The other listed nodes are spares to add.")
    var nodes: Int?

    @Option(name: .long, help: "How long the load runs: 30s, 3m (default 30s; 180s with --long).")
    var duration: String?

    @Option(name: .long, help: "Concurrent clients.")
    var clients: Int = 8

    @Option(name: .long, help: "Keys the clients hit, dealt in turn to the six chaos rules.")
    var keys: Int = 60

    @Option(name: .long, help: "How long a client waits for one answer before it gives up on that node: 2s.")
    var requestTimeout: String = "2s"

    @Flag(name: .long, help: "A control run: the same load and judging with no fault at all (any correct build passes it).")
    var noFaults = false

    @Flag(name: .long, help: "Also exit 1 when a check went unanswered by every node asked, a node exited with no fault stopping it, or a node did not stop on SIGTERM.")
    var strict = false

    @Flag(name: .long, help: "Keep the temp project (node logs, data dirs, certificates) and print its path; it is kept without this flag when a key was admitted over its limit or a node did not stop on SIGTERM.")
    var keep = false

    @Option(name: .long, help: "Also write the report as JSON to this file.")
    var report: String?

    func validate() throws {
        if let duration, DeployCommand.milliseconds(duration) == nil {
            throw ValidationError("--duration: expected a number with s, m or h (30s, 3m), got \"\(duration)\"")
        }
        if DeployCommand.milliseconds(requestTimeout) == nil {
            throw ValidationError("--request-timeout: expected a number with s or m (2s), got \"\(requestTimeout)\"")
        }
        if let nodes, !(3...5).contains(nodes) { throw ValidationError("--nodes: must be 3 to 5, got \(nodes)") }
        if clients < 1 { throw ValidationError("--clients: must be at least 1, got \(clients)") }
        if keys < 1 { throw ValidationError("--keys: must be at least 1, got \(keys)") }
    }

    func run() async throws {
        let seed = seed ?? UInt64.random(in: 1...UInt64(UInt32.max))
        var options = ChaosRun.Options(
            seed: seed, long: long, nodes: nodes ?? (long ? 4 : 3),
            durationMs: duration.flatMap(DeployCommand.milliseconds) ?? (long ? 180_000 : 30_000),
            clients: clients, keys: keys, executable: UpCommand.executablePath,
            environment: ProcessInfo.processInfo.environment)
        options.requestTimeoutMs = DeployCommand.milliseconds(requestTimeout) ?? 2_000
        options.keep = keep
        options.injectsFaults = !noFaults
        let chaos = ChaosRun(options: options) { line in
            print(line)
            flushOutput()
        }

        let signals = await UnixSignalsSequence(trapping: .sigint, .sigterm)
        let outcome: ChaosReport?
        do {
            outcome = try await withThrowingTaskGroup(of: ChaosReport?.self) { group in
                group.addTask { try await chaos.run() }
                group.addTask {
                    for await _ in signals { return nil }
                    return nil
                }
                let first = try await group.next() ?? nil
                group.cancelAll()
                return first
            }
        } catch {
            printError("chaos run failed (seed \(seed)): \(error)")
            throw ExitCode(2)
        }
        guard let result = outcome else {
            printError("interrupted (seed \(seed)); every node started was stopped")
            throw ExitCode(2)
        }
        print("")
        print(result.text)
        if let report {
            do {
                try Data(result.json).write(to: URL(fileURLWithPath: report))
            } catch {
                printError("--report: cannot write \(report): \(error.localizedDescription)")
                throw ExitCode(2)
            }
        }
        print("")
        if result.passed(strict: strict) {
            print("PASS: no key was admitted over its limit\(strict ? ", every check was answered, no node crashed and every node stopped on SIGTERM" : "") (seed \(seed))")
        } else {
            var reasons: [String] = []
            if result.overAdmissions > 0 { reasons.append("\(result.overAdmissions) over-admissions on \(result.keysOver.count) keys") }
            if strict && result.clientErrors > 0 { reasons.append("\(result.clientErrors) checks unanswered (--strict)") }
            if strict && !result.unexpectedExits.isEmpty { reasons.append("\(result.unexpectedExits.count) node crashes (--strict)") }
            if strict && !result.shutdownProblems.isEmpty {
                reasons.append("\(result.shutdownProblems.count) nodes did not stop on SIGTERM (--strict)")
            }
            print("FAIL: \(reasons.joined(separator: "; ")) (replay with --seed \(seed))")
            flushOutput()
            throw ExitCode.failure
        }
    }
}
