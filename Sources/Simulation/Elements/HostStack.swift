import Checksum
import Wire

/// A host's own IP stack: sending from sockets, receiving for local delivery.
extension Walk {
    func hostName(_ h: HostRef) -> String {
        switch h {
        case let .node(n): return topology.nodes[n].name
        case let .remote(nic): return "\(name(nic))-remote"
        }
    }

    /// The packet reached device `d`, which is an L3 interface of a host.
    mutating func arriveAtHost(_ p: Packet, device d: Int) {
        guard let ref = net.devices[d].l3 else {
            return finish(.droppedOnPath(at: name(d), reason: "no host behind this device"))
        }
        if case let .router(r) = topology.nodes[ref.node].kind, r.flavour == .userspace {
            // A userspace forwarder inside a VM reads the guest's NIC through AF_PACKET.
            return userspaceReceive(p, node: ref.node, iface: ref.iface, via: d)
        }
        // eth_type_trans() marks a unicast frame for another MAC PACKET_OTHERHOST and
        // ip_rcv_core() drops it (a flooded copy). QEMU filtered a VM's frames already.
        if p.flooded, net.devices[d].kind != .virtio, Self.isForeignUnicast(p.frame.bytes, mac: net.devices[d].mac) {
            _ = watch(p) { w in
                w.record(p, p, node: ref.node, iface: w.ifLabel(d), .receive,
                         .otherHost(v6: p.layout.ipVersion == .v6, mac: Self.macString(p.frame.destinationMAC), device: w.name(d)),
                         drop: "PACKET_OTHERHOST")
            }
            return finish(.droppedOnPath(at: name(d), reason: "frame not addressed to this interface's MAC"))
        }
        ipReceive(p, node: ref.node, iface: ref.iface, device: d)
    }

    /// `ip_rcv()` / `ipv6_rcv()`: local delivery or forwarding.
    mutating func ipReceive(_ p: Packet, node ni: Int, iface: Int, device d: Int) {
        // ip_rcv_core() / ipv6_rcv(): "Must drop socket now because of tproxy" (skb_orphan).
        var p = p
        p.owner = .none
        let l = p.layout
        let dst = IPAddress(bytes: p.frame.destinationAddress(l))
        // A kernel router runs PRE_ROUTING (conntrack, un-NAT) before deciding local or forward.
        if case let .router(r) = topology.nodes[ni].kind, r.flavour != .userspace {
            return forward(p, node: ni, settings: r.netfilter, device: d)
        }
        let isLocal = topology.nodes[ni].interfaces.contains { $0.addresses.contains { $0.address == dst } }
            || (destinationHost == .node(ni) && flow.kind == .dhcp)
        if isLocal {
            return localDeliver(p, node: ni, device: d)
        }
        let name = topology.nodes[ni].name
        _ = watch(p) { w in
            w.record(p, p, node: ni, iface: w.ifLabel(d), .receive, .notForwarded(v6: l.ipVersion == .v6, node: name), drop: "not forwarded")
        }
        finish(.droppedOnPath(at: name, reason: "not the destination and not a router"))
    }

    /// Build the leg's packet(s) at the sending host and transmit them.
    mutating func send(_ leg: LegSpec) {
        switch leg.from {
        case let .remote(nic):
            sendFromRemote(leg, nic: nic)
        case let .node(ni):
            sendFromNode(leg, node: ni)
        }
        flushGRO()
    }

