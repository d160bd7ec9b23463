import Testing
import Simulation
import Wire
import TestSupport

// br_netfilter (#16 campaign, 2026-12-06, seed 20261213): a bridge in a namespace where
// conntrack is loaded passes bridged frames through nf_conntrack_in's checksum check
// (br_nf_pre_routing → nf_ip_checksum). A frame vxB decapsulated after verifying the outer is
// CHECKSUM_COMPLETE; the check verifies it and marks it UNNECESSARY, so tap2's reader sees
// DATA_VALID — measured on 6.18 with vxlan-bridge-port --set vxA.udpcsum=on --set
// vxB.outer-masquerade=on (kube-proxy's nat rule loads conntrack in host2).

@Suite struct BridgeNetfilterTests {
    private func syn(_ sets: [String]) throws -> LegTrace {
        let t = try with(loadShipped("vxlan-bridge-port").topology, sets)
        return try #require(leg(try run(t, flow: "request"), "request", "SYN"))
    }

    @Test func aVerifiedCompleteFrameLeavesTheBridgeUnnecessary() throws {
        let l = try syn(["vxA.udpcsum=on", "vxB.outer-masquerade=on"])
        let ct = try #require(l.steps.first { $0.event.kind == .bridgeConntrackCheck && $0.element == "br2" })
        guard case let .bridgeConntrackCheck(_, _, result, _, _) = ct.event else { Issue.record("\(ct.event)"); return }
        #expect(result == .validComplete)
        #expect(ct.before.skbState?.ipSummed == .complete && ct.after.skbState?.ipSummed == .unnecessary)
        // The inner TCP checksum it vouched for is right (naive reference).
        #expect(naiveL4Checksum(ct.frame) == UInt16(ct.frame[34 + 16]) << 8 | UInt16(ct.frame[34 + 17]))
        let tap2 = try #require(l.readerFrames.first { $0.node == "tap2" })
        #expect(tap2.vnet?.isDataValid == true)
    }

    /// Without conntrack in host2 the bridge checks nothing: skb_forward_csum turns the COMPLETE
    /// skb into NONE and tap2 gets flags 0 (the lab's description, measured).
    @Test func withoutConntrackTheBridgeChecksNothing() throws {
        let l = try syn(["vxA.udpcsum=on"])
        #expect(!l.steps.contains { $0.event.kind == .bridgeConntrackCheck })
        let tap2 = try #require(l.readerFrames.first { $0.node == "tap2" })
        #expect(tap2.vnet?.flags == 0)
    }
}
