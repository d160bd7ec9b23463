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

    /// One way a GSO skb's head gets linear, on vxlan-bridge-port, with the `hdr_len` the real
    /// kernel gave each direction's receiver (tap2 for vm1→vm2, tap1 for vm2→vm1).
    struct Case: Sendable, CustomTestStringConvertible {
        var sets: [String]
        var toVM2: UInt16
        var toVM1: UInt16
        /// The step kind that cuts the linear segments, and where.
        var cut: (kind: StepEvent.Kind, at: String, leg: String)
        var testDescription: String { sets.joined(separator: " ") }
    }

    static let cases: [Case] = [
        // skb_segment() without scatter-gather builds each segment linear; GRO on the far tunnel
        // device keeps the first one's head: hdr_len = the whole first segment (14 + 20 + 32 +
        // 1398 = 1464), not the headers (66). The other direction, cut with SG, keeps 66.
        Case(sets: ["vxA.sg=off"], toVM2: 1464, toVM1: 66, cut: (.gsoSegment, "vxA", "data vm1→vm2")),
        // validate_xmit_skb() → skb_needs_linearize(): segments cut with SG on vxB are paged, and
        // wireB without SG pulls each into the linear part.
        Case(sets: ["vxB.tso=off", "wire.wireB.sg=off"], toVM2: 66, toVM1: 1464, cut: (.gsoSegment, "vxB", "data vm2→vm1")),
        // A tunnelled super-frame cut by the underlay's tunnel GSO (__skb_udp_tunnel_segment() →
        // skb_segment()) on wireB without SG (seed 20261210 run 33, reduced).
        Case(sets: ["wire.wireB.sg=off"], toVM2: 66, toVM1: 1464, cut: (.tunnelSegment, "wire", "data vm2→vm1")),
    ]

    @Test(arguments: cases)
    func linearSegmentsGiveTheirWholeLengthAsHdrLen(_ c: Case) throws {
        let tr = try run(with(loadShipped("vxlan-bridge-port").topology, c.sets), flow: "request")
        let cutLeg = try #require(leg(tr, "request", c.cut.leg))
        #expect(cutLeg.steps.contains { $0.event.kind == c.cut.kind && $0.element == c.cut.at })
        let there = try Self.tapHeader(tr, flow: "request", leg: "data vm1→vm2", tap: "tap2")
        let back = try Self.tapHeader(tr, flow: "request", leg: "data vm2→vm1", tap: "tap1")
        #expect(there.isGSO && back.isGSO)
        #expect(there.hdrLen == c.toVM2 && back.hdrLen == c.toVM1)
    }

    /// Segments a guest cut are separate TAP writes: each is run through the host and its GRO
    /// poll flushed before the next, so host2's vxB passes up three frames, never one merged
    /// super-frame (6.18: three frames of 1464, 1464 and 1270 bytes on vxB's ring).
    @Test func segmentsWrittenSeparatelyAreNotMergedAgain() throws {
        let t = try with(loadShipped("vxlan-in-vm").topology, ["vxA.tso=off"])
        let tr = try run(t, flow: "request")
        let l = try #require(leg(tr, "request", "data vm1→host2"))
        #expect(!l.steps.contains { if case let .tunnelGROComplete(_, n, _, _, _) = $0.event { n > 1 } else { false } })
        let delivered = l.steps.filter { $0.element == "host2" && $0.direction == .deliver }
        #expect(delivered.map(\.frame.count) == [1464, 1464, 1270])
    }
}
