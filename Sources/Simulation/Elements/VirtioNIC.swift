import Checksum
import Wire

/// The guest's virtio-net NIC: its transmit to the backend TAP and its receive of what QEMU
/// hands it (a VM host's NIC, and a router VM's, whose guest then forwards as a netns router does).
extension Walk {
    /// The guest's virtio-net `start_xmit()` → `xmit_skb()`: the skb's state leaves as a virtio header
    /// (`virtio_net_hdr_from_skb(…, has_data_valid=false)`), written to the backend TAP.
    mutating func virtioXmit(_ p: Packet, on d: Int, _ s: SkbState) {
        let node = net.devices[d].node
        let l = p.layout
        let h = VirtioNetHeader(skb: s, hasDataValid: false, headersLength: l.payloadOffset)
        var q = p
        q.carrier = .vnet(h)
        q = watch(q) { w in w.record(p, q, node: node, iface: w.ifLabel(d), .transmit, .virtioXmit(h)) }
        guard let tap = net.devices[d].peer else {
            finish(.droppedOnPath(at: name(d), reason: "NIC has no backend"))
            return
        }
        tapWrite(q, tap: tap, vnet: true)
        // Each buffer the guest queues is its own write() by QEMU: tun_get_user() →
        // netif_receive_skb() runs it through the host to its end, and the NAPI polls it reached
        // (a tunnel device's GRO cell) finish before the next write. So segments the guest cut
        // are never merged again on the host (measured on 6.18: vxlan-in-vm with vxA tso off,
        // three TAP writes, three unmerged frames on host2's vxB).
        flushGRO()
    }

    /// QEMU hands a frame the host wrote to the TAP to the guest's virtio-net device.
    mutating func qemuToGuest(_ p: Packet, nic: Int, tap: Int) {
        let node = net.devices[nic].node
        var q = p
        // The guest's driver builds a new skb (receive_buf()): nobody owns it.
        q.owner = .none
        let profile = net.devices[nic].profile
        let guestName = topology.nodes[node].name
        // QEMU virtio-net receive_filter(): a unicast frame for another MAC is dropped unless
        // the guest put its NIC in promiscuous mode (a flooded copy, for instance).
        if p.flooded, Self.isForeignUnicast(p.frame.bytes, mac: net.devices[nic].mac), !guestNICIsPromiscuous(nic) {
            _ = watch(p) { w in
                w.record(p, p, node: node, iface: w.ifLabel(nic), .receive,
                         .qemuReceiveFilter(mac: Self.macString(p.frame.destinationMAC), guest: guestName), drop: "not for this MAC")
            }
            return finish(.droppedOnPath(at: name(nic), reason: "frame not addressed to this NIC's MAC"))
        }
        switch p.carrier {
        case let .vnet(h):
            if h.isGSO, !guestAcceptsGSO(nic) {
                return finish(.droppedOnPath(at: name(tap), reason: "GSO frame to a guest without GUEST_TSO"))
            }
            // virtnet_receive_done(): DATA_VALID → CHECKSUM_UNNECESSARY, then virtio_net_hdr_to_skb().
            var s = SkbState(virtioHeader: h)
            if h.isDataValid && !h.needsChecksum {
                s.ipSummed = .unnecessary
            }
            q.carrier = .skb(s)
            q = watch(q) { w in w.record(p, q, node: node, iface: w.ifLabel(nic), .receive, .receiveBuf(vnet: h, profile: profile, guest: guestName)) }
        case .raw:
            q.carrier = .skb(SkbState(ipSummed: .none))
            q = watch(q) { w in w.record(p, q, node: node, iface: w.ifLabel(nic), .receive, .receiveBuf(vnet: nil, profile: profile, guest: guestName)) }
        case .skb, .wire, .socket:
            preconditionFailure("QEMU delivers vnet or raw frames")
        }
        arriveAtHost(q, device: nic)
    }

    /// A guest NIC read by a userspace forwarder (AF_PACKET, pcap) is promiscuous; a guest
    /// host's or kernel router's is not.
    func guestNICIsPromiscuous(_ nic: Int) -> Bool {
        if case let .router(r) = topology.nodes[net.devices[nic].node].kind, r.flavour == .userspace { return true }
        return false
    }

    func guestAcceptsGSO(_ nic: Int) -> Bool {
        switch topology.nodes[net.devices[nic].node].kind {
        case let .vm(v): return v.guestTSO
        case let .router(r): return r.vm.guestTSO
        case .netns, .tap, .bridge, .veth, .hostNIC, .vxlan: return false
        }
    }
}
