import Testing
import Simulation
import Wire
import TestSupport

// GRO on the receiving tunnel device (#16): vxlan_rcv → gro_cells_receive → napi_gro_receive →
// tcp4_gro_receive validates the inner checksum and merges the segments software tunnel GSO cut
// on the sender's underlay; tcp_gro_complete sends one super-frame up, CHECKSUM_PARTIAL with
// gso_size. Rules: assets/kernel-reference-notes.md, "Tunnel GRO" (6.13.7 source, measured on
// 6.18 with assets/measurements/vxlan/gro.sh). Expected values from the naive reference.

@Suite struct VxlanGROTests {
    private func dataLeg(_ lab: String = "vxlan-gro-merge", _ sets: [String] = []) throws -> LegTrace {
        let t = try with(loadShipped(lab).topology, sets)
        return try #require(leg(try run(t, flow: "request"), "request", "data nodeA→nodeB"))
    }

    @Test func theThreeTunnelSegmentsAreMergedIntoOneSuperFrame() throws {
        let l = try dataLeg()
        #expect(l.steps(.tunnelSegment).count == 3)
        let done = l.steps(.tunnelGROComplete)
        #expect(done.count == 1)
        let s = try #require(done.first)
        let f = s.frame
        // One frame with the whole payload: IP total length and TCP payload from the bytes.
        #expect(naiveTCPPayloadLength(f) == 4000)
        #expect(Int(f[16]) << 8 | Int(f[17]) == f.count - 14)
        #expect(naiveIPv4HeaderChecksum(f) == UInt16(f[24]) << 8 | UInt16(f[25]))
        // tcp4_gro_complete: th->check = ~tcp_v4_check(len, saddr, daddr, 0), the pseudo-header sum.
        let tcpField = UInt16(f[34 + 16]) << 8 | UInt16(f[34 + 17])
        #expect(tcpField == naivePseudoHeaderSum(f))
        let st = try #require(s.after.skbState)
        #expect(st.ipSummed == .partial && st.csumStart == 34 && st.csumOffset == 16)
        #expect(st.gsoSize == 1398 && st.gsoType == .tcpv4)
        // The receiver's TCP sees one segment (trusted: PARTIAL) and the application all the data.
        #expect(l.steps(.transportReceive).count == 1)
        #expect(l.outcome == .accepted)
        // The payload is the sender's super-frame's, in order.
        let superFrame = try sent(try run(loadShipped("vxlan-gro-merge").topology, flow: "request"), "request", "data nodeA→nodeB")
        #expect(Array(f[(f.count - 4000)...]) == Array(superFrame[(superFrame.count - 4000)...]))
    }

    @Test func eachSegmentEntersGROAndTheFirstTwoAreHeld() throws {
        let l = try dataLeg()
        let gro = l.steps(.tunnelGRO)
        #expect(gro.count == 3)
        let actions = gro.compactMap { s -> StepEvent.TunnelGRO.Action? in
            if case let .tunnelGRO(g) = s.event { return g.action }
            return nil
        }
        #expect(actions == [.held, .merged(count: 2), .merged(count: 3)])
        // The outer was verified in software (COMPLETE): GRO checks the inner with that sum, and
        // the state stays COMPLETE until tcp_gro_complete.
        #expect(gro.allSatisfy { $0.after.ipSummed == .complete })
        #expect(gro[0].event.function.contains("gro_cells_receive → napi_gro_receive"))
        #expect(gro[0].event.function.contains("tcp4_gro_receive"))
        #expect(l.steps(.tunnelGROComplete)[0].event.function.contains("tcp_gro_complete"))
    }

