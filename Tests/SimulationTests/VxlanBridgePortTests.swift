import Testing
import Simulation
import Wire
import TestSupport

// A vxlan device as a bridge port (#16): VM → TAP → bridge → vxlan → underlay, and back:
// underlay → vxlan (decap, tunnel GRO) → bridge (br_handle_frame, the port's rx_handler) → TAP.
// What the far TAP writes is tun_put_user → virtio_net_hdr_from_skb of the skb the bridge
// forwards: after GRO a merged super-frame is CHECKSUM_PARTIAL + SKB_GSO_TCPV4 (NEEDS_CSUM +
// GSO_TCPV4), a validated single segment CHECKSUM_UNNECESSARY (DATA_VALID), and with `gro off`
// each segment as it was cut (assets/kernel-reference-notes.md, "Tunnel GRO", "VXLAN bridge
// ports"). Checksums from the naive reference.

@Suite struct VxlanBridgePortTests {
    private func trace(_ sets: [String] = []) throws -> Trace {
        try run(try with(loadShipped("vxlan-bridge-port").topology, sets), flow: "request")
    }

    /// The vnet headers tap2 writes on leg `name` (tun_put_user).
    private func tap2Headers(_ tr: Trace, _ name: String) throws -> [(VirtioNetHeader, [UInt8])] {
        let l = try #require(leg(tr, "request", name))
        return l.steps(.tunPutUser).filter { $0.element == "tap2" }.compactMap { s in
            if case let .tunPutUser(vnet?, _) = s.event { return (vnet, s.frame) }
            return nil
        }
    }

    /// The TCP field of an IPv4 frame equals the checksum the naive reference computes.
    private func fieldIsCorrect(_ f: [UInt8]) -> Bool {
        let l4 = 14 + Int(f[14] & 0xF) * 4
        return UInt16(f[l4 + 16]) << 8 | UInt16(f[l4 + 17]) == naiveL4Checksum(f)
    }

    @Test func theMergedSuperFrameReachesTheFarTAPAsOneGSOFrame() throws {
        let tr = try trace()
        let got = try tap2Headers(tr, "data vm1→vm2")
        #expect(got.count == 1)
        let (h, f) = try #require(got.first)
        #expect(h.needsChecksum && !h.isDataValid)
        #expect(h.gsoType == VirtioNetHeader.GSOType.tcpv4.rawValue && h.gsoSize == 1398)
        #expect(h.csumStart == 34 && h.csumOffset == 16)
        // One frame with the whole payload; the TCP field holds the pseudo-header sum (the guest
        // or its device finishes it), the IP header is valid for the new length.
        #expect(naiveTCPPayloadLength(f) == 4000)
        #expect(UInt16(f[50]) << 8 | UInt16(f[51]) == naivePseudoHeaderSum(f))
        #expect(naiveIPv4HeaderChecksum(f) == UInt16(f[24]) << 8 | UInt16(f[25]))
        let l = try #require(leg(tr, "request", "data vm1→vm2"))
        // The path: bridge into the vxlan device's xmit, software tunnel GSO on the underlay,
        // GRO on vxB, then br2 forwards the decapsulated frame to tap2.
        #expect(l.steps(.tunnelSegment).count == 3)
        #expect(l.steps(.tunnelGROComplete).count == 1)
        let fwd = l.steps(.bridgeForward).map(\.element)
        #expect(fwd == ["br1", "br2"])
        #expect(l.outcome == .accepted)
    }

    @Test func aSingleValidatedSegmentGetsDataValid() throws {
        // The SYN: completed on wireA (tx off), a zero outer checksum; GRO on vxB validates the
        // NONE inner (CHECKSUM_UNNECESSARY) and flushes it (SYN); the bridge keeps the mark.
        let got = try tap2Headers(try trace(), "SYN")
        #expect(got.count == 1)
        let (h, f) = try #require(got.first)
        #expect(h.isDataValid && !h.needsChecksum && !h.isGSO)
        #expect(fieldIsCorrect(f))
    }

    @Test func anOuterVerifiedInSoftwareLeavesFlagsZero() throws {
        // udpcsum on: host2 verifies the outer (CHECKSUM_COMPLETE), GRO keeps COMPLETE, and
        // br2's skb_forward_csum makes it NONE: tun_put_user writes flags 0.
        let got = try tap2Headers(try trace(["vxA.udpcsum=on", "vxB.udpcsum=on"]), "SYN")
        let (h, f) = try #require(got.first)
        #expect(h.flags == 0 && !h.isGSO)
        #expect(fieldIsCorrect(f))
    }

    @Test func groOffOnTheFarDeviceLeavesEachSegmentAsItWasCut() throws {
        let tr = try trace(["vxB.gro=off"])
        let got = try tap2Headers(tr, "data vm1→vm2")
        #expect(got.count == 3)
        #expect(got.allSatisfy { $0.0.flags == 0 && !$0.0.isGSO && fieldIsCorrect($0.1) })
        #expect(got.map { naiveTCPPayloadLength($0.1) } == [1398, 1398, 1204])
        #expect(try #require(leg(tr, "request", "data vm1→vm2")).outcome == .accepted)
    }

    @Test func theOtherWayThePendingInnerCrossesUnfinished() throws {
        // vm2's super-frame: wireB keeps TSO, so it crosses the veth whole and PARTIAL; GRO has
        // nothing to merge and tap1 gets the GSO frame back with NEEDS_CSUM.
        let l = try #require(leg(try trace(), "request", "data vm2→vm1"))
        let s = try #require(l.steps(.tunPutUser).first { $0.element == "tap1" })
        guard case let .tunPutUser(h?, _) = s.event else { Issue.record("no vnet header"); return }
        #expect(h.needsChecksum && h.gsoType == VirtioNetHeader.GSOType.tcpv4.rawValue)
    }
}
