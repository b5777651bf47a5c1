/// A coordinator request that cannot be done, with the HTTP status it is
/// answered with and a message naming what is wrong.
public struct CoordinatorError: Error, Sendable, CustomStringConvertible {
    public var status: Int
    public var code: String
    public var message: String
    /// The request field at fault, when one is.
    public var field: String?

    public init(status: Int, code: String, message: String, field: String? = nil) {
        self.status = status
        self.code = code
        self.message = message
        self.field = field
    }

    public var description: String { message }

    static func badRequest(_ field: String, _ detail: String) -> CoordinatorError {
        CoordinatorError(status: 422, code: "invalid-field", message: "\(field): \(detail)", field: field)
    }

    static func conflict(_ message: String) -> CoordinatorError {
        CoordinatorError(status: 409, code: "conflict", message: message)
    }

    static func notFound(_ message: String) -> CoordinatorError {
        CoordinatorError(status: 404, code: "not-found", message: message)
    }

    static func storage(_ message: String) -> CoordinatorError {
        CoordinatorError(status: 500, code: "journal", message: message)
    }

    var problem: APIProblem {
        let title = switch status {
        case 400: "Malformed request"
        case 404: "Not found"
        case 409: "Conflict"
        case 422: "Invalid field"
        default: "Request refused"
        }
        return APIProblem(status: status, code: code, title: title, detail: message, field: field)
    }
}
