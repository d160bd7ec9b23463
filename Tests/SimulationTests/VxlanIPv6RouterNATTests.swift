import Testing
import Simulation
import Wire
import TestSupport

// Outer NAT66 at an underlay router (#16, vxlan-ipv6-router-masquerade): the router's
// nf_nat_ipv6_manip_pkt → udp_manip_pkt → nf_nat_ipv6_csum_update calls
// inet_proto_csum_replace16(pseudohdr = true); on a PARTIAL skb that adds the address delta to the
// outer field as if it were a pending pseudo-header sum. Expected values from the naive
// reference: the fold of field + ~from + to over the eight 16-bit words of each address.
// Checked on 6.18 by `csumlab verify` (264 and 282 observables, 0 mismatched).

private func words(_ a: ArraySlice<UInt8>) -> [UInt16] {
    stride(from: a.startIndex, to: a.endIndex, by: 2).map { UInt16(a[$0]) << 8 | UInt16(a[$0 + 1]) }
}

@Suite struct VxlanIPv6RouterNATTests {
    private func query(_ sets: [String] = []) throws -> LegTrace {
        let t = try with(loadShipped("vxlan-ipv6-router-masquerade").topology, sets)
        return try #require(leg(try run(t, flow: "datagram"), "datagram", "query"))
    }

    @Test func theLCOOuterIsLeftWrongAndACompletingPathDropsIt() throws {
        let l = try query()
        let i = try #require(l.steps.firstIndex { $0.event.kind == .routerOuterMasquerade })
        let (before, nat) = (l.steps[i - 1], l.steps[i])
        guard case let .routerOuterMasquerade(to, zeroKept, pseudo) = nat.event else { Issue.record("\(nat.event)"); return }
        #expect(to == IPAddress("fd00:231:2::fe")! && !zeroKept && pseudo)
        #expect(nat.function.hasPrefix("nf_nat_ipv6_out") && nat.function.hasSuffix("inet_proto_csum_replace16"))
        // Before NAT the LCO outer is right for the completed packet.
        #expect(naiveOuterUDPField(before.frame) == naiveL4Checksum(naiveCompletingInner(before.frame, innerAt: 70)))
        let newSource = IPAddress("fd00:231:2::fe")!.bytes
        #expect(Array(nat.frame[22..<38]) == newSource)
        var expected = naiveFold([naiveOuterUDPField(before.frame)] + words(before.frame[22..<38]).map { ~$0 } + words(newSource[...]))
        if expected == 0 { expected = 0xFFFF }
        #expect(nat.l4Field == expected)
        #expect(nat.l4Field != naiveL4Checksum(naiveCompletingInner(nat.frame, innerAt: 70)))
        // wireB-r cannot checksum: the inner is filled in, the outer stays wrong, nodeB counts it.
        #expect(l.outcome == .droppedByReceiver(counter: "Udp6: InCsumErrors"))
        #expect(l.counters["nodeB"]?["Udp6: InCsumErrors"] == 1)
        let last = try #require(l.steps.last)
        #expect(last.inner?.field == naiveL4Checksum(Array(last.frame[70...])))
        #expect(last.l4Field != naiveL4Checksum(last.frame))
    }

    @Test func aVethReceiverTrustsThePartialSkbAndHidesIt() throws {
        let l = try query(["wireB.wireB-r.tx=on"])
        #expect(l.outcome == .accepted)
        #expect(l.counters["nodeB"]?["Udp6: InCsumErrors"] == nil)
        #expect(l.steps.contains { $0.condition == .flaggedButBad })
    }

    @Test func theUsersFixesAreFound() throws {
        let s = try FixSearch(loadShipped("vxlan-ipv6-router-masquerade").topology)
        let r = try #require(s.run(maxChanges: 2))
        let f = Set(r.fixes.map { Set($0.changes.map(\.assignment)) })
        #expect(f.contains(["vxA.tx=off"]))
        #expect(f.contains(["vxA.udp6zerocsumtx=on", "vxB.udp6zerocsumrx=on"]))
        // tx on at the router's egress works only because the wrong outer goes unchecked.
        let ranked = r.ranked(bitsPerSecond: 1e9)
        let txOn = try #require(ranked.firstIndex { $0.changes.map(\.assignment) == ["wireB.wireB-r.tx=on"] })
        #expect(!ranked[txOn].unchecked.isEmpty)
    }
}
