import Testing
import Simulation
@testable import KernelLab

/// `verify` creates each vxlan device as the model behaves: `nolearning` (the model sends to
/// `remote` always). A learning device sends the replies to the source address of the last outer
/// packet — behind an underlay router's MASQUERADE, the router (measured on 6.18: the reply legs of
/// vxlan-router-masquerade never arrived, `bridge fdb` showed the inner MAC at the router).
@Suite struct VxlanPlanTests {
    @Test func vxlanDevicesAreCreatedWithoutLearning() throws {
        let (_, _, plan) = try Shipped.prepared("vxlan-router-masquerade")
        let adds = try plan.buildSteps(effective: [:]).compactMap { step -> LabPlan.Command? in
            if case let .ip(c) = step, c.argv.contains("vxlan") { return c }
            return nil
        }
        #expect(adds.count == 2)
        for c in adds {
            #expect(c.argv.last == "nolearning", "\(c.argv)")
            #expect(!c.argv.contains("udpcsum") && !c.argv.contains("noudpcsum"))
        }
    }

    @Test func theIPv6ZeroChecksumKeywordsAreTheFiles() throws {
        let (_, _, plan) = try Shipped.prepared("vxlan-ipv6-zero-csum")
        let adds = try plan.buildSteps(effective: [:]).compactMap { step -> LabPlan.Command? in
            if case let .ip(c) = step, c.argv.contains("vxlan") { return c }
            return nil
        }
        let vxA = try #require(plan.real("vxA")), vxB = try #require(plan.real("vxB"))
        let a = try #require(adds.first { $0.argv.contains(vxA.name) }), b = try #require(adds.first { $0.argv.contains(vxB.name) })
        #expect(a.argv.contains("udp6zerocsumtx") && !a.argv.contains("udp6zerocsumrx"))
        #expect(!b.argv.contains("udp6zerocsumtx") && !b.argv.contains("udp6zerocsumrx"))
        #expect(a.argv.contains("fd00::1") && a.argv.contains("fd00::2"))
    }
}
