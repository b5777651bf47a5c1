import Config
import Logging
import NIOCore
import ServiceLifecycle

/// The node's membership, placement and forwarding (filled in by the cluster work).
final class ClusterNode: OwnerLookup, CheckForwarding, ClusterStatus {
    var services: [any Service] { [] }

    static func make(config: ResolvedConfig, spec: NodeSpec, engine: LimiterEngine, group: any EventLoopGroup,
                     logger: Logger) async throws -> ClusterNode? {
        nil
    }

    func owner(namespace: String, key: String) -> String? { nil }
    func forward(_ requests: [CheckRequest], to owner: String,
                 completion: @escaping @Sendable (Result<[CheckResult], APIProblem>) -> Void) {}
    func members() -> [MemberSummary] { [] }
    func placement(namespace: String, key: String, replicas: Int) -> [String] { [] }
}
