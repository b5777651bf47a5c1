import Foundation

/// Production's question to staging (DESIGN §7): did a version with these
/// rules reach 100 % there without being rolled back? Asked of the staging
/// coordinator named in `cluster/staging.toml`, with the same ADMIN_TOKEN.
struct StagingGate: Sendable {
    struct Unknown: Error, CustomStringConvertible {
        var description: String
    }

    let host: String
    let port: Int
    let token: String

    func completed(rulesHash: String) async -> Result<Bool, Unknown> {
        let path = "/admin/staging/completed?rules_hash=\(rulesHash)"
        let where_ = "the staging coordinator at http://\(host):\(port)"
        do {
            let response = try await NodeClient.request(.GET, host: host, port: port, path: path,
                                                        headers: [("authorization", "Bearer \(token)")], timeout: .seconds(3))
            guard response.status == 200, case .bool(let completed)? = response.json?[member: "completed"] else {
                return .failure(Unknown(description: "\(where_) answered \(response.status): \(response.text.prefix(200))"))
            }
            return .success(completed)
        } catch {
            return .failure(Unknown(description: "\(where_) is unreachable: \(error)"))
        }
    }
}
