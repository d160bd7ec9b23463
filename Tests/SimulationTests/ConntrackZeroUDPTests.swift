import Testing
import Simulation
import Wire
import TestSupport

// Conntrack and a UDP checksum of 0 (#16, random verify campaign 2026-12-06): udp_error()
// returns "Packet with no checksum" before nf_checksum() (6.13.7
// net/netfilter/nf_conntrack_proto_udp.c: `if (!hdr->check) return false;`), so a zero UDP
// checksum is never summed: the skb stays CHECKSUM_NONE without csum_valid. Measured on 6.18 with
// `csumlab verify topologies/vxlan-router-masquerade.yaml --set vxA.udpcsum=off --set
// wireA.wireA.tx=off`: the ring on nodeB's wireB reported tp_status 0 (no CSUM_VALID) for the
// zero-outer VXLAN packets the router had forwarded; the model said CSUM_VALID.

@Suite struct ConntrackZeroUDPTests {
    private func query() throws -> LegTrace {
        let t = try with(loadShipped("vxlan-router-masquerade").topology, ["vxA.udpcsum=off", "wireA.wireA.tx=off"])
        return try #require(leg(try run(t, flow: "datagram"), "datagram", "query"))
    }

    @Test func aZeroUDPChecksumIsNotVerifiedByConntrack() throws {
        let l = try query()
        let ct = try #require(l.step(.conntrackCheck, at: "router"))
        // The outer checksum really is 0 here (noudpcsum), and the skb arrives NONE.
        #expect(ct.frame[34 + 6] == 0 && ct.frame[34 + 7] == 0 && ct.l4Field == 0)
        #expect(ct.before.ipSummed == IPSummed.none)
        #expect(ct.event == .conntrackCheck(l4: .udp, v6: false, result: .zeroUDPChecksum))
        #expect(ct.after.ipSummed == IPSummed.none && ct.after.skbState?.csumValid != true)
    }

    @Test func theForwardedPacketReachesTheNextNamespaceWithoutCsumValid() throws {
        let l = try query()
        let out = try #require(l.steps(.vethXmit).first { $0.interface == "wireB-r" })
        #expect(out.after.skbState?.csumValid != true)
        #expect(l.outcome == .accepted)
    }
}

// GRO and a zero UDP checksum over IPv6 (#16, random campaign seed 20261207, runs 49/67/75):
// udp6_gro_receive → skb_gro_checksum_validate_zero_check accepts a zero field (zero_okay) without
// summing and skb_gro_incr_csum_unnecessary marks the skb CHECKSUM_UNNECESSARY — the socket decides
// later (udp6zerocsumrx). Measured on 6.18: `csumlab verify topologies/vxlan-ipv6-zero-csum.yaml
// --set wire.wireA.tx=off --set wire.wireB.gro=on` saw CSUM_VALID on nodeB's wireB; the model said 0.
@Suite struct VethGROZeroUDP6Tests {
    @Test func aZeroUDPChecksumOverIPv6IsMarkedUnnecessaryByGRO() throws {
        let t = try with(loadShipped("vxlan-ipv6-zero-csum").topology, ["wire.wireA.tx=off", "wire.wireB.gro=on"])
        let l = try #require(leg(try run(t, flow: "datagram"), "datagram", "query"))
        let g = try #require(l.step(.vethGRO, at: "wire"))
        #expect(g.l4Field == 0)
        #expect(g.before.ipSummed == IPSummed.none && g.after.ipSummed == .unnecessary)
        // The receiving tunnel still refuses the zero outer (no udp6zerocsumrx).
        #expect(l.outcome != .accepted)
    }
}
