import Testing
import Simulation
import Wire
import TestSupport

// An outer MASQUERADE over an IPv6 underlay (#16): nf_nat_ipv6_manip_pkt() → udp_manip_pkt() →
// inet_proto_csum_replace16()/2(), the same PARTIAL branch as over IPv4 (N1, N3). Expected
// checksums from the naive reference; the lab's outcomes checked by csumlab verify on 6.18
// (assets/kernel-reference-notes.md, "Outer MASQUERADE over IPv6").

private func ipv6Outer(innerPartial: Bool) throws -> VxlanEncapsulation {
    let b = PacketBuilder(sourceMAC: [2, 0, 0, 0, 1, 1], destinationMAC: [2, 0, 0, 0, 1, 2],
                          source: IPAddress("192.168.230.1")!, destination: IPAddress("192.168.230.2")!)
    let body = (0..<100).map { UInt8(truncatingIfNeeded: $0 &* 3 &+ 9) }
    let f = b.udp(sourcePort: 40000, destinationPort: 5000, payload: body, checksum: innerPartial ? .partial : .complete)
    let s = innerPartial ? SkbState(ipSummed: .partial, csumStart: 34, csumOffset: 6) : SkbState(ipSummed: .none)
    let v = VxlanSettings(vni: 42, local: IPAddress("fd00:230::1")!, remote: IPAddress("fd00:230::2")!, underlay: "u")
    return try Vxlan.encapsulate(inner: f, skb: s, settings: v, profile: .linux6, underlayIPv4Checksum: true,
                                 sourceMAC: [2, 0, 0, 0, 0, 1], destinationMAC: [2, 0, 0, 0, 0, 2], sourcePort: 33000)
}

private func field(_ b: [UInt8]) -> UInt16 { UInt16(b[60]) << 8 | UInt16(b[61]) }

@Suite struct VxlanIPv6OuterNATTests {
    /// A finished outer (skb not PARTIAL): address and port updated incrementally, still right.
    @Test func aFinishedOuterStaysRightThroughAnAddressAndPortChange() throws {
        let e = try ipv6Outer(innerPartial: false)
        var f = e.frame
        f.bytes.setBE16(naiveL4Checksum(f.bytes), at: 60)
        let (zero, pseudo) = Vxlan.natOuterSource(&f, skb: SkbState(ipSummed: .none), address: IPAddress("fd00:99::7")!, port: 61000, profile: .linux6)
        #expect(!zero && !pseudo)
        #expect(Array(f.bytes[22..<38]) == IPAddress("fd00:99::7")!.bytes && f.bytes.be16(at: 54) == 61000)
        #expect(field(f.bytes) == naiveL4Checksum(f.bytes))
    }

    /// The outer as the pending field (inner finished first): the PARTIAL branch keeps it the
    /// pseudo-header sum of the new header (the port is not in it).
    @Test func aPendingOuterFollowsTheNewPseudoHeader() throws {
        let e = try ipv6Outer(innerPartial: false)
        #expect(e.branch == .pending)
        var f = e.frame
        let (_, pseudo) = Vxlan.natOuterSource(&f, skb: e.skb, address: IPAddress("fd00:99::7")!, port: 61000, profile: .linux6)
        #expect(pseudo)
        #expect(field(f.bytes) == naivePseudoHeaderSum(f.bytes))
    }

    /// The LCO outer of a PARTIAL inner: right before, wrong after a port-only MASQUERADE.
    @Test func anLCOOuterIsLeftWrongByThePortChange() throws {
        let e = try ipv6Outer(innerPartial: true)
        #expect(e.branch == .lco)
        func completed(_ b: [UInt8]) -> [UInt8] {
            var g = b
            g[70 + 34 + 6] = 0; g[70 + 34 + 7] = 0
            let c = naiveL4Checksum(Array(g[70...]))
            g[70 + 34 + 6] = UInt8(c >> 8); g[70 + 34 + 7] = UInt8(c & 0xFF)
            return g
        }
        #expect(field(e.frame.bytes) == naiveL4Checksum(completed(e.frame.bytes)))
        var f = e.frame
        _ = Vxlan.natOuterSource(&f, skb: e.skb, address: IPAddress("fd00:230::1")!, port: 61000, profile: .linux6)
        #expect(field(f.bytes) != naiveL4Checksum(completed(f.bytes)))
    }
}

@Suite struct VxlanIPv6MasqueradeLabTests {
    private func query(_ sets: [String] = []) throws -> LegTrace {
        let t = try with(loadShipped("vxlan-ipv6-outer-masquerade").topology, sets)
        return try #require(leg(try run(t, flow: "datagram"), "datagram", "query"))
    }

    @Test func theBadOuterIsDroppedOnceTheInnerIsCompleted() throws {
        let l = try query()
        #expect(l.outcome == .droppedByReceiver(counter: "Udp6: InCsumErrors"))
        let nat = try #require(l.steps.first { $0.event.kind == .vxlanOuterMasquerade })
        guard case let .vxlanOuterMasquerade(_, zeroKept, pseudo, v6) = nat.event else { Issue.record("\(nat.event)"); return }
        #expect(!zeroKept && pseudo && v6)
    }

    @Test func theFixesPass() throws {
        #expect(try query(["vxA.tx-checksum-ip-generic=off"]).outcome == .accepted)
        let zero = try query(["vxA.udp6zerocsumtx=on", "vxB.udp6zerocsumrx=on"])
        #expect(zero.outcome == .accepted)
        #expect(zero.steps.first { $0.event.kind == .vxlanOuterMasquerade }?.l4Field == 0)
        // The zero outer alone: NAT keeps it, the receiver refuses it.
        #expect(try query(["vxA.udp6zerocsumtx=on"]).outcome == .droppedByReceiver(counter: "Udp6: InCsumErrors"))
    }
}
