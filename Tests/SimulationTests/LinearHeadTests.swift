import Testing
@testable import Simulation
import Wire

/// How much of an skb is linear (`skb_headlen()`), which a GSO skb hands to a TAP reader as the
/// virtio `hdr_len`, and where GRO may merge segments again. The expected values are the real
/// kernel's (6.18, `csumlab verify` on these labs and settings: receiver `gso type/size/hdr_len`
/// and the frames read on the far tunnel device), found by the randomized tunnel campaign
/// (seed 20261209).
@Suite struct LinearHeadTests {
    /// The virtio header `tun_put_user()` writes for `legName` at `tap`.
    static func tapHeader(_ tr: Trace, flow: String, leg legName: String, tap: String) throws -> VirtioNetHeader {
        let l = try #require(leg(tr, flow, legName))
        let st = try #require(l.steps.last { $0.element == tap && $0.event.kind == .tunPutUser })
        guard case let .tunPutUser(vnet?, _) = st.event else { throw Unexpected(what: "\(tap) wrote no vnet header") }
        return vnet
    }

    struct Unexpected: Error { var what: String }

    /// `skb_segment()` without scatter-gather builds each segment linear; GRO on the far tunnel
    /// device keeps the first one's head, so tap2's reader gets hdr_len = the whole first
    /// segment (14 + 20 + 32 + 1398 = 1464), not the headers (66). The other direction, cut
    /// with SG on vxB, keeps 66.
    @Test func segmentsCutWithoutSGAreLinear() throws {
        let t = try with(loadShipped("vxlan-bridge-port").topology, ["vxA.sg=off"])
        let tr = try run(t, flow: "request")
        let there = try Self.tapHeader(tr, flow: "request", leg: "data vm1→vm2", tap: "tap2")
        #expect(there.isGSO && there.hdrLen == 1464)
        let back = try Self.tapHeader(tr, flow: "request", leg: "data vm2→vm1", tap: "tap1")
        #expect(back.isGSO && back.hdrLen == 66)
    }

    /// `validate_xmit_skb()` → `skb_needs_linearize()`: segments cut with SG on vxB are paged,
    /// and wireB without SG pulls each into the linear part; merged again on vxA, tap1's reader
    /// gets hdr_len 1464.
    @Test func aDeviceWithoutSGLinearizes() throws {
        let t = try with(loadShipped("vxlan-bridge-port").topology, ["vxB.tso=off", "wire.wireB.sg=off"])
        let tr = try run(t, flow: "request")
        let back = try Self.tapHeader(tr, flow: "request", leg: "data vm2→vm1", tap: "tap1")
        #expect(back.isGSO && back.hdrLen == 1464)
        let there = try Self.tapHeader(tr, flow: "request", leg: "data vm1→vm2", tap: "tap2")
        #expect(there.isGSO && there.hdrLen == 66)
    }

    /// A tunnelled super-frame cut by the underlay's tunnel GSO (`__skb_udp_tunnel_segment()` →
    /// `skb_segment()`) on wireB without SG: linear segments again, hdr_len 1464 at tap1 after
    /// vxA's GRO (6.18, seed 20261210 run 33 reduced).
    @Test func tunnelSegmentsCutWithoutSGAreLinear() throws {
        let t = try with(loadShipped("vxlan-bridge-port").topology, ["wire.wireB.sg=off"])
        let tr = try run(t, flow: "request")
        let l = try #require(leg(tr, "request", "data vm2→vm1"))
        #expect(l.steps.contains { $0.event.kind == .tunnelSegment && $0.element == "wire" })
        let back = try Self.tapHeader(tr, flow: "request", leg: "data vm2→vm1", tap: "tap1")
        #expect(back.isGSO && back.hdrLen == 1464)
        let there = try Self.tapHeader(tr, flow: "request", leg: "data vm1→vm2", tap: "tap2")
        #expect(there.isGSO && there.hdrLen == 66)
    }

    /// Segments a guest cut are separate TAP writes: each is run through the host and its GRO
    /// poll flushed before the next, so host2's vxB passes up three frames, never one merged
    /// super-frame (6.18: three frames of 1464, 1464 and 1270 bytes on vxB's ring).
    @Test func segmentsWrittenSeparatelyAreNotMergedAgain() throws {
        let t = try with(loadShipped("vxlan-in-vm").topology, ["vxA.tso=off"])
        let tr = try run(t, flow: "request")
        let l = try #require(leg(tr, "request", "data vm1→host2"))
        #expect(!l.steps.contains { if case let .tunnelGROComplete(_, n, _, _) = $0.event { n > 1 } else { false } })
        let delivered = l.steps.filter { $0.element == "host2" && $0.direction == .deliver }
        #expect(delivered.map(\.frame.count) == [1464, 1464, 1270])
    }
}
