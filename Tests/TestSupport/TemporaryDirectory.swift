import Foundation

/// A fresh directory under the system temp dir, removed with everything in it
/// when the last reference goes. Swift may end a local's lifetime at its last
/// use, so keep it alive (`withExtendedLifetime`) while a process works in it.
public final class TemporaryDirectory: Sendable {
    public let path: String

    public init(prefix: String = "ratelimit-tests") throws {
        path = NSTemporaryDirectory() + "\(prefix)-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    /// The path of `name` inside the directory (not created).
    public func file(_ name: String) -> String { path + "/" + name }

    deinit {
        try? FileManager.default.removeItem(atPath: path)
    }
}

/// Runs `body` with a fresh temporary directory's path, then removes it.
public func withTemporaryDirectory<T>(prefix: String = "ratelimit-tests", _ body: (String) async throws -> T) async throws -> T {
    let directory = try TemporaryDirectory(prefix: prefix)
    defer { withExtendedLifetime(directory) {} }
    return try await body(directory.path)
}
