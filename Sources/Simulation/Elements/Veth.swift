import Checksum
import Wire

/// A veth end: `veth_xmit()` hands the skb to its peer.
extension Walk {
    /// `veth_xmit()` → `veth_forward_skb()`: the skb crosses to the peer (its checksum state unchanged
    /// since 4.4), or takes the peer's NAPI/GRO path.
    mutating func vethXmit(_ p: Packet, on d: Int, _ s: SkbState) {
        let node = net.devices[d].node
        let l = p.layout
        var q = p
        var marks = false
        if let peer = net.devices[d].peer, net.devices[d].profile.vethMarksUnnecessary, s.ipSummed == .none, net.devices[peer].features.has(.rxChecksumming) {
            q.carrier = .skb(s.with(.unnecessary))
            marks = true
        }
        guard let peer = net.devices[d].peer else { return finish(.droppedOnPath(at: name(d), reason: "veth has no peer")) }
        // __dev_forward_skb() → is_skb_forwardable(): a non-GSO frame longer than the peer's
        // MTU + Ethernet header + VLAN tag (1518 at MTU 1500) is dropped.
        let peerMTU = net.devices[peer].mtu
        let length = Self.linkFrameLength(q)
        if !s.isGSO && length > MTURule.forwardableLength(mtu: peerMTU) {
            let r = p
            _ = watch(r) { w in
                w.record(r, r, node: node, iface: w.ifLabel(d), .transmit, .vethTooBig(peer: w.name(peer), length: length, mtu: peerMTU),
                         drop: "frame exceeds MTU")
            }
            return finish(.droppedOnPath(at: name(d), reason: "frame exceeds the veth peer's MTU"))
        }
        q = watch(q) { w in
            w.record(p, q, node: node, iface: w.ifLabel(d), .transmit, .vethXmit(summed: s.ipSummed, marksUnnecessary: marks, gso: s.isGSO))
        }
        // veth_skb_is_eligible_for_gro(): with GRO on the peer, frames from a sender without
        // TSO take the NAPI path, where GRO validates a NONE checksum and marks it UNNECESSARY.
        if net.devices[d].profile == .linux6, net.devices[peer].features.has(.gro), !net.devices[d].features.has(.tso),
           case let .skb(cur) = q.carrier, cur.ipSummed == .none, !cur.isGSO, q.fragmentMTU == nil, l.l4Protocol == .tcp || l.l4Protocol == .udp {
            let r = q
            // skb_gro_checksum_validate_zero_check(): a zero UDP field (IPv6 too) is accepted
            // unsummed (zero_okay) and skb_gro_incr_csum_unnecessary() marks the skb; the socket
            // decides later (udp6zerocsumrx).
            let valid = q.frame.l4ChecksumIsValid(l) || (l.l4Protocol == .udp && q.frame.l4Checksum(l) == 0)
            if valid { q.carrier = .skb(SkbState(ipSummed: .unnecessary)) }
            q = watch(q) { w in
                w.record(r, q, node: w.net.devices[peer].node, iface: w.ifLabel(peer), .receive,
                         .vethGRO(v6: l.ipVersion == .v6, l4: l.l4Protocol, valid: valid, device: w.name(d), peer: w.name(peer)))
            }
        }
        ingress(q, on: peer, via: "netif_rx")
    }
}
