/// A frame that cannot be read; the connection carrying it is closed.
public struct PeerFrameError: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Reason: Sendable, Hashable {
        case tooLarge(length: Int, limit: Int)
        case tooShort(length: Int)
        case unknownVersion(UInt8)
        case unknownKind(UInt8)
        case truncated(buffered: Int)
    }

    public let reason: Reason

    public var description: String {
        switch self.reason {
        case .tooLarge(let length, let limit):
            return "frame of \(length) bytes exceeds the \(limit)-byte limit"
        case .tooShort(let length):
            return "frame length \(length) is shorter than the \(PeerFrame.headerSize)-byte header"
        case .unknownVersion(let version):
            return "unknown frame version \(version) (this build speaks \(PeerFrame.version))"
        case .unknownKind(let kind):
            return "unknown frame kind \(kind)"
        case .truncated(let buffered):
            return "connection ended inside a frame (\(buffered) bytes buffered)"
        }
    }
}
