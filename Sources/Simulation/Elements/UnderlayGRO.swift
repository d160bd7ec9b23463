import Checksum
import Wire

// UDP tunnel GRO on the underlay (#16): when `veth_xmit()` queues tunnelled segments for the
// peer's NAPI (`veth_skb_is_eligible_for_gro()`: the sender has no TSO, the peer has GRO on),
// `napi_gro_receive()` → `dev_gro_receive()` → `inet_gro_receive()` → `udp4_gro_receive()` /
// `udp6_gro_receive()` → `udp_gro_receive()` finds the tunnel's socket on the destination port
// and calls its `gro_receive` (`vxlan_gro_receive()`, `geneve_gro_receive()`) → `eth_gro_receive()`
// → `inet_gro_receive()` → `tcp4_gro_receive()` → `tcp_gro_receive()`: the segments of one inner
// flow merge into one outer packet. `napi_gro_complete()` → `inet_gro_complete()` (outer total
// length and header checksum) → `udp4_gro_complete()` (`uh->check = ~udp_v4_check(len, …, 0)`
// when not zero) → `udp_gro_complete()` (`uh->len`, `gso_type` = `SKB_GSO_UDP_TUNNEL[_CSUM]`,
// `skb->encapsulation = 1`) → `vxlan_gro_complete()` → `eth_gro_complete()` → the inner
// `inet_gro_complete()` → `tcp4_gro_complete()` (`th->check = ~tcp_v4_check(…)`, `SKB_GSO_TCPV4`)
// → `tcp_gro_complete()` (`CHECKSUM_PARTIAL`, `csum_start` at the inner TCP header). The merged
// skb then goes up: `udp_rcv()` trusts a PARTIAL skb (`skb_csum_unnecessary()`), `vxlan_rcv()`
// pulls the outer headers and clears the tunnel GSO bits (`iptunnel_pull_offloads()`), and the
// inner TCPV4 GSO skb goes on as one (`gro_cells` finds nothing to merge in it). 6.12 net/core/
// gro.c, net/ipv4/udp_offload.c, drivers/net/vxlan/vxlan_core.c; measured on 6.18 (kernel
// reference notes, "Tunnel GRO on the underlay").

extension Walk {
    /// A tunnelled segment `p` (`entered`: in the state the checks above left it) that
    /// `veth_xmit()` queued for `peer`'s NAPI, whose outer packet is for tunnel `vx`'s socket and
    /// whose inner TCP checksum holds: held or merged with the others of its flow.
    /// `found`: the `ip_summed` it crossed with.
    mutating func underlayGROReceive(_ p: Packet, _ entered: Packet, found: IPSummed, peer: Int, tunnel vx: Int) {
        let seg = GROSegment(entered, .underlay)
        var q = entered
        // skb_prepare_for_gro(): any owner but sock_wfree is dropped (skb_orphan).
        if q.owner != .socket { q.owner = .none }
        var before = p
        before.owner = q.owner
        var gro = StepEvent.TunnelGRO(device: name(peer), v6: seg.layout.ipVersion == .v6, l4: .tcp, found: found, valid: true, action: .held)
        gro.veth = true
        var geneve = false
        if case let .vxlan(v) = net.devices[vx].kind { geneve = v.geneve }
        let outer = entered.layout
        let underlay = StepEvent.UnderlayGRO(tunnel: name(vx), outerV6: outer.ipVersion == .v6, geneve: geneve,
                                             outerChecksum: entered.frame.bytes.be16(at: outer.l4Offset + 6) != 0)
        gro.underlay = underlay
        // A segment its writer's socket still owns, while segments of its flow are held: kept
        // apart (the step says why it goes up alone).
        gro.keptApart = q.owner == .socket
            && groHeld.contains { $0.device == peer && $0.path == .underlay && $0.packet.owner != q.owner && Self.sameAddressesAndPorts($0.packet, q) }
        groMergeTCP(before, q, gro, node: net.devices[peer].node, device: peer, path: .underlay)
    }

    /// `napi_gro_complete()` of outer packets merged on the underlay (see the top of this file):
    /// one outer packet carrying the merged inner segment, both lengths and IPv4 header checksums
    /// made new, the outer UDP field the pseudo-header sum of the new length (zero stays zero),
    /// the inner TCP field its pseudo-header sum, and the skb `CHECKSUM_PARTIAL` at the inner TCP
    /// header: a tunnelled GSO skb as a sender's TSO would have made it.
    mutating func underlayGROComplete(_ h: GROHeld, node ni: Int) {
        let d = h.device
        let before = h.packet
        let seg = GROSegment(h.packet, .underlay)
        guard case var .skb(st) = before.carrier, seg.offset > 0 else { return groDeliver(before, device: d, path: .underlay) }
        let io = seg.offset
        let il = seg.layout
        let underlay = h.underlay
        // The inner segment, merged: its headers and payload, then every appended payload.
        var inner = Frame(bytes: Array(seg.frame.bytes[..<il.end]) + h.appended)
        switch il.ipVersion {
        case .v4: inner.bytes.setBE16(UInt16(inner.bytes.count - il.l3Offset), at: il.l3Offset + 2)
        case .v6: inner.bytes.setBE16(UInt16(inner.bytes.count - il.l3Offset - 40), at: il.l3Offset + 4)
        }
        // The merged segment's own layout: its lengths are the new ones.
        guard let ml = try? inner.layout() else { return groDeliver(before, device: d, path: .underlay) }
        if ml.ipVersion == .v4 { inner.fillIPv4Checksum(ml) }
        inner.setL4Checksum(inner.partialChecksumValue(ml), ml)
        // The outer headers of the first segment, with the new lengths.
        let ol = before.layout
        var b = Array(before.frame.bytes[..<io]) + inner.bytes
        let udpLength = b.count - ol.l4Offset
        switch ol.ipVersion {
        case .v4: b.setBE16(UInt16(b.count - ol.l3Offset), at: ol.l3Offset + 2)
        case .v6: b.setBE16(UInt16(udpLength), at: ol.l3Offset + 4)
        }
        b.setBE16(UInt16(udpLength), at: ol.l4Offset + 4)
        var q = before
        q.frame = Frame(bytes: b)
        let nl = q.layout
        if nl.ipVersion == .v4 { q.frame.fillIPv4Checksum(nl) }
        let outerZero = before.frame.bytes.be16(at: ol.l4Offset + 6) == 0
        if !outerZero { q.frame.bytes.setBE16(q.frame.partialChecksumValue(nl), at: nl.l4Offset + 6) }
        st = st.with(.partial)
        st.csumStart = io + il.l4Offset
        st.csumOffset = 16
        st.gsoSize = h.mss
        st.gsoType = il.ipVersion == .v6 ? .tcpv6 : .tcpv4
        q.carrier = .skb(st)
        q.segment = nil
        let up = watch(q) { w in
            w.record(before, q, node: ni, iface: w.ifLabel(d), .receive,
                     .tunnelGROComplete(device: w.name(d), segments: h.count, gsoSize: h.mss, v6: il.ipVersion == .v6, underlay: underlay))
        }
        groDeliver(up, device: d, path: .underlay)
    }
}
