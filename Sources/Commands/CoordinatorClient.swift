import Config
import Foundation
import JSONCore
import NodeServer

/// The CLI's side of the coordinator's admin API (DESIGN §7): the address
/// from `[coordinator]` in cluster/<env>.toml, `ADMIN_TOKEN`, and one error
/// style for every failure.
struct CoordinatorClient {
    let host: String
    let port: Int
    let token: String
    let environment: String
    let author: String

    /// The coordinator's address: `[coordinator]` of cluster/<env>.toml.
    /// `ratelimit status` reads the open `/api/summary` with it, no token.
    static func endpoint(of config: ResolvedConfig) throws -> Endpoint {
        guard let endpoint = config.topology?.coordinator else {
            throw CLIError("\(config.topologyFile) has no [coordinator] table: there is no coordinator to ask")
        }
        return endpoint
    }

    init(config: ResolvedConfig) throws {
        let endpoint = try Self.endpoint(of: config)
        guard let token = config.runtime.adminToken, !token.isEmpty else {
            throw CLIError("ADMIN_TOKEN is not set: the coordinator's admin routes need it (export ADMIN_TOKEN=... as the coordinator has it)")
        }
        host = endpoint.host
        port = endpoint.httpPort
        self.token = token
        environment = config.environment
        let environment = ProcessInfo.processInfo.environment
        author = environment["RATELIMIT_AUTHOR"] ?? environment["USER"] ?? "unknown"
    }

    var base: String { "http://\(host):\(port)" }

    /// Sends a request and returns the JSON of a 2xx answer; anything else
    /// is a one-line error naming the coordinator and its problem.
    @discardableResult
    func call(_ method: HTTPMethodName, _ path: String, body: JSONValue? = nil) async throws -> JSONValue {
        var bytes: [UInt8]?
        if let body {
            var writer = JSONWriter()
            writer.write(body)
            bytes = writer.bytes
        }
        let response: NodeClient.Response
        do {
            response = try await NodeClient.request(
                method == .get ? .GET : .POST, host: host, port: port, path: path,
                headers: [("authorization", "Bearer \(token)"), ("content-type", "application/json"), ("x-ratelimit-author", author)],
                body: bytes, timeout: .seconds(15))
        } catch let error as NodeClient.ClientError where error.kind == .connect {
            throw CLIError("cannot reach the \(environment) coordinator at \(base): \(error.reason); is it running? (`ratelimit up --env \(environment)` starts it)")
        } catch let error as NodeClient.ClientError {
            throw CLIError("the \(environment) coordinator at \(base)\(path): \(error.reason)")
        }
        guard (200..<300).contains(response.status), let json = response.json else {
            throw CLIError("coordinator \(base)\(path) answered \(response.status): \(problemDetail(response))")
        }
        return json
    }

    enum HTTPMethodName {
        case get, post
    }
}

extension JSONValue {
    var lines: [String] { self[member: "lines"]?.arrayValue.compactMap(\.stringValue) ?? [] }
    var int: Int64? { if case .integer(let value) = self { return value } else { return nil } }
    var boolValue: Bool? { if case .bool(let value) = self { return value } else { return nil } }
}

/// `text` as a query value: everything but ASCII letters and digits
/// %-escaped, so `&`, `=`, `+`, spaces and non-ASCII keys reach the server as sent.
func queryEncoded(_ text: String) -> String {
    var allowed = CharacterSet()
    allowed.insert(charactersIn: "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~")
    return text.addingPercentEncoding(withAllowedCharacters: allowed) ?? text
}
