import Testing
import Simulation
import Wire
import TestSupport

// A vxlan device inside a VM (#16): the guest's underlay is its virtio NIC, which has no
// hw_enc_features in 6.13.7 (register_netdevice() gives SG | GSO_PARTIAL only), so the guest
// finishes every inner checksum and cuts tunnel GSO itself; only the outer UDP checksum can leave
// as NEEDS_CSUM. The other way, a tunnelled GSO skb leaving by the host's TAP (no
// TUN_F_UDP_TUNNEL_GSO) is cut there with the inner kept pending (measured on 6.18: verify of
// vxlan-in-vm, 248 compared, 0 mismatched). Notes: "A vxlan device inside a VM".

@Suite struct VxlanInVMTests {
    private func legNamed(_ name: String) throws -> LegTrace {
        let tr = try run(loadShipped("vxlan-in-vm").topology, flow: "request")
        return try #require(leg(tr, "request", name))
    }

    /// The virtio headers vm1's NIC writes (start_xmit → virtio_net_hdr_from_skb).
    private func guestHeaders(_ l: LegTrace) -> [(VirtioNetHeader, [UInt8])] {
        l.steps(.virtioXmit).compactMap { s in
            if case let .virtioXmit(h) = s.event { return (h, s.frame) }
            return nil
        }
    }

    /// The L4 field at `l4` of an IPv4 frame whose IP header starts at `l3` equals the naive checksum.
    private func innerCorrect(_ f: [UInt8]) -> Bool {
        let inner = Array(f[50...])
        let l4 = 14 + Int(inner[14] & 0xF) * 4
        return UInt16(inner[l4 + 16]) << 8 | UInt16(inner[l4 + 17]) == naiveL4Checksum(inner)
    }

    @Test func theGuestsInterfaceIsTheTunnelDeviceNotANIC() throws {
        let t = try loadShipped("vxlan-in-vm").topology
        let net = Network(t)
        #expect(net.device(named: "vm1:vx") == nil)
        let vx = try #require(net.device(named: "vxA"))
        #expect(net.tunnelNode(vx) == t.nodeIndex(named: "vm1") && net.devices[vx].kind != .virtio)
        #expect(net.device(named: "vm1:eth0").map { net.devices[$0].kind } == .virtio)
    }

    @Test func theGuestCutsTunnelGSOAndFinishesEveryInner() throws {
        let l = try legNamed("data vm1→host2")
        #expect(l.steps(.tunnelSegment).count == 3)
        let hs = guestHeaders(l)
        #expect(hs.count == 3)
        for (h, f) in hs {
            // No tunnel GSO type in 6.13.7's virtio_net_hdr_from_skb: the NIC sees plain segments,
            // the outer UDP field (34 + 6) pending, holding the outer pseudo-header sum.
            #expect(!h.isGSO && h.needsChecksum && h.csumStart == 34 && h.csumOffset == 6)
            #expect(UInt16(f[40]) << 8 | UInt16(f[41]) == naivePseudoHeaderSum(f))
            #expect(innerCorrect(f))
        }
        #expect(hs.map { naiveTCPPayloadLength(Array($0.1[50...])) } == [1398, 1398, 1204])
    }

    @Test func eachGuestSegmentIsItsOwnSkbOnTheHost() throws {
        // Three TAP writes, three NAPI polls at host2's vxB: validated, never merged.
        let l = try legNamed("data vm1→host2")
        #expect(l.steps(.tunnelGRO).count == 3)
        // Each held segment goes up alone at the end of its poll (napi_gro_complete, count 1).
        let done = l.steps(.tunnelGROComplete).compactMap { s -> Int? in
            if case let .tunnelGROComplete(_, n, _, _, _) = s.event { return n }
            return nil
        }
        #expect(done.allSatisfy { $0 == 1 })
        #expect(l.steps(.transportReceive).count == 3 && l.outcome == .accepted)
    }

    @Test func aPendingInnerIsFinishedBeforeTheGuestNIC() throws {
        // The SYN: LCO outer, inner pending; skb_checksum_help in validate_xmit_skb finishes the
        // inner (no checksum in hw_enc_features), both are then valid: flags 0.
        let l = try legNamed("SYN")
        #expect(l.steps(.checksumHelp).count == 1)
        let (h, f) = try #require(guestHeaders(l).first)
        #expect(h.flags == 0 && !h.isGSO)
        #expect(innerCorrect(f))
        #expect(UInt16(f[40]) << 8 | UInt16(f[41]) == naiveL4Checksum(f))
    }

    @Test(arguments: ["tap1.tx=off", "tap1.tso=off"])
    func aTAPThatCannotTakeItCutsItAsATunnel(_ set: String) throws {
        // Once crashed: the super-frame was cut as plain TCP from the outer UDP header.
        let tr = try run(with(loadShipped("vxlan-in-vm").topology, [set]), flow: "request")
        let l = try #require(leg(tr, "request", "data host2→vm1"))
        let outs = l.steps(.tunPutUser).filter { $0.element == "tap1" }.compactMap { s -> (VirtioNetHeader, [UInt8])? in
            if case let .tunPutUser(h?, _) = s.event { return (h, s.frame) }
            return nil
        }
        #expect(outs.count == 3)
        #expect(outs.allSatisfy { !$0.0.isGSO })
        if set == "tap1.tx=off" {
            // No checksum on the TAP: inner and outer finished in software, flags 0.
            #expect(outs.allSatisfy { $0.0.flags == 0 && innerCorrect($0.1) && UInt16($0.1[40]) << 8 | UInt16($0.1[41]) == naiveL4Checksum($0.1) })
        }
    }

    @Test func aTunnelledGSOSkbLeavingByATAPIsCutWithTheInnerPending() throws {
        let l = try legNamed("data host2→vm1")
        let outs = l.steps(.tunPutUser).filter { $0.element == "tap1" }.compactMap { s -> VirtioNetHeader? in
            if case let .tunPutUser(h?, _) = s.event { return h }
            return nil
        }
        #expect(outs.count == 3)
        #expect(outs.allSatisfy { $0.needsChecksum && !$0.isGSO && $0.csumStart == 84 && $0.csumOffset == 16 })
        #expect(l.outcome == .accepted)
    }
}
