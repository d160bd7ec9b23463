import Testing
import Simulation
import Wire
import TestSupport

/// The linear part of an skb that GRO on a veth end validated and merged (random campaign seed
/// 20261220, session 14): `__skb_incr_checksum_unnecessary()` changes `ip_summed` alone, and
/// `skb_gro_receive()` keeps the first segment's head, so a TAP reading the merged skb reports
/// `hdr_len = skb_headlen()` — the first segment whole when it was cut for a device without
/// scatter-gather. The model had rebuilt the validated segment's state and lost its head.
@Suite struct GROHeadLengthTests {
    /// mtu-jumbo-router, vm2's data back through vethB (tx, sg off: linear, complete segments),
    /// merged by GRO on vethB-r and read at tap1: the kernel's hdr_len was 1514 (14 + 20 + 32 +
    /// 1448) for `bulk` and 1514 (14 + 20 + 20 + 1460) for `bulk-no-timestamps` (`csumlab verify
    /// topologies/mtu-jumbo-router.yaml` with the sets below, 1119 compared, 0 mismatched).
    @Test(arguments: [("bulk", "data vm2→vm1", "tap1"), ("bulk-no-timestamps", "data vm2→vm3", "tap3")])
    func mergedSegmentsKeepTheFirstOnesHead(flow: String, legName: String, tap: String) throws {
        let sets = ["vethA.vethA.tx=on", "vethB.vethB.tx=off", "vethB.vethB.rx=off", "vethB.vethB.sg=off",
                    "vethB.vethB-r.tx=off", "vethB.vethB-r.tso=off", "vethB.vethB-r.gso=on", "vethB.vethB-r.gro=on",
                    "vethB.vethB-r.sg=on", "router.conntrack-checksum=on"]
        let t = try with(loadShipped("mtu-jumbo-router").topology, sets)
        let l = try #require(leg(try run(t, flow: flow), flow, legName))
        let read = try #require(l.readerFrames.first { $0.node == tap })
        #expect(read.vnet?.gsoType != 0)
        #expect(read.vnet?.hdrLen == 1514)
    }
}

/// Software segmentation copies the head's `headers` group to every segment
/// (`__copy_skb_header()`): `csum_valid` and `csum_level` come with it, so a reader's ring still
/// reports TP_STATUS_CSUM_VALID for segments of an skb a software check vouched for (random
/// campaign seed 20261222, session 14: the kernel said CSUM_VALID at vethC-c, the model 0).
@Suite struct SegmentsKeepTheHeadsChecksumMarksTests {
    /// vxlan-gro-after-decap, the server's answer: vxA's outer check marks the decapsulated skb
    /// csum_valid, its GRO merges the segments, and vethC (tx and sg off) cuts them again in
    /// software: every segment keeps the mark (measured: `csumlab verify
    /// topologies/vxlan-gro-after-decap.yaml` with the sets below, 412 compared, 0 mismatched).
    @Test func segmentsCutInSoftwareKeepCsumValid() throws {
        let sets = ["vethC.vethC-c.gso=off", "vethC.vethC.tx=off", "vethC.vethC.rx=on", "vethC.vethC.gro=off", "vethC.vethC.sg=off",
                    "vethS.vethS.tx=on", "vethS.vethS.tso=off", "vethS.vethS-s.tx=on", "vethS.vethS-s.tso=off", "vethS.vethS-s.gro=off",
                    "vethS.vethS-s.sg=on", "vxB.sg=off", "wire.wireB.tx=on", "wire.wireB.rx=on"]
        let t = try with(loadShipped("vxlan-gro-after-decap").topology, sets)
        let l = try #require(leg(try run(t, flow: "request"), "request", "data server→client"))
        let cuts = l.steps.filter { $0.event.kind == .gsoSegment && $0.element == "vethC" }
        #expect(cuts.count == 3)
        for c in cuts {
            #expect(c.before.skbState?.csumValid == true)
            #expect(c.after.skbState?.ipSummed == IPSummed.none && c.after.skbState?.csumValid == true)
        }
    }
}
