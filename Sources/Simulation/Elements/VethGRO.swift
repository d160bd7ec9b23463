import Checksum
import Wire

// GRO on a veth end (#16): `veth_xmit()` queues an skb for the peer's NAPI when the peer has
// GRO on and the sender has no TSO (`veth_skb_is_eligible_for_gro()`); `veth_poll()` →
// `veth_xdp_rcv()` → `veth_xdp_rcv_skb()` → `skb_prepare_for_gro()` → `napi_gro_receive()` →
// `dev_gro_receive()` → `gro_list_prepare()` → `inet_gro_receive()` → `tcp4_gro_receive()`,
// and at the end of the poll `napi_complete_done()` flushes what is held (6.x
// drivers/net/veth.c, net/core/gro.c, net/core/skbuff.c). The merge rules are the tunnel's
// (`TunnelGRO.swift`); what differs is the owner: `skb_prepare_for_gro()` orphans an skb
// unless its destructor is `sock_wfree` (then `slow_gro`, and `gro_list_prepare()` compares
// `p->sk != skb->sk`), and `skb_segment()` gives a `sock_wfree` owner to the last segment
// only. So the segments a packet socket's skb is cut into on the writer's own device merge but
// for the last, which, carrying PSH, goes up first; a kernel TCP sender's (`tcp_wfree`) all
// merge, and so do those of an skb that crossed an IP receive (`ip_rcv_core()`) or a bridge with
// br_netfilter (`setup_pre_routing()`) first: both orphan it (`ipReceive`, `bridgeNetfilter`).
// Measured on 6.18: assets/kernel-reference-notes.md, "Campaigns of session 11" (seed 20261216,
// explained in sessions 12 to 14).

extension Walk {
    /// A TCP segment `p` (`entered`: in the state the veth's GRO check left it) that `veth_xmit()`
    /// queued for its peer's NAPI: held, merged or sent up `peer`.
    /// `found`: the `ip_summed` it crossed with; `valid`: its checksum as GRO judged it.
    mutating func vethGROReceive(_ p: Packet, _ entered: Packet, found: IPSummed, valid: Bool, peer: Int) {
        let l = p.layout
        var q = entered
        // skb_prepare_for_gro(): any owner but sock_wfree is dropped (skb_orphan).
        if q.owner != .socket { q.owner = .none }
        var before = p
        before.owner = q.owner
        var gro = StepEvent.TunnelGRO(device: name(peer), v6: l.ipVersion == .v6, l4: .tcp, found: found, valid: valid, action: .held)
        gro.veth = true
        let ni = net.devices[peer].node
        // A wrong checksum: flushed up as it is (the .vethGRO step said so).
        guard valid else { return ingress(q, on: peer, via: "napi_gro_receive") }
        // The segment a socket still owns, while segments of its addresses and ports are held:
        // not their flow (the step says why it goes up alone).
        gro.keptApart = q.owner == .socket
            && groHeld.contains { $0.device == peer && $0.path == .veth && $0.packet.owner != q.owner && Self.sameAddressesAndPorts($0.packet, q) }
        groMergeTCP(before, q, gro, node: ni, device: peer, path: .veth)
    }

}
