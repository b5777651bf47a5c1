import Foundation
import TestSupport

/// Cuts the peer links between groups of nodes on the loopback device with
/// `tc` (root only): packets from one node's address to another's peer port
/// are dropped, in both directions, while HTTP from the test still reaches
/// every node. Needs nodes on distinct addresses (`distinctHosts`), since
/// peers connect from their own host address.
///
/// This kernel has no `gact` (drop) action and no netem, so the drop is a
/// u32 filter that sends matching packets to an htb class whose queue is a
/// `pfifo` of length 0; every other packet takes the default class, whose
/// rate (100 Gbit/s) does not limit loopback traffic.
final class LoopbackPartition {
    private var installed = false

    /// Drops peer traffic between every node of `side` and every node of `rest`.
    func split(_ side: [NodeProcessCluster.Node], from rest: [NodeProcessCluster.Node]) throws {
        if !installed {
            try Self.tc(["qdisc", "add", "dev", "lo", "root", "handle", "1:", "htb", "default", "10", "r2q", "100000"])
            installed = true
            try Self.tc(["class", "add", "dev", "lo", "parent", "1:", "classid", "1:10", "htb", "rate", "100gbit"])
            try Self.tc(["class", "add", "dev", "lo", "parent", "1:", "classid", "1:20", "htb", "rate", "100gbit"])
            try Self.tc(["qdisc", "add", "dev", "lo", "parent", "1:20", "handle", "20:", "pfifo", "limit", "0"])
        }
        for a in side {
            for b in rest {
                for (from, to) in [(a, b), (b, a)] {
                    try Self.tc(["filter", "add", "dev", "lo", "parent", "1:", "protocol", "ip", "prio", "1", "u32",
                                 "match", "ip", "src", "\(from.host)/32", "match", "ip", "dst", "\(to.host)/32",
                                 "match", "ip", "dport", "\(to.peerPort)", "0xffff", "flowid", "1:20"])
                }
            }
        }
    }

    /// Removes every filter: the links work again.
    func heal() throws {
        guard installed else { return }
        installed = false
        try Self.tc(["qdisc", "del", "dev", "lo", "root"])
    }

    deinit { try? heal() }

    private static func tc(_ arguments: [String]) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: ["/usr/sbin/tc", "/sbin/tc", "/usr/bin/tc"].first {
            FileManager.default.isExecutableFile(atPath: $0)
        } ?? "/usr/sbin/tc")
        process.arguments = arguments
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            throw TestFailure("tc \(arguments.joined(separator: " ")) failed (\(process.terminationStatus)): \(text); partitions need root and iproute2")
        }
    }
}
