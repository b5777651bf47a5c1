/// A coordinator request that cannot be done, with the HTTP status it is
/// answered with and a message naming what is wrong.
public struct CoordinatorError: Error, Sendable, CustomStringConvertible {
    public var status: Int
    public var code: String
    public var message: String

    public init(status: Int, code: String, message: String) {
        self.status = status
        self.code = code
        self.message = message
    }

    public var description: String { message }

    static func badRequest(_ field: String, _ detail: String) -> CoordinatorError {
        CoordinatorError(status: 422, code: "invalid-field", message: "\(field): \(detail)")
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
        APIProblem(status: status, code: code, title: status == 409 ? "Conflict" : "Request refused", detail: message)
    }
}
