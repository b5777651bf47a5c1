/// The bearer check of every `/admin/...` route, on nodes and the
/// coordinator alike (DESIGN §5): `Authorization: Bearer <ADMIN_TOKEN>`.
enum AdminAuthorization {
    /// nil when `request` carries `token`; otherwise the 401 to answer,
    /// which says whether no token was sent or another one. With no token
    /// configured the admin routes are closed rather than open.
    static func problem(_ request: HTTPRequest, token: String) -> APIProblem? {
        guard let header = request.headers.first(name: "authorization") else { return .unauthorized(tokenSent: false) }
        guard !token.isEmpty, matches(header, "Bearer \(token)") else { return .unauthorized(tokenSent: true) }
        return nil
    }

    /// Constant-time: the comparison takes as long whatever prefix matches.
    static func matches(_ given: String, _ expected: String) -> Bool {
        let given = Array(given.utf8)
        let expected = Array(expected.utf8)
        var difference = UInt8(given.count == expected.count ? 0 : 1)
        for index in 0..<expected.count {
            difference |= expected[index] ^ (index < given.count ? given[index] : 0)
        }
        return difference == 0
    }
}
