import Checksum
import Wire

/// A host NIC and the remote machine beyond its wire.
extension Walk {
    /// A host NIC's `ndo_start_xmit()`: the hardware finishes a PARTIAL checksum (and segments with
    /// TSO) on the wire.
    mutating func hostNICXmit(_ p: Packet, on d: Int, _ s: SkbState) {
        let node = net.devices[d].node
        let l = p.layout
        var q = p
        if s.ipSummed == .partial {
            q.frame.completeChecksum(start: s.csumStart, offset: s.csumOffset, end: l.end, mangleZero: false)
        }
        q.carrier = .wire
        q = watch(q) { w in w.record(p, q, node: node, iface: w.ifLabel(d), .transmit, .hostNICXmit(partial: s.ipSummed == .partial, gso: s.isGSO)) }
        remoteReceive(q, nic: d)
    }

    mutating func sendFromRemote(_ leg: LegSpec, nic: Int) {
        let n = net.devices[nic]
        guard case let .hostNIC(hs) = topology.nodes[n.node].kind else { preconditionFailure("remote needs a host NIC") }
        // No remote-gateway: the destination is on the remote's own link.
        let gw = (leg.destination.version == .v4 ? hs.remoteGateway : hs.remoteGateway6) ?? leg.destination
        guard let owner = shared.owner(of: gw), let target = shared.deviceOf(node: owner.node, iface: owner.iface) else {
            return finish(.droppedOnPath(at: hostName(leg.from), reason: "the remote host has no route into the lab (remote-gateway)"))
        }
        // The remote addresses its gateway's device (the NIC itself when the NIC is a host's
        // interface).
        var b = PacketBuilder(sourceMAC: shared.remoteMAC(ofNIC: nic), destinationMAC: net.devices[target].mac, source: leg.source, destination: leg.destination)
        b.ipID = leg.ipID
        var p = Packet(frame: leg.build(b, .complete, 0), carrier: .wire, target: target)
        let fl = p.layout
        if leg.proto != .tcp && fl.end - fl.l3Offset > n.mtu {
            // The remote's own stack fragments a UDP/ICMP datagram larger than the wire's MTU
            // (the NIC's).
            p.fragmentMTU = n.mtu
            p.frame.clearDontFragment(fl)
        }
        let before = p
        p = watch(p) { w in
            w.record(before, p, node: n.node, iface: "wire", .send, .remoteSend)
        }
        // The NIC's receive: hardware verification decides UNNECESSARY or NONE.
        var q = p
        let l = q.layout
        let valid = q.frame.l4ChecksumIsValid(l)
        // CHECKSUM_UNNECESSARY is defined for TCP and UDP (skbuff.h): an ICMP checksum is left
        // to the stack.
        if n.features.has(.rxChecksumming) && valid && q.fragmentMTU == nil && (l.l4Protocol == .tcp || l.l4Protocol == .udp) {
            q.carrier = .skb(SkbState(ipSummed: .unnecessary))
        } else {
            q.carrier = .skb(SkbState(ipSummed: .none))
        }
        let event = StepEvent.nicReceive(fragmented: q.fragmentMTU != nil, rxChecksumming: n.features.has(.rxChecksumming), valid: valid)
        q = watch(q) { w in w.record(p, q, node: n.node, iface: w.ifLabel(nic), .receive, event) }
        ingress(q, on: nic, via: nil)
    }

    /// The remote machine beyond a host NIC receives from the wire.
    mutating func remoteReceive(_ p: Packet, nic: Int) {
        let node = net.devices[nic].node
        let l = p.layout
        let valid = p.frame.l4ChecksumIsValid(l) || (l.l4Protocol == .udp && p.frame.l4Checksum(l) == 0)
        _ = watch(p) { w in
            w.record(p, p, node: node, iface: "wire", .deliver, .remoteReceive(valid: valid), drop: valid ? "delivered" : "checksum error")
        }
        guard destinationHost == .remote(nic: nic) else {
            return finish(.droppedOnPath(at: hostName(.remote(nic: nic)), reason: "left the lab"))
        }
        if !valid {
            count(hostName(.remote(nic: nic)), "InCsumErrors")
            return finish(.droppedByReceiver(counter: "InCsumErrors"))
        }
        deliver(p)
    }
}
