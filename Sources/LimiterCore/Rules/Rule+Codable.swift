/// Rules travel inside deployment versions (DESIGN.md §7), so they encode with the
/// configuration's snake_case names; a missing `burst` decodes as `limit`, as in TOML.
extension Rule: Codable {
    enum CodingKeys: String, CodingKey {
        case name
        case namespaceID = "namespace_id"
        case limit
        case periodSeconds = "period_seconds"
        case algorithm
        case burst
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let limit = try container.decode(Int.self, forKey: .limit)
        self.init(
            name: try container.decode(String.self, forKey: .name),
            namespaceID: try container.decodeIfPresent(String.self, forKey: .namespaceID) ?? "",
            limit: limit,
            periodSeconds: try container.decode(Int.self, forKey: .periodSeconds),
            algorithm: try container.decode(Algorithm.self, forKey: .algorithm),
            burst: try container.decodeIfPresent(Int.self, forKey: .burst)
        )
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(name, forKey: .name)
        try container.encode(namespaceID, forKey: .namespaceID)
        try container.encode(limit, forKey: .limit)
        try container.encode(periodSeconds, forKey: .periodSeconds)
        try container.encode(algorithm, forKey: .algorithm)
        try container.encode(burst, forKey: .burst)
    }
}