    mutating func sendFromNode(_ leg: LegSpec, node ni: Int) {
        // Only what is read of the node: a copy of it retains each of its fields (on every leg).
        let nodeName = topology.nodes[ni].name, interfaces = topology.nodes[ni].interfaces
        let profile = topology.nodes[ni].kernel ?? topology.hostKernel
        guard let (iface, nextHop) = leg.broadcastRoute ?? shared.route(from: ni, to: leg.destination) else {
            return finish(.droppedOnPath(at: nodeName, reason: "no route to \(leg.destination)"))
        }
        guard let dev = shared.deviceOf(node: ni, iface: iface) else {
            return finish(.droppedOnPath(at: nodeName, reason: "interface \(interfaces[iface].name) has no device"))
        }
        guard let target = targetDevice(for: nextHop, broadcastLeg: leg) else {
            return finish(.droppedOnPath(at: nodeName, reason: "nobody owns next hop \(nextHop)"))
        }
        let feats = net.devices[dev].features
        let dstMAC: [UInt8] = leg.broadcast ? [0xff, 0xff, 0xff, 0xff, 0xff, 0xff] : shared.destinationMAC(for: target)
        var b = PacketBuilder(sourceMAC: net.devices[dev].mac, destinationMAC: dstMAC, source: leg.source, destination: leg.destination)
        b.ipID = leg.ipID
        let v4 = leg.destination.version == .v4
        // The egress device's MTU: the route MTU the stack sizes segments and fragments by.
        let mtu = net.devices[dev].mtu
        let mss = flow.mss ?? leg.segmentSize ?? (MTURule.mss(mtu: mtu, v4 ? .v4 : .v6) - 12)
        var fill: PacketBuilder.ChecksumFill
        var event: StepEvent
        // A program that builds whole frames (sender: software) sends the flow's frames; an ICMP
        // echo reply is always the receiving kernel's (icmp_reply).
        let kernelEchoReply = leg.reply && (leg.proto == .icmp || leg.proto == .icmpv6)
        let software = (flow.sender == .software && !kernelEchoReply) || leg.userspaceSender
        switch leg.proto {
        case .tcp where !software:
            // tcp_init_nondata_skb: SYN/ACK/FIN are always PARTIAL. Data: sk_setup_caps gives the
            // socket SG|HW_CSUM whenever the device has GSO, so only 3.x/4.4 with neither checksum
            // offload nor GSO take the software branch; 6.x has no software branch at all.
            let partial = profile == .linux6 || leg.payloadLength == 0 || feats.txChecksum || feats.has(.gso)
            fill = partial ? .partial : .complete
            event = .tcpSend(StepEvent.TCPSend(v6: !v4, partial: partial, profile: profile, device: name(dev), deviceChecksums: feats.txChecksum,
                                               bare: leg.payloadLength == 0, gsoSize: nil))
        case .udp where !software:
            fill = feats.txChecksum ? .partial : .complete
            event = .udpSend(StepEvent.UDPSend(v6: !v4, hwChecksum: feats.txChecksum, device: name(dev), fragments: nil))
        case .icmp, .icmpv6:
            fill = .complete
            event = .icmpSend(StepEvent.ICMPSend(v6: !v4, reply: leg.reply, fragments: nil))
        default:
            fill = .complete
            event = .programSend(packetSocket: leg.userspaceSender)
        }
        // TCP payload beyond one MSS: a GSO super-frame if the route can do GSO/TSO, else
        // separate MSS-sized skbs built by TCP itself.
        var frames: [(Frame, Int)] = []
        var fragmentMTU: Int?
        var gso = 0
        if leg.proto == .tcp && leg.payloadLength > mss {
            // A program that writes whole frames (software sender) never builds a GSO skb.
            if !software && (feats.has(.gso) || feats.has(.tso)) {
                gso = mss
                frames = [(leg.build(b, fill, 0), 0)]
            } else {
                var off = 0
                var bb = b
                while off < leg.payloadLength {
                    frames.append((leg.build(bb, fill, off, min(mss, leg.payloadLength - off)), off))
                    off += mss
                    bb.ipID &+= 1
                }
            }
        } else {
            var f = leg.build(b, fill, 0)
            let fl = try! f.layout()
            let ipLen = fl.end - fl.l3Offset
            // __ip_append_data() / __ip6_append_data(): a UDP or ICMP datagram larger than the
            // MTU is built as a list of fragments; CHECKSUM_PARTIAL is chosen only when it fits,
            // so UDP computes its checksum in software (udp_csum, over every fragment) and
            // ip_fragment()/ip6_fragment() send it with DF clear.
            if leg.proto != .tcp && !software && ipLen > mtu {
                fragmentMTU = mtu
                if fill == .partial {
                    fill = .complete
                    f = leg.build(b, .complete, 0)
                }
                f.clearDontFragment(fl)
                let fragments = StepEvent.Fragmentation(ipLength: ipLen, count: f.fragmentCount(fl, mtu: mtu), mtu: mtu)
                switch event {
                case var .udpSend(u):
                    u.fragments = fragments
                    event = .udpSend(u)
                case var .icmpSend(i):
                    i.fragments = fragments
                    event = .icmpSend(i)
                default:
                    preconditionFailure("only UDP and ICMP datagrams are fragmented at the sender")
                }
            }
            frames = [(f, 0)]
        }
        for (i, (frame, off)) in frames.enumerated() {
            let l = try! frame.layout()
            var s = fill == .partial ? SkbState(ipSummed: .partial, csumStart: l.l4Offset, csumOffset: l.l4Protocol.checksumOffset) : SkbState(ipSummed: .none)
            if gso > 0 {
                s.gsoSize = gso
                s.gsoType = v4 ? .tcpv4 : .tcpv6
            }
            var p = Packet(frame: frame, carrier: .skb(s), target: target, segment: frames.count > 1 ? i + 1 : nil, payloadOffset: off)
            p.fragmentMTU = fragmentMTU
            // tcp_transmit_skb(): skb->destructor = tcp_wfree; a UDP, ICMP or packet socket's
            // skb is charged with skb_set_owner_w() (sock_wfree) — and so is TCP's where verify's
            // AF_PACKET writer stands in for the stack (`tcpOwner`).
            p.owner = leg.proto == .tcp && !software ? tcpOwner : .socket
            let empty = Packet(frame: frame, carrier: .socket, target: target)
            var sent = event
            if gso > 0, case var .tcpSend(t) = event {
                t.gsoSize = mss
                sent = .tcpSend(t)
            }
            p = watch(p) { w in w.record(empty, p, node: ni, iface: interfaces[iface].name, .send, sent) }
            // packet_snd(): a frame longer than the device MTU (plus its header) and not GSO is
            // refused with EMSGSIZE; a program writing frames cannot fragment.
            if software && gso == 0 && frame.count > FrameLayout.ethernetLength + mtu {
                let r = p
                _ = watch(r) { w in
                    w.record(r, r, node: ni, iface: interfaces[iface].name, .transmit, .programSendTooBig(length: frame.count, mtu: mtu), drop: "EMSGSIZE")
                }
                finish(.droppedOnPath(at: nodeName, reason: "packet_snd: frame larger than MTU (EMSGSIZE)"))
                continue
            }
            if case let .netns(nf) = topology.nodes[ni].kind {
                p = checksumFill(p, node: ni, nf, profile: profile, iface: interfaces[iface].name)
            }
            transmit(p, on: dev)
            // One skb from the socket, one softirq run on the receiving side: GRO lists are
            // flushed at the end of the NAPI poll (napi_complete_done), before the next skb.
            flushGRO()
        }
    }

