import Testing
import Simulation
import Wire
import TestSupport

// GENEVE (#16), modelled from 6.13.7 drivers/net/geneve.c (not measured: no driver here):
// geneve_build_header (ver 0, no options, proto_type ETH_P_TEB, VNI), port 6081, and
// geneve_nl2info's checksum flag — set by `udpcsum` or an IPv6 remote, never cleared by
// `noudpcsum`, cleared by `udp6zerocsumtx` (T6); 4.4 has no attribute (T12). Expected values from
// the naive reference.

private func inner() -> (Frame, SkbState) {
    let b = PacketBuilder(sourceMAC: [2, 0, 0, 0, 1, 1], destinationMAC: [2, 0, 0, 0, 1, 2],
                          source: IPAddress("192.168.201.1")!, destination: IPAddress("192.168.201.2")!)
    let body = (0..<64).map { UInt8(truncatingIfNeeded: $0 &* 3 &+ 9) }
    return (b.udp(sourcePort: 40000, destinationPort: 5000, payload: body, checksum: .partial),
            SkbState(ipSummed: .partial, csumStart: 34, csumOffset: 6))
}

private func geneve(v6: Bool = false, udpCsum: Bool? = nil, zeroTx: Bool = false) -> VxlanSettings {
    VxlanSettings(vni: 0x0A0B0C, local: IPAddress(v6 ? "fd00::1" : "10.202.1.2")!, remote: IPAddress(v6 ? "fd00::2" : "10.202.2.2")!,
                  underlay: "u", udpCsum: udpCsum, udp6ZeroCsumTx: zeroTx, geneve: true)
}

private func encap(_ v: VxlanSettings, profile: KernelProfile = .linux6) throws -> VxlanEncapsulation {
    let (f, s) = inner()
    return try Vxlan.encapsulate(inner: f, skb: s, settings: v, profile: profile, underlayIPv4Checksum: true,
                                 sourceMAC: [2, 0, 0, 0, 0, 1], destinationMAC: [2, 0, 0, 0, 0, 2], sourcePort: 33000)
}

@Suite struct GeneveTests {
    @Test func theHeaderIsGenevesOnPort6081() throws {
        let v = geneve()
        #expect(v.dstPort == 6081)
        let b = try encap(v).frame.bytes
        #expect(Array(b[36..<38]) == [0x17, 0xC1])            // dport 6081
        #expect(Array(b[42..<50]) == [0x00, 0x00, 0x65, 0x58, 0x0A, 0x0B, 0x0C, 0x00])
        #expect(Array(b[50...]) == inner().0.bytes)
    }

    @Test func ipv4DefaultsToAZeroOuterChecksum() throws {
        let e = try encap(geneve())
        #expect(e.branch == .zero && e.outerField == 0 && e.skb.ipSummed == .partial && e.skb.csumStart == 84)
        // 4.4: not configurable, always off (T12).
        #expect(try encap(geneve(udpCsum: true), profile: .linux44).branch == .zero)
    }

    @Test func udpcsumTurnsOnTheLCOOuter() throws {
        let e = try encap(geneve(udpCsum: true))
        #expect(e.branch == .lco)
        var done = e.frame.bytes
        let c = naiveL4Checksum(Array(done[50...]))
        done[84 + 6] = UInt8(c >> 8); done[84 + 7] = UInt8(c & 0xFF)
        #expect(e.outerField == naiveL4Checksum(done))
    }

    @Test func anIPv6RemoteTurnsItOnAndOnlyUdp6zerocsumtxClearsIt() throws {
        #expect(try encap(geneve(v6: true)).branch == .lco)
        #expect(try encap(geneve(v6: true, udpCsum: false)).branch == .lco)   // noudpcsum does not clear it
        #expect(try encap(geneve(v6: true, zeroTx: true)).branch == .zero)
        #expect(try encap(geneve(udpCsum: true, zeroTx: true)).branch == .zero) // T6: for IPv4 too
    }
}

@Suite struct GeneveLabTests {
    private func query(_ sets: [String]) throws -> LegTrace {
        let t = try with(loadShipped("geneve-zero-csum-router-masquerade").topology, sets)
        return try #require(leg(try run(t, flow: "datagram"), "datagram", "query"))
    }

    @Test func theZeroOuterCrossesTheNATAndIsAccepted() throws {
        let l = try query([])
        #expect(l.outcome == .accepted)
        let nat = try #require(l.steps.first { $0.event.kind == .routerOuterMasquerade })
        guard case let .routerOuterMasquerade(_, zeroKept, _) = nat.event else { Issue.record("\(nat.event)"); return }
        #expect(zeroKept && nat.l4Field == 0)
        let rx = try #require(l.steps.first { $0.event.kind == .vxlanOuterReceive })
        #expect(rx.l4Field == 0 && rx.inner?.field == naiveL4Checksum(Array(rx.frame[50...])))
    }

    @Test func udpcsumBringsBackTheBadOuter() throws {
        let l = try query(["gnvA.udpcsum=on"])
        #expect(l.outcome == .droppedByReceiver(counter: "Udp: InCsumErrors"))
        let last = try #require(l.steps.last)
        #expect(last.l4Field != naiveL4Checksum(last.frame))
    }

    @Test func theKindIsWrittenBackAsGeneve() throws {
        let t = try loadShipped("geneve-zero-csum-router-masquerade").topology
        #expect(t.node(named: "gnvA")?.kind.name == "geneve")
        #expect(t.tunnels.map(\.a) == ["gnvA"])
    }
}
