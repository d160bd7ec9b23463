import Testing
import Simulation
import Wire
import TestSupport

// Outer NAT at an underlay router (#16): a netns router's MASQUERADE of a tunnelled packet's outer
// header follows udp_manip_pkt() (N1 6.x: a zero field stays zero; N2 4.4: a zero field of a
// PARTIAL skb is updated) and inet_proto_csum_replace4() (N3: the PARTIAL branch adds the address
// delta to an LCO outer as if it were a pending pseudo-header sum). Expected values from the naive
// reference: the PARTIAL branch is `~csum_fold(csum_add(csum_sub(field, from), to))`, i.e. the
// plain fold of field + ~from + to.

private func words32(_ a: [UInt8]) -> [UInt16] { [UInt16(a[0]) << 8 | UInt16(a[1]), UInt16(a[2]) << 8 | UInt16(a[3])] }

/// The PARTIAL branch of inet_proto_csum_replace4(pseudohdr = true), then CSUM_MANGLED_0.
private func partialBranch(field: UInt16, from: [UInt8], to: [UInt8]) -> UInt16 {
    let r = naiveFold([field] + words32(from).map { ~$0 } + words32(to))
    return r == 0 ? 0xFFFF : r
}

@Suite struct VxlanRouterNATTests {
    private func query(_ lab: String, _ sets: [String] = []) throws -> LegTrace {
        let t = try with(loadShipped(lab).topology, sets)
        return try #require(leg(try run(t, flow: "datagram"), "datagram", "query"))
    }

    private func natStep(_ l: LegTrace) throws -> (before: Step, nat: Step) {
        let i = try #require(l.steps.firstIndex { $0.event.kind == .routerOuterMasquerade })
        return (l.steps[i - 1], l.steps[i])
    }

    @Test func anLCOOuterIsLeftWrongAndAVethReceiverAcceptsIt() throws {
        let l = try query("vxlan-router-masquerade")
        #expect(l.outcome == .accepted)
        let (before, nat) = try natStep(l)
        guard case let .routerOuterMasquerade(to, zeroKept, pseudo) = nat.event else { Issue.record("\(nat.event)"); return }
        #expect(to == IPAddress("10.201.2.1")! && !zeroKept && pseudo)
        // Before NAT the LCO outer is right for the completed packet; after, the address delta
        // was added with the pseudo-header sign.
        #expect(naiveOuterUDPField(before.frame) == naiveL4Checksum(naiveCompletingInner(before.frame, innerAt: 50)))
        #expect(Array(nat.frame[26..<30]) == [10, 201, 2, 1])
        #expect(nat.l4Field == partialBranch(field: naiveOuterUDPField(before.frame), from: Array(before.frame[26..<30]), to: [10, 201, 2, 1]))
        #expect(nat.l4Field != naiveL4Checksum(naiveCompletingInner(nat.frame, innerAt: 50)))
        // nodeB trusts the PARTIAL skb (veth): no counter.
        #expect(l.counters["nodeB"]?["Udp: InCsumErrors"] == nil)
    }

    @Test func aCompletingReceiverPathDropsIt() throws {
        let l = try query("vxlan-router-masquerade-tx-off")
        #expect(l.outcome == .droppedByReceiver(counter: "Udp: InCsumErrors"))
        #expect(l.counters["nodeB"]?["Udp: InCsumErrors"] == 1)
        let last = try #require(l.steps.last)
        #expect(last.event.kind == .vxlanOuterReceive)
        #expect(last.inner?.field == naiveL4Checksum(Array(last.frame[50...])))
        #expect(last.l4Field != naiveL4Checksum(last.frame))
    }

    @Test func linux6KeepsAZeroOuterZeroAtTheRouter() throws {
        let l = try query("vxlan-router-masquerade-tx-off", ["vxA.udpcsum=off"])
        let (_, nat) = try natStep(l)
        guard case let .routerOuterMasquerade(_, zeroKept, _) = nat.event else { Issue.record("\(nat.event)"); return }
        #expect(zeroKept && nat.l4Field == 0)
        #expect(l.outcome == .accepted)
    }

    @Test func linux44UpdatesAZeroOuterOfAPartialSkb() throws {
        let l = try query("vxlan-router-masquerade-tx-off", ["kernel=linux-4.4", "vxA.udpcsum=off"])
        let (before, nat) = try natStep(l)
        #expect(naiveOuterUDPField(before.frame) == 0)
        guard case let .routerOuterMasquerade(_, zeroKept, pseudo) = nat.event else { Issue.record("\(nat.event)"); return }
        #expect(!zeroKept && pseudo)
        #expect(nat.l4Field == partialBranch(field: 0, from: Array(before.frame[26..<30]), to: [10, 201, 2, 1]))
        #expect(l.outcome == .droppedByReceiver(counter: "Udp: InCsumErrors"))
    }

    @Test func theFarEndpointsPacketsAreNoTupleClash() throws {
        let tr = try run(loadShipped("vxlan-router-masquerade").topology, flow: "datagram")
        let r = try #require(leg(tr, "datagram", "response"))
        #expect(r.outcome == .accepted)
        #expect(!r.steps.contains { $0.event.kind == .natTupleClash })
    }

    /// MASQUERADE on the far side's interface (`router.masquerade=eth0`): nodeB's outer packets
    /// come from its own hashed source port to 4789, a 5-tuple no entry of nodeA's outer packets
    /// has in either direction, so conntrack makes a connection of their own and the rule
    /// translates them — their LCO outer is left wrong, as the kernel does (`csumlab verify …
    /// --set router.masquerade=eth0` on 6.18: the response's outer at wireA-r is "wrong"; a
    /// model with one entry per router took them for replies and did not translate them).
    @Test func theFarEndpointsOuterPacketsAreAConnectionOfTheirOwn() throws {
        let t = try with(loadShipped("vxlan-router-masquerade").topology, ["router.masquerade=eth0"])
        let tr = try run(t, flow: "datagram")
        let q = try #require(leg(tr, "datagram", "query"))
        let r = try #require(leg(tr, "datagram", "response"))
        // nodeA's query leaves by eth1: not translated now.
        #expect(!q.steps.contains { $0.event.kind == .routerOuterMasquerade })
        let (before, nat) = try natStep(r)
        guard case let .routerOuterMasquerade(to, _, pseudo) = nat.event else { Issue.record("\(nat.event)"); return }
        #expect(to == IPAddress("10.201.1.1")! && pseudo)
        // Two different source ports: the outer packets of the two directions are two tuples.
        let qOuter = try #require(q.steps.first { $0.event.kind == .vxlanEncap })
        let rOuter = try #require(r.steps.first { $0.event.kind == .vxlanEncap })
        #expect(qOuter.frame.be16(at: 34) != rOuter.frame.be16(at: 36) || qOuter.frame.be16(at: 36) != rOuter.frame.be16(at: 34))
        #expect(nat.l4Field == partialBranch(field: naiveOuterUDPField(before.frame), from: Array(before.frame[26..<30]), to: [10, 201, 1, 1]))
        #expect(nat.l4Field != naiveL4Checksum(naiveCompletingInner(nat.frame, innerAt: 50)))
        #expect(!r.steps.contains { $0.event.kind == .natTupleClash })
    }
}
