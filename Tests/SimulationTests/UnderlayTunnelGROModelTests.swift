import Testing
import Simulation
import Wire
import TestSupport

// UDP tunnel GRO on the underlay (#16): a veth with GRO on receives an outer VXLAN packet for
// a port its namespace's tunnel listens on; udp4_gro_receive → udp_gro_receive →
// vxlan_gro_receive → tcp4_gro_receive validates the inner checksum too, and
// skb_gro_incr_csum_unnecessary leaves CHECKSUM_UNNECESSARY with csum_level 1. Measured on 6.18
// (random campaign seed 20261213, reduced to vxlan-bridge-port --set vxB.gro=off --set
// wire.wireB.gro=on): the SYN reaches tap2 DATA_VALID, not flags 0.

@Suite struct UnderlayTunnelGROModelTests {
    private func syn(_ sets: [String]) throws -> LegTrace {
        let t = try with(loadShipped("vxlan-bridge-port").topology, sets)
        return try #require(leg(try run(t, flow: "request"), "request", "SYN"))
    }

    @Test func theInnerIsValidatedOnTheUnderlayAndTheTAPSaysDataValid() throws {
        let l = try syn(["vxB.gro=off", "wire.wireB.gro=on"])
        let g = try #require(l.steps.first { $0.event.kind == .underlayTunnelGRO })
        let st = try #require(g.after.skbState)
        #expect(st.ipSummed == .unnecessary && st.csumLevel == 1)
        // The inner checksum it vouched for is right (naive reference).
        let inner = Array(g.frame[50...])
        #expect(naiveL4Checksum(inner) == UInt16(inner[34 + 16]) << 8 | UInt16(inner[34 + 17]))
        let tap2 = try #require(l.readerFrames.first { $0.node == "tap2" })
        #expect(tap2.node == "tap2" && tap2.vnet?.isDataValid == true)
        #expect(l.outcome == .accepted)
    }

    /// Without GRO on the underlay (the lab's default) the vxlan device's own GRO is off too:
    /// nothing validates the inner before the bridge, and the TAP gets flags 0.
    @Test func withoutUnderlayGROTheTAPGetsNoFlag() throws {
        let l = try syn(["vxB.gro=off"])
        #expect(!l.steps.contains { $0.event.kind == .underlayTunnelGRO })
        let tap2 = try #require(l.readerFrames.first { $0.node == "tap2" })
        #expect(tap2.node == "tap2" && tap2.vnet?.flags == 0)
    }
}
