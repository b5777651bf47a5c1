import Membership
import Testing

@Suite("Member status precedence (SWIM 4.2)")
struct MemberStatusTests {
    @Test("Within one incarnation alive < suspect < dead < left, and any status of a higher incarnation wins")
    func precedenceOrder() {
        let ordered: [MemberStatus] = [
            .alive(incarnation: 1),
            .suspect(incarnation: 1, suspectedBy: ["n2"]),
            .dead(incarnation: 1),
            .left(incarnation: 1),
            .alive(incarnation: 2),
            .suspect(incarnation: 2, suspectedBy: ["n3"]),
            .dead(incarnation: 2),
        ]
        for (lowerIndex, lower) in ordered.enumerated() {
            for higher in ordered[(lowerIndex + 1)...] {
                #expect(higher.supersedes(lower), "\(higher) should supersede \(lower)")
                #expect(!lower.supersedes(higher), "\(lower) must not supersede \(higher)")
            }
            #expect(!lower.supersedes(lower), "\(lower) must not supersede itself")
        }
    }

    @Test("Two suspicions of the same incarnation never supersede each other: their suspectors are merged instead")
    func suspicionsOfOneIncarnationDoNotSupersede() {
        let byTwo = MemberStatus.suspect(incarnation: 4, suspectedBy: ["n2"])
        let byThree = MemberStatus.suspect(incarnation: 4, suspectedBy: ["n2", "n3"])
        #expect(!byThree.supersedes(byTwo))
        #expect(!byTwo.supersedes(byThree))
    }

    @Test("Suspects count as active members; dead and left ones do not")
    func activeness() {
        #expect(MemberStatus.alive(incarnation: 0).isActive)
        #expect(MemberStatus.suspect(incarnation: 0, suspectedBy: ["n1"]).isActive)
        #expect(!MemberStatus.dead(incarnation: 0).isActive)
        #expect(!MemberStatus.left(incarnation: 0).isActive)
    }

    @Test("A change is a reachability change only when the member enters or leaves the active set")
    func reachabilityChanges() {
        let member = Fixtures.member("n2", .suspect(incarnation: 1, suspectedBy: ["n1"]))
        #expect(!MemberChange(member: member, from: .alive(incarnation: 1)).isReachabilityChange)
        #expect(MemberChange(member: member, from: nil).isReachabilityChange)
        let dead = Fixtures.member("n2", .dead(incarnation: 1))
        #expect(MemberChange(member: dead, from: .suspect(incarnation: 1, suspectedBy: ["n1"])).isReachabilityChange)
    }
}

@Suite("SWIM settings")
struct SWIMSettingsTests {
    @Test("The default settings are valid")
    func defaultsAreValid() throws {
        try SWIMSettings().validate()
    }

    @Test("An invalid setting is rejected with an error naming its key")
    func invalidSettingNamesTheKey() {
        var settings = SWIMSettings()
        settings.lifeguard.relayTimeoutFraction = 1.5
        #expect {
            try settings.validate()
        } throws: { error in
            guard let error = error as? MembershipError else { return false }
            return error.code == .invalidSetting && error.message.contains("lifeguard.relayTimeoutFraction")
        }
    }
}
