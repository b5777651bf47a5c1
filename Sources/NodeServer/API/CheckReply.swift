import NIOCore

/// The answer to one `POST /v1/check`, which the HTTP handler encodes
/// straight into its output buffer on its event loop.
enum CheckReply: Sendable {
    /// A decision of this node's current rules: rendered from the rule's
    /// template.
    case decided(CheckResult, CheckResponseTemplate)
    /// Anything else: a problem, or a decision carrying another version or
    /// node (answered by a peer).
    case response(HTTPResponse)

    func encode(into buffer: inout ByteBuffer, keepAlive: Bool) {
        switch self {
        case .decided(let result, let template):
            template.encode(result, into: &buffer, keepAlive: keepAlive)
        case .response(let response):
            response.encode(into: &buffer, keepAlive: keepAlive, requestMethod: .POST)
        }
    }
}
