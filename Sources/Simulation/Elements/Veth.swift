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
           case let .skb(cur) = q.carrier, !cur.isGSO, q.fragmentMTU == nil, l.l4Protocol == .tcp || l.l4Protocol == .udp {
            let crossed = q
            var valid = true
            if cur.ipSummed == .none {
                let r = q
                // skb_gro_checksum_validate_zero_check(): a zero UDP field (IPv6 too) is accepted
                // unsummed (zero_okay) and skb_gro_incr_csum_unnecessary() marks the skb; the socket
                // decides later (udp6zerocsumrx).
                valid = q.frame.l4ChecksumIsValid(l) || (l.l4Protocol == .udp && q.frame.l4Checksum(l) == 0)
                // __skb_incr_checksum_unnecessary() changes ip_summed alone: the linear part
                // (`headLength`) stays, and GRO's merged skb keeps the first segment's, which a
                // TAP reports as hdr_len (measured on 6.18: mtu-jumbo-router with vethB sg/tx off
                // and gro on vethB-r, hdr_len 1514 at tap1; seed 20261220).
                // From NONE it starts at csum_level 0.
                if valid {
                    var t = cur.with(.unnecessary)
                    t.csumLevel = 0
                    q.carrier = .skb(t)
                }
                q = watch(q) { w in
                    w.record(r, q, node: w.net.devices[peer].node, iface: w.ifLabel(peer), .receive,
                             .vethGRO(v6: l.ipVersion == .v6, l4: l.l4Protocol, valid: valid, device: w.name(d), peer: w.name(peer)))
                }
            }
            // TCP: merged with the other segments of its flow (`VethGRO.swift`). A COMPLETE
            // skb does not reach a veth in the model (forwarding turns it into NONE).
            if l.l4Protocol == .tcp, q.innerOffset == nil, cur.ipSummed != .complete {
                return vethGROReceive(crossed, q, found: cur.ipSummed, valid: valid, peer: peer)
            }
            // A tunnelled segment for a tunnel socket of the peer's namespace: its inner TCP
            // checked and merged on the underlay (`UnderlayGRO.swift`). udp4_gro_lookup_skb()
            // looks the socket up in the receiving device's namespace by port (a vxlan socket
            // is bound to no device): on a bridge port, that of the bridge, before the bridge
            // sees the frame.
            if valid, l.l4Protocol == .udp, q.innerOffset != nil, cur.ipSummed != .complete,
               let ns = namespaceNode(of: peer),
               let vx = vxlanDevice(node: ns, port: q.frame.bytes.be16(at: l.l4Offset + 2), v6: l.ipVersion == .v6) {
                let (r, innerValid) = tunnelGROOnUnderlay(q, l, peer: peer, tunnel: vx)
                q = r
                // The steps before recorded the checks: this one starts from what they left.
                if innerValid, let found = q.skb?.ipSummed {
                    return underlayGROReceive(q, q, found: found, peer: peer, tunnel: vx)
                }
            }
        }
        ingress(q, on: peer, via: "netif_rx")
    }

    /// The namespace (its node) device `d` receives in: its own host's, or — a bridge port —
    /// that of the bridge's host; nil for a port of a bridge no host sits on.
    func namespaceNode(of d: Int) -> Int? {
        if let ref = net.devices[d].l3 { return ref.node }
        if let br = net.devices[d].master, let ref = net.devices[br].l3 { return ref.node }
        return nil
    }

    /// UDP tunnel GRO on the underlay (`udp4_gro_receive()` / `udp6_gro_receive()` →
    /// `udp_gro_receive()` → the tunnel socket's `vxlan_gro_receive()` / `geneve_gro_receive()`
    /// → `eth_gro_receive()` → `inet_gro_receive()` → `tcp4_gro_receive()`…): the inner TCP/UDP
    /// checksum of an outer packet that passed the outer check above, for tunnel `vx`'s socket.
    /// A `PARTIAL` skb is not checked (its `csum_start` lies past the outer headers); a NONE one
    /// the outer check made `CHECKSUM_UNNECESSARY` at level 0 — or one that came so — has its
    /// inner checksum verified too, and `skb_gro_incr_csum_unnecessary()` counts it: level 1
    /// (the outer and the inner vouched for); a wrong inner flushes it at level 0. Returns the
    /// packet and whether its inner TCP may merge (`UnderlayGRO.swift`). Found by the random
    /// campaign of 2026-12-06 (seed 20261213): vxlan-bridge-port with `vxB.gro=off
    /// wire.wireB.gro=on`, whose SYN reached tap2 `DATA_VALID` on 6.18.
    mutating func tunnelGROOnUnderlay(_ p: Packet, _ l: FrameLayout, peer: Int, tunnel vx: Int) -> (Packet, innerTCP: Bool) {
        guard let io = p.innerOffset, case let .skb(s) = p.carrier, io < p.frame.count else { return (p, false) }
        let inner = Frame(bytes: Array(p.frame.bytes[io...]))
        guard let il = try? inner.layout(), il.l4Protocol == .tcp || il.l4Protocol == .udp else { return (p, false) }
        // Trusted as it is: pending, or counted for the inner header already.
        if s.ipSummed == .partial || (s.ipSummed == .unnecessary && s.csumLevel >= 1) { return (p, il.l4Protocol == .tcp) }
        guard s.ipSummed == .unnecessary else { return (p, false) }
        let field = inner.l4Checksum(il)
        let valid = (il.l4Protocol == .udp && field == 0) || inner.l4ChecksumIsValid(il)
        var q = p
        if valid {
            var t = s
            t.csumLevel = 1
            q.carrier = .skb(t)
        }
        var geneve = false
        if case let .vxlan(v) = net.devices[vx].kind { geneve = v.geneve }
        let event = StepEvent.underlayTunnelGRO(v6: l.ipVersion == .v6, innerV6: il.ipVersion == .v6, innerL4: il.l4Protocol,
                                                innerValid: valid, tunnel: name(vx), geneve: geneve)
        let r = watch(q) { w in w.record(p, q, node: w.net.devices[peer].node, iface: w.ifLabel(peer), .receive, event) }
        return (r, valid && il.l4Protocol == .tcp)
    }
}
