import Testing
@testable import Simulation
import Wire
import TestSupport

/// Two router rules the random campaign of seed 20261228 (session 15, `--netfilter --bridges` on
/// mtu-jumbo-router) found, each measured on 6.18.44 with the `csumlab verify` line in its test.
@Suite struct RouterConntrackConfirmTests {
    /// A conntrack entry is confirmed only when its first packet leaves the router
    /// (`nf_conntrack_confirm()` at POSTROUTING): big-datagram's query (4028 bytes with DF) is
    /// dropped at ip_forward for eth1's 1500-byte MTU, its entry with it, so vm2's answer starts
    /// a new connection and `router.masquerade=eth0` translates it — the kernel delivered it to
    /// vm1 from 10.0.1.1 (`csumlab verify topologies/mtu-jumbo-router.yaml --set
    /// router.masquerade=eth0 …`, run 70: 12 mismatched before, 0 after). The model had kept the
    /// entry and taken the answer for its reply.
    @Test func anEntryWhosePacketIsDroppedIsNotKept() throws {
        let t = try with(loadShipped("mtu-jumbo-router").topology, ["router.masquerade=eth0"])
        let tr = try run(t, flow: "big-datagram")
        let query = try #require(leg(tr, "big-datagram", "query"))
        #expect(query.steps.contains { $0.event.kind == .exceedsMTU })
        let response = try #require(leg(tr, "big-datagram", "response"))
        let nat = try #require(response.steps.first { $0.event.kind == .masquerade })
        let f = Frame(bytes: nat.frame)
        let l = try f.layout()
        #expect(IPAddress(bytes: f.sourceAddress(l)) == IPAddress("10.0.1.1"))
        // A query that leaves (fits the MTU) keeps its entry: the answer is its reply, not NATed.
        let small = try #require(leg(try run(t, flow: "fragments-cut-again"), "fragments-cut-again", "response"))
        #expect(!small.steps.contains { $0.event.kind == .masquerade })
    }

    /// A datagram conntrack reassembled (and verified: `csum_valid`) and the router cuts again
    /// for a smaller MTU leaves in new skbs (`ip_do_fragment()`'s slow path: `ip_frag_next()` →
    /// `alloc_skb()`, `ip_copy_metadata()` copies no checksum state): CHECKSUM_NONE without
    /// csum_valid, so vethB's ring reports no TP_STATUS_CSUM_VALID (the kernel's 0, run 32 of the
    /// campaign: `--set router.masquerade=eth1 …`, 1 mismatched before, 0 after).
    @Test func fragmentsCutAgainAreNewSkbs() throws {
        let t = try with(loadShipped("mtu-jumbo-router").topology, ["router.masquerade=eth1"])
        let query = try #require(leg(try run(t, flow: "fragments-cut-again"), "fragments-cut-again", "query"))
        let checked = try #require(query.steps.first { $0.event.kind == .conntrackCheck })
        #expect(checked.after.skbState?.csumValid == true)
        let cut = try #require(query.steps.first { $0.event.kind == .ipFragmentAgain })
        #expect(cut.after.skbState?.csumValid == false && cut.after.skbState?.ipSummed == IPSummed.none)
        #expect(cut.before.skbState?.csumValid == true)
    }
}
