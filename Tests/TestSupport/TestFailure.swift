/// A test failure with a message of its own, for helpers that throw instead of
/// recording an issue (Swift Testing reports the description).
public struct TestFailure: Error, CustomStringConvertible {
    public var description: String

    public init(_ description: String) { self.description = description }
}
