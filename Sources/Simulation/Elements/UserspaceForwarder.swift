import Checksum
import Wire

/// A userspace forwarder (a program on AF_PACKET sockets or TAP fds, in a namespace or a VM).
extension Walk {
    /// A userspace forwarder reads a frame (AF_PACKET socket or TAP fd), routes it and writes it
    /// out of its other interface.
    mutating func userspaceReceive(_ p: Packet, node ni: Int, iface: Int, via d: Int) {
        let node = topology.nodes[ni]
        guard case let .router(r) = node.kind else { preconditionFailure("userspace forwarder must be a router") }
        var q = p
        let l = p.layout
        // Read.
        let read: StepEvent
        switch p.carrier {
        case let .skb(s):
            if r.vnetHdrAware {
                let h = VirtioNetHeader(skb: s, hasDataValid: true, headersLength: l.payloadOffset)
                q.carrier = .vnet(h)
                read = .forwarderReadSocket(vnet: h, partial: s.ipSummed == .partial, bytesValid: p.frame.l4ChecksumIsValid(l))
            } else {
                q.carrier = .raw
                read = .forwarderReadSocket(vnet: nil, partial: s.ipSummed == .partial, bytesValid: p.frame.l4ChecksumIsValid(l))
            }
        case .vnet:
            if r.vnetHdrAware {
                read = .forwarderReadTap(.kept)
            } else {
                q.carrier = .raw
                read = .forwarderReadTap(.dropped)
            }
        case .raw, .wire, .socket:
            q.carrier = .raw
            read = .forwarderReadTap(.none)
        }
        q = watch(q) { w in w.record(p, q, node: ni, iface: node.interfaces[iface].name, .userspace, read) }
        // Route.
        let dst = IPAddress(bytes: q.frame.destinationAddress(l))
        let outIf: Int
        var target: Int?
        if r.forwarding == .l3 {
            guard let (o, nh) = shared.route(from: ni, to: dst) else {
                return finish(.droppedOnPath(at: node.name, reason: "no route to \(dst)"))
            }
            outIf = o
            target = targetDevice(for: nh, broadcastLeg: nil)
        } else {
            guard let o = (0..<node.interfaces.count).first(where: { $0 != iface }) else {
                return finish(.droppedOnPath(at: node.name, reason: "switch has one port"))
            }
            outIf = o
            target = q.target
        }
        guard let outDev = shared.deviceOf(node: ni, iface: outIf), let tgt = target else {
            return finish(.droppedOnPath(at: node.name, reason: "no device for the egress interface"))
        }
        if r.forwarding == .l3 {
            let before = q
            q.frame.setMACs(source: net.devices[outDev].mac, destination: shared.destinationMAC(for: tgt))
            q.frame.decrementTTLRecomputingHeader(l)
            q.target = tgt
            q = watch(q) { w in
                w.record(before, q, node: ni, iface: node.interfaces[outIf].name, .userspace, .forwarderRoute)
            }
        }
        // Write.
        if case let .tap(ts) = net.devices[outDev].kind {
            var w = q
            if !(r.vnetHdrAware && ts.vnetHdr) { w.carrier = .raw } else if case .raw = w.carrier { w.carrier = .vnet(VirtioNetHeader()) }
            // One write() per frame: the host finishes it (and its GRO polls) before the next.
            tapWrite(w, tap: outDev, vnet: ts.vnetHdr)
            return flushGRO()
        }
        let before = q
        // packet_snd() → packet_alloc_skb() → sock_alloc_send_pskb(): the socket owns the skb.
        q.owner = .socket
        if case let .vnet(h) = q.carrier {
            var s = SkbState(virtioHeader: h)
            if h.isGSO {
                // packet_alloc_skb(): fully linear when it fits in a page, else hdr_len linear.
                s.headLength = q.frame.count + 16 < 4096 ? q.frame.count : max(Int(h.hdrLen), 14)
            }
            q.carrier = .skb(s)
            q = watch(q) { w in w.record(before, q, node: ni, iface: node.interfaces[outIf].name, .transmit, .packetSndVnet(s)) }
        } else {
            if Self.linkFrameLength(q) > FrameLayout.ethernetLength + net.devices[outDev].mtu {
                _ = watch(q) { w in
                    w.record(before, q, node: ni, iface: node.interfaces[outIf].name, .transmit, .packetSndTooBig, drop: "EMSGSIZE")
                }
                return finish(.droppedOnPath(at: node.name, reason: "packet_snd: frame larger than MTU (EMSGSIZE)"))
            }
            q.carrier = .skb(SkbState(ipSummed: .none))
            q = watch(q) { w in w.record(before, q, node: ni, iface: node.interfaces[outIf].name, .transmit, .packetSnd) }
        }
        transmit(q, on: outDev)
    }
}