    @Test func groOffOnTheFarTunnelLeavesTheSegments() throws {
        let l = try dataLeg("vxlan-gro-off")
        #expect(l.steps(.tunnelGRO).isEmpty && l.steps(.tunnelGROComplete).isEmpty)
        #expect(l.steps(.transportReceive).count == 3)
        #expect(l.outcome == .accepted)
        // The same lab with `gro on` set merges again: the switch is the feature, nothing else.
        #expect(try dataLeg("vxlan-gro-off", ["vxB.gro=on"]).steps(.tunnelGROComplete).count == 1)
        #expect(try dataLeg("vxlan-gro-merge", ["vxB.gro=off"]).steps(.tunnelGROComplete).isEmpty)
    }

    @Test func segmentsCutBeforeTheTunnelAreMergedToo() throws {
        // tx-checksum-ip-generic off on vxA: validate_xmit_skb cuts the super-frame before
        // encapsulation (finished inner checksums); the three VXLAN packets come from one skb of
        // the sender and are merged at vxB (verified on 6.18: 144 observables, 0 mismatched).
        let l = try dataLeg("vxlan-gro-merge", ["vxA.tx-checksum-ip-generic=off"])
        #expect(l.steps(.gsoSegment).count == 3 && l.steps(.tunnelSegment).isEmpty)
        let done = try #require(l.step(.tunnelGROComplete))
        #expect(naiveTCPPayloadLength(done.frame) == 4000)
        #expect(l.steps(.transportReceive).count == 1 && l.outcome == .accepted)
    }

    @Test func aLoneSYNIsValidatedAndPassedUpUnmerged() throws {
        // A zero outer checksum: the inner arrives NONE (+ csum_valid from the outer check);
        // tcp4_gro_receive computes it and marks it CHECKSUM_UNNECESSARY; SYN flushes at once.
        let t = try with(loadShipped("vxlan-gro-merge").topology, ["vxA.udpcsum=off"])
        let syn = try #require(leg(try run(t, flow: "request"), "request", "SYN"))
        let g = try #require(syn.step(.tunnelGRO))
        guard case let .tunnelGRO(e) = g.event else { Issue.record("not a GRO step"); return }
        #expect(e.action == .passedUp(.flushFlag))
        #expect(g.before.ipSummed == IPSummed.none)
        #expect(g.after.ipSummed == .unnecessary)
        #expect(syn.steps(.tunnelGROComplete).isEmpty)
        #expect(syn.outcome == .accepted)
    }

    @Test func aGSOSuperFrameThatCrossesTheUnderlayWholePassesUpAsItIs() throws {
        // wireA with tx on keeps TSO and tunnel segmentation: the super-frame reaches nodeB whole,
        // PARTIAL; GRO has nothing to merge (NAPI_GRO_CB count = gso_segs) and leaves it PARTIAL.
        let l = try dataLeg("vxlan-gro-merge", ["wire.wireA.tx=on"])
        #expect(l.steps(.tunnelSegment).isEmpty)
        let g = try #require(l.step(.tunnelGRO))
        #expect(g.after.skbState?.ipSummed == .partial && g.after.skbState?.gsoSize == 1398)
        #expect(l.steps(.transportReceive).count == 1 && l.outcome == .accepted)
    }

    @Test func corruptedSegmentsAreNotMergedAndTheStackDropsThem() throws {
        // A bit flipped in every segment's inner payload on the underlay (the outer checksum is
        // zero, so nothing before GRO notices): GRO's check fails, each segment
        // goes up unmerged and TCP drops it.
        var t = try with(loadShipped("vxlan-gro-merge").topology, ["vxA.udpcsum=off"])
        t.flows[0].corruptAfter = Endpoint(node: "wire", interface: "wireA")
        let l = try #require(leg(try run(t, flow: "request"), "request", "data nodeA→nodeB"))
        let gro = l.steps(.tunnelGRO).compactMap { s -> StepEvent.TunnelGRO? in
            if case let .tunnelGRO(g) = s.event { return g }
            return nil
        }
        #expect(gro.count == 3)
        #expect(gro.allSatisfy { !$0.valid && $0.action == .passedUp(.checksumWrong) })
        #expect(l.steps(.tunnelGROComplete).isEmpty)
        #expect(l.outcome != .accepted)
    }
}