    /// The device that owns the next-hop address (for a host NIC's remote host, the NIC).
    func targetDevice(for nextHop: IPAddress, broadcastLeg leg: LegSpec?) -> Int? {
        if let leg, leg.broadcast, case let .node(n) = leg.to, let ii = leg.broadcastTargetIface {
            return shared.deviceOf(node: n, iface: ii)
        }
        return shared.targetDevice(for: nextHop)
    }

    /// Local delivery: the transport protocol's checksum check, then the socket.
    mutating func localDeliver(_ p: Packet, node ni: Int, device d: Int) {
        // Only the node's name: a copy of the node retains each of its fields (on every leg).
        let nodeName = topology.nodes[ni].name
        let l = p.layout
        let v4 = l.ipVersion == .v4
        let s = p.skb ?? SkbState(ipSummed: .none)
        let iface = ifLabel(d)
        let isDestination = destinationHost == .node(ni)
        let valid = p.frame.l4ChecksumIsValid(l)
        // DHCP client on a raw socket: reads a copy at packet_rcv, checks the bytes itself.
        if isDestination && flow.kind == .dhcp && leg.reply && flow.dhcpClient != .udp {
            let notReady = s.ipSummed == .partial
            let trusted = flow.dhcpClient == .rawAuxdata && (notReady || s.ipSummed == .unnecessary || s.csumValid)
            let ok = trusted || valid
            _ = watch(p) { w in
                w.record(p, p, node: ni, iface: iface, .deliver, .dhcpClientCheck(auxdataTrusted: trusted, notReady: notReady, valid: valid),
                         drop: ok ? "delivered" : "bad udp checksum")
            }
            if ok { return deliver(p) }
            count(nodeName, "dhclient: bad udp checksums")
            return finish(.droppedByReceiver(counter: "dhclient: bad udp checksums"))
        }
        // A VXLAN device's socket (udp_queue_rcv_one_skb → encap_rcv): the tunnel takes it.
        if l.l4Protocol == .udp, let vx = vxlanDevice(node: ni, port: p.frame.destinationPort(l), v6: !v4) {
            return vxlanReceive(p, node: ni, device: d, vxlan: vx)
        }
        let udpNoCsum = l.l4Protocol == .udp && v4 && p.frame.l4Checksum(l) == 0
        // __skb_checksum_validate() starts with `skb->csum_valid = 0`: an earlier software
        // check's mark (conntrack's, a tunnel's outer) does not vouch for these bytes; a
        // COMPLETE or NONE skb is summed now.
        let trusted = s.ipSummed == .unnecessary || s.ipSummed == .partial
        let ok = trusted || valid || udpNoCsum
        let check: StepEvent.ReceiveCheck = trusted ? .trusted(summed: s.ipSummed, csumValid: s.csumValid, bytesValid: valid)
            : udpNoCsum ? .udpZero : .verified(valid: valid)
        // ip_local_deliver() → ip_defrag() / ipv6_frag_rcv(): the fragments are reassembled
        // first; the checksum is then verified over the whole datagram.
        let receive = StepEvent.TransportReceive(l4: l.l4Protocol, v6: !v4, hasSocket: isDestination, fragments: Self.fragments(p), check: check)
        let counter = receive.counter
        _ = watch(p) { w in
            w.record(p, p, node: ni, iface: iface, .deliver, .transportReceive(receive), drop: ok ? (isDestination ? "delivered" : "no socket") : "checksum error")
        }
        if !ok {
            count(nodeName, counter)
            return finish(.droppedByReceiver(counter: counter))
        }
        if !isDestination {
            return finish(.droppedOnPath(at: nodeName, reason: "addressed to \(nodeName), which has no socket for it"))
        }
        deliver(p)
    }

    /// Hand a packet to the application: compare with what was sent.
    mutating func deliver(_ p: Packet) {
        let l = p.layout
        let got = Array(p.frame.payload(l))
        let end = min(sentPayload.count, p.payloadOffset + got.count)
        let want = p.payloadOffset <= end ? Array(sentPayload[p.payloadOffset..<end]) : []
        delivered.append(p)
        finish(got == want ? .accepted : .acceptedCorrupted)
    }
}
