/// Where a peer listens, and which node must answer there.
///
/// The `id` is what the peer's certificate must say (`spiffe://ratelimit/<env>/<id>`);
/// host and port only say where to dial.
public struct PeerAddress: Sendable, Hashable, CustomStringConvertible {
    public var id: String
    public var host: String
    public var port: Int

    public init(id: String, host: String, port: Int) {
        self.id = id
        self.host = host
        self.port = port
    }

    public var description: String { "\(self.id)@\(self.host):\(self.port)" }
}
