import Membership

extension PlacementSimulation {
    /// A seeded fault schedule: a chaotic network (loss, jitter, stragglers that reorder)
    /// from the start, one to three faults starting between 0.8 and 3 simulated seconds, then, once the
    /// last fault has healed, a calm network (no loss, 1-5 ms) so membership can settle.
    ///
    /// Only partitions the membership layer heals are drawn: one node isolated for any
    /// length (in a 3-node cluster that is the 2|1 split), and a 2-node minority split off
    /// for less than the 2 s suspicion timeout. A longer split between two groups of 2 or
    /// more is never healed by SWIM as it stands (see `PlacementSimulationTests`).
    struct Chaos: CustomStringConvertible {
        enum Fault: CustomStringConvertible {
            case isolate(String, at: Int64, for: Int64)
            case split([String], at: Int64, for: Int64)
            case pause(String, at: Int64, for: Int64)
            /// A crash; `restartAt` nil means the node stays down.
            case kill(String, at: Int64, restartAt: Int64?)
            /// A graceful leave; the process exits a second later.
            case leave(String, at: Int64)

            /// When the fault is over: healed, resumed, restarted, or the node is gone.
            var end: Int64 {
                switch self {
                case .isolate(_, let at, let duration), .split(_, let at, let duration), .pause(_, let at, let duration):
                    at + duration
                case .kill(_, let at, let restartAt):
                    restartAt ?? at
                case .leave(_, let at):
                    at + Chaos.leaveDrain
                }
            }

            /// The kind of fault, for tallies.
            var kind: String {
                switch self {
                case .isolate: "isolation"
                case .split: "2-node split"
                case .pause: "pause"
                case .kill(_, _, nil): "kill"
                case .kill: "kill+restart"
                case .leave: "leave"
                }
            }

            var description: String {
                switch self {
                case .isolate(let node, let at, let duration): "isolate \(node) \(at)+\(duration)"
                case .split(let side, let at, let duration): "split \(side.joined(separator: ",")) \(at)+\(duration)"
                case .pause(let node, let at, let duration): "pause \(node) \(at)+\(duration)"
                case .kill(let node, let at, let restartAt): "kill \(node) \(at)" + (restartAt.map { ", restart \($0)" } ?? "")
                case .leave(let node, let at): "leave \(node) \(at)"
                }
            }
        }

        /// How long a leaving node keeps running before its process exits.
        static let leaveDrain: Int64 = 1_000

        let nodeCount: Int
        let chaotic: SimulatedCluster.Network
        let calm = SimulatedCluster.Network(lossRate: 0, minDelay: 1, maxDelay: 5)
        let faults: [Fault]
        /// When the network turns calm: after every fault has ended.
        let lastHeal: Int64

        init(seed: UInt64) {
            var random = SplitMix64(seed: seed ^ 0xC4A0_5000_0000_0000)
            let nodeCount = Int.random(in: 3...5, using: &random)
            let ids = (1...nodeCount).map { "n\($0)" }
            self.nodeCount = nodeCount
            self.chaotic = SimulatedCluster.Network(
                lossRate: Double.random(in: 0...0.15, using: &random),
                minDelay: 1,
                maxDelay: Int64.random(in: 5...30, using: &random),
                stragglerRate: Double.random(in: 0...0.1, using: &random),
                stragglerDelay: Int64.random(in: 50...400, using: &random)
            )

            // Distinct victims, so a node is not both paused and killed; at most one node
            // leaves for good, so at least two stay.
            var victims = ids.shuffled(using: &random)
            var gone = 0
            var faults: [Fault] = []
            for _ in 0..<Int.random(in: 1...min(3, nodeCount), using: &random) {
                let node = victims.removeLast()
                let at = Int64.random(in: 800...3_000, using: &random)
                switch Int.random(in: 0..<10, using: &random) {
                case 0..<3:
                    faults.append(.isolate(node, at: at, for: Int64.random(in: 300...3_500, using: &random)))
                case 3..<5 where nodeCount >= 4:
                    let other = ids.filter { $0 != node }.randomElement(using: &random)!
                    faults.append(.split([node, other].sorted(), at: at, for: Int64.random(in: 200...1_000, using: &random)))
                case 3..<5:
                    faults.append(.isolate(node, at: at, for: Int64.random(in: 300...3_500, using: &random)))
                case 5..<7:
                    faults.append(.pause(node, at: at, for: Int64.random(in: 200...3_500, using: &random)))
                case 7..<9:
                    let restart = gone == 0 && Bool.random(using: &random) ? nil : at + Int64.random(in: 300...3_000, using: &random)
                    if restart == nil { gone += 1 }
                    faults.append(.kill(node, at: at, restartAt: restart))
                default:
                    if gone == 0 {
                        gone += 1
                        faults.append(.leave(node, at: at))
                    } else {
                        faults.append(.pause(node, at: at, for: Int64.random(in: 200...3_500, using: &random)))
                    }
                }
            }
            self.faults = faults
            self.lastHeal = max(3_000, faults.map(\.end).max() ?? 0)
        }

        /// Puts the schedule on `simulation`'s cluster.
        func apply(to simulation: PlacementSimulation) {
            let cluster = simulation.cluster
            cluster.setNetwork(calm, from: lastHeal)
            for fault in faults {
                switch fault {
                case .isolate(let node, let at, let duration):
                    cluster.isolate(node, at: at, for: duration)
                case .split(let side, let at, let duration):
                    cluster.partition(Set(side), at: at, for: duration)
                case .pause(let node, let at, let duration):
                    cluster.pause(node, at: at, for: duration)
                case .kill(let node, let at, let restartAt):
                    cluster.kill(node, at: at)
                    if let restartAt { cluster.restart(node, at: restartAt) }
                case .leave(let node, let at):
                    cluster.leave(node, at: at)
                    cluster.kill(node, at: at + Chaos.leaveDrain)
                }
            }
        }

        var description: String {
            "\(nodeCount) nodes, loss \(Int(chaotic.lossRate * 100))%, delay 1-\(chaotic.maxDelay) ms, "
                + "\(Int(chaotic.stragglerRate * 100))% stragglers +0-\(chaotic.stragglerDelay) ms; "
                + faults.map(\.description).joined(separator: "; ") + "; calm from \(lastHeal)"
        }
    }
}
