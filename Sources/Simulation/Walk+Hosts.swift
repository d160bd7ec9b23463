import Checksum
import Wire

/// Host stacks: what a guest, a namespace, a router or a userspace forwarder does with a packet.
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
        let node = topology.nodes[ref.node]
        if case let .router(r) = node.kind, r.flavour == .userspace {
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
        let l = p.layout
        let dst = IPAddress(bytes: p.frame.destinationAddress(l))
        let node = topology.nodes[ni]
        let isLocal = node.interfaces.contains { $0.addresses.contains { $0.address == dst } }
            || (destinationHost == .node(ni) && flow.kind == .dhcp)
        // A kernel router runs PRE_ROUTING (conntrack, un-NAT) before deciding local or forward.
        if case let .router(r) = node.kind, r.flavour != .userspace {
            return forward(p, node: ni, settings: r.netfilter, device: d)
        }
        if isLocal {
            return localDeliver(p, node: ni, device: d)
        }
        _ = watch(p) { w in
            w.record(p, p, node: ni, iface: w.ifLabel(d), .receive, .notForwarded(v6: l.ipVersion == .v6, node: node.name), drop: "not forwarded")
        }
        finish(.droppedOnPath(at: node.name, reason: "not the destination and not a router"))
    }

    // MARK: Sending

    /// Build the leg's packet(s) at the sending host and transmit them.
    mutating func send(_ leg: LegSpec) {
        switch leg.from {
        case let .remote(nic):
            sendFromRemote(leg, nic: nic)
        case let .node(ni):
            sendFromNode(leg, node: ni)
        }
    }

    private mutating func sendFromRemote(_ leg: LegSpec, nic: Int) {
        let n = net.devices[nic]
        guard case let .hostNIC(hs) = topology.nodes[n.node].kind else { preconditionFailure("remote needs a host NIC") }
        // No remote-gateway: the destination is on the remote's own link.
        let gw = (leg.destination.version == .v4 ? hs.remoteGateway : hs.remoteGateway6) ?? leg.destination
        guard let owner = net.owner(of: gw), let target = net.deviceOf(node: owner.node, iface: owner.iface) else {
            return finish(.droppedOnPath(at: hostName(leg.from), reason: "the remote host has no route into the lab (remote-gateway)"))
        }
        // The remote addresses its gateway's device (the NIC itself when the NIC is a host's
        // interface).
        var b = PacketBuilder(sourceMAC: net.remoteMAC(ofNIC: nic), destinationMAC: net.devices[target].mac, source: leg.source, destination: leg.destination)
        b.ipID = leg.ipID
        var p = Packet(frame: leg.build(b, .complete, 0), carrier: .wire, target: target)
        let fl = p.layout
        if leg.proto != .tcp && fl.end - fl.l3Offset > Frame.linkMTU {
            // The remote's own stack fragments a UDP/ICMP datagram larger than the MTU.
            p.fragmentMTU = Frame.linkMTU
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

    private mutating func sendFromNode(_ leg: LegSpec, node ni: Int) {
        let node = topology.nodes[ni]
        let profile = topology.profile(of: node)
        guard let (iface, nextHop) = leg.broadcastRoute ?? net.route(from: ni, to: leg.destination) else {
            return finish(.droppedOnPath(at: node.name, reason: "no route to \(leg.destination)"))
        }
        guard let dev = net.deviceOf(node: ni, iface: iface) else {
            return finish(.droppedOnPath(at: node.name, reason: "interface \(node.interfaces[iface].name) has no device"))
        }
        guard let target = targetDevice(for: nextHop, broadcastLeg: leg) else {
            return finish(.droppedOnPath(at: node.name, reason: "nobody owns next hop \(nextHop)"))
        }
        let feats = net.devices[dev].features
        let dstMAC: [UInt8] = leg.broadcast ? [0xff, 0xff, 0xff, 0xff, 0xff, 0xff] : net.destinationMAC(for: target)
        var b = PacketBuilder(sourceMAC: net.devices[dev].mac, destinationMAC: dstMAC, source: leg.source, destination: leg.destination)
        b.ipID = leg.ipID
        let v4 = leg.destination.version == .v4
        let mss = flow.mss ?? (Frame.linkMTU - (v4 ? 20 : 40) - 20 - 12)
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
            if leg.proto != .tcp && !software && ipLen > Frame.linkMTU {
                fragmentMTU = Frame.linkMTU
                if fill == .partial {
                    fill = .complete
                    f = leg.build(b, .complete, 0)
                }
                f.clearDontFragment(fl)
                let fragments = StepEvent.Fragmentation(ipLength: ipLen, count: f.fragmentCount(fl, mtu: Frame.linkMTU))
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
            let empty = Packet(frame: frame, carrier: .socket, target: target)
            var sent = event
            if gso > 0, case var .tcpSend(t) = event {
                t.gsoSize = mss
                sent = .tcpSend(t)
            }
            p = watch(p) { w in w.record(empty, p, node: ni, iface: node.interfaces[iface].name, .send, sent) }
            // packet_snd(): a frame longer than the device MTU (plus its header) and not GSO is
            // refused with EMSGSIZE; a program writing frames cannot fragment.
            if software && gso == 0 && frame.count > FrameLayout.ethernetLength + Frame.linkMTU {
                let r = p
                _ = watch(r) { w in
                    w.record(r, r, node: ni, iface: node.interfaces[iface].name, .transmit, .programSendTooBig(length: frame.count), drop: "EMSGSIZE")
                }
                finish(.droppedOnPath(at: node.name, reason: "packet_snd: frame larger than MTU (EMSGSIZE)"))
                continue
            }
            if case let .netns(nf) = node.kind {
                p = checksumFill(p, node: ni, nf, profile: profile, iface: node.interfaces[iface].name)
            }
            transmit(p, on: dev)
        }
    }

    /// The device that owns the next-hop address (for a host NIC's remote host, the NIC).
    func targetDevice(for nextHop: IPAddress, broadcastLeg leg: LegSpec?) -> Int? {
        if let leg, leg.broadcast, case let .node(n) = leg.to, let ii = leg.broadcastTargetIface {
            return net.deviceOf(node: n, iface: ii)
        }
        return net.targetDevice(for: nextHop)
    }

    // MARK: Netfilter

    /// `checksum_tg()` in mangle POSTROUTING (`CHECKSUM --checksum-fill`).
    mutating func checksumFill(_ p: Packet, node ni: Int, _ nf: Netfilter, profile: KernelProfile, iface: String) -> Packet {
        guard nf.checksumFill != .off, let s = p.skb, s.ipSummed == .partial else { return p }
        let l = p.layout
        // The rule is iptables (NFPROTO_IPV4); IPv6 would need ip6tables, which is not modelled.
        guard l.ipVersion == .v4 else { return p }
        if nf.checksumFill == .udp && l.l4Protocol != .udp { return p }
        var q = p
        if s.isGSO {
            return watch(q) { w in w.record(p, q, node: ni, iface: iface, .transmit, .checksumFillGSO(profile: profile)) }
        }
        q.frame.completeChecksum(start: s.csumStart, offset: s.csumOffset, end: l.end, mangleZero: profile.checksumHelpMangles0)
        q.carrier = .skb(SkbState(ipSummed: .none))
        return watch(q) { w in
            w.record(p, q, node: ni, iface: iface, .transmit, .checksumFill)
        }
    }

    /// Why a packet cannot create a conntrack entry (nil when it can): `icmp_new()` accepts only
    /// requests (echo, timestamp, info, address mask), `tcp_new()` rejects a SYN-ACK (sIV).
    static func cannotStartConnection(_ f: Frame, _ l: FrameLayout) -> String? {
        switch l.l4Protocol {
        case .icmp where f.icmpType(l) == 0: return "an ICMP echo reply"
        case .icmpv6 where f.icmpType(l) == 129: return "an ICMPv6 echo reply"
        case .tcp where f.tcpFlags(l).isSuperset(of: [.syn, .ack]): return "a TCP SYN-ACK"
        case .icmp, .icmpv6, .tcp, .udp: return nil
        }
    }

    /// Kernel forwarding in a namespace or a router VM's guest.
    mutating func forward(_ p: Packet, node ni: Int, settings nf: Netfilter, device inDev: Int) {
        let node = topology.nodes[ni]
        let profile = topology.profile(of: node)
        var q = p
        var l = q.layout
        let v4 = l.ipVersion == .v4
        let inIf = net.devices[inDev].l3.map { node.interfaces[$0.iface].name } ?? ifLabel(inDev)
        var ctValid = true
        // Whether the packet travels in its connection's original direction (MASQUERADE applies
        // to those; replies are un-NATed). Without conntrack: the leg's own direction.
        var original = !leg.reply
        // 1. Conntrack in PRE_ROUTING.
        if nf.conntrackActive {
            let s = q.skb!
            let check: StepEvent.ConntrackCheck
            let before = q
            if nf.conntrackChecksum && (s.ipSummed == .none || s.ipSummed == .complete) {
                if q.frame.l4ChecksumIsValid(l) {
                    var ns = s.with(.complete)
                    ns.csumValid = true
                    q.carrier = .skb(ns)
                    check = .valid
                } else {
                    ctValid = false
                    check = .invalid
                }
            } else if s.ipSummed == .partial || s.ipSummed == .unnecessary {
                check = .skipped(s.ipSummed)
            } else {
                check = .disabled
            }
            q = watch(q) { w in w.record(before, q, node: ni, iface: inIf, .receive, .conntrackCheck(l4: l.l4Protocol, v6: !v4, result: check)) }
            if !ctValid && nf.dropInvalid {
                let r = q
                _ = watch(r) { w in
                    w.record(r, r, node: ni, iface: inIf, .forward, .conntrackInvalidDrop, drop: "ct state invalid")
                }
                return finish(.droppedOnPath(at: node.name, reason: "conntrack INVALID (bad checksum) dropped by a ct state invalid rule"))
            }
            // The connection's entry: found (this flow's earlier packets passed here), or a new
            // one, which an ICMP echo reply or a TCP SYN-ACK cannot start (icmp_new / tcp_new
            // return false: INVALID). A UDP packet or a TCP ACK (nf_conntrack_tcp_loose) can.
            // A packet against the entry's direction belongs to it only if it is addressed as
            // the reply tuple says (to the masqueraded address when the original was NATed).
            let dstNow = IPAddress(bytes: q.frame.destinationAddress(l))
            let entry = nat.connections[ni].flatMap { e in
                e.creatorWasReply == leg.reply || e.replyDestination == dstNow ? e : nil
            }
            if ctValid {
                if let e = entry {
                    original = e.creatorWasReply == leg.reply
                } else if let why = Self.cannotStartConnection(q.frame, l) {
                    ctValid = false
                    let r = q
                    q = watch(r) { w in
                        w.record(r, r, node: ni, iface: inIf, .receive, .conntrackCannotStart(l4: l.l4Protocol, why: why))
                    }
                    if nf.dropInvalid {
                        let d = q
                        _ = watch(d) { w in
                            w.record(d, d, node: ni, iface: inIf, .forward, .conntrackInvalidDrop, drop: "ct state invalid")
                        }
                        return finish(.droppedOnPath(at: node.name, reason: "conntrack INVALID (no entry for a reply) dropped by a ct state invalid rule"))
                    }
                } else {
                    if let e = nat.connections[ni], l.l4Protocol == .tcp || l.l4Protocol == .udp,
                       e.replyDestination != IPAddress(bytes: q.frame.destinationAddress(l)) {
                        // The request was MASQUERADEd but never answered through its entry: this
                        // packet starts a connection whose reply tuple is the request's original
                        // tuple, so NAT's null binding clashes (nf_nat_used_tuple) and
                        // get_unique_tuple() gives it a random source port. Not modelled further.
                        let r = q
                        q = watch(r) { w in
                            w.record(r, r, node: ni, iface: inIf, .receive, .natTupleClash)
                        }
                    }
                    // A new entry (the model keeps one per router and flow: the first).
                    if nat.connections[ni] == nil {
                        nat.connections[ni] = ConntrackEntry(creatorWasReply: leg.reply, replyDestination: IPAddress(bytes: q.frame.sourceAddress(l)))
                    }
                    original = true
                }
            }
        }
        // 2. Reply to a masqueraded connection: translate the destination back (PRE_ROUTING NAT).
        if v4, let m = nat.masquerades[ni], ctValid, IPAddress(bytes: q.frame.destinationAddress(l)) == m.translated,
           IPAddress(bytes: q.frame.sourceAddress(l)) != m.original {
            let before = q
            let mode: Frame.L4ChecksumUpdate = q.skb?.ipSummed == .partial ? .pseudoHeader : .incremental
            q.frame.natRewriteIPv4(source: false, to: m.original.bytes.withUnsafeBytes { _ in be32(m.original) }, l, l4: mode)
            l = q.layout
            q = watch(q) { w in
                w.record(before, q, node: ni, iface: inIf, .receive, .unNAT(to: m.original, pseudoHeader: mode == .pseudoHeader))
            }
        }
        // 3. Local after all (e.g. an un-translated reply addressed to the router itself).
        let dst = IPAddress(bytes: q.frame.destinationAddress(l))
        if node.interfaces.contains(where: { $0.addresses.contains { $0.address == dst } }) {
            return localDeliver(q, node: ni, device: inDev)
        }
        // 4. ip_forward: skb_forward_csum, TTL.
        guard let (outIf, nextHop) = net.route(from: ni, to: dst), let outDev = net.deviceOf(node: ni, iface: outIf),
              let target = targetDevice(for: nextHop, broadcastLeg: nil) else {
            return finish(.droppedOnPath(at: node.name, reason: "no route to \(dst)"))
        }
        // ip_exceeds_mtu() / ip6_pkt_too_big(): a packet larger than the egress MTU (IPv4 with
        // DF; a GSO skb by its segments' size) is dropped with "fragmentation needed".
        if let s = q.skb, q.fragmentMTU == nil {
            let mtu = Frame.linkMTU
            let dfSet = q.frame.mayNotFragment(l)
            let ipLen = s.isGSO ? (l.payloadOffset - l.l3Offset + s.gsoSize) : (l.end - l.l3Offset)
            if dfSet && ipLen > mtu {
                let r = q
                _ = watch(r) { w in
                    w.record(r, r, node: ni, iface: node.interfaces[outIf].name, .forward,
                             .exceedsMTU(v6: !v4, ipLength: ipLen, gso: s.isGSO, mtu: mtu), drop: "exceeds MTU")
                }
                return finish(.droppedOnPath(at: node.name, reason: "larger than the egress MTU (\(ipLen) > \(mtu)), DF set"))
            }
        }
        do {
            let before = q
            var s = q.skb!
            let event = StepEvent.ipForward(v6: !v4, summed: s.ipSummed, csumValid: s.csumValid)
            if s.ipSummed == .complete {
                s = s.with(.none)
            }
            q.carrier = .skb(s)
            q.frame.decrementTTL(l)
            q.frame.setMACs(source: net.devices[outDev].mac, destination: net.destinationMAC(for: target))
            q.target = target
            q = watch(q) { w in w.record(before, q, node: ni, iface: node.interfaces[outIf].name, .forward, event) }
        }
        // 5. mangle POSTROUTING: CHECKSUM --checksum-fill.
        q = checksumFill(q, node: ni, nf, profile: profile, iface: node.interfaces[outIf].name)
        // 6. nat POSTROUTING: MASQUERADE. The nat table sees only a connection's new packets: a
        // reply belongs to the connection its original packet made, so it is never masqueraded
        // (it was un-NATed above if the original was).
        if v4, original, nf.masqueradeOn == node.interfaces[outIf].name, ctValid, let addr = node.interfaces[outIf].address(.v4)?.address {
            let before = q
            let src = IPAddress(bytes: q.frame.sourceAddress(l))
            if src != addr {
                let mode: Frame.L4ChecksumUpdate = q.skb?.ipSummed == .partial ? .pseudoHeader : .incremental
                q.frame.natRewriteIPv4(source: true, to: be32(addr), l, l4: mode)
                nat.masquerades[ni] = (src, addr)
                nat.connections[ni]?.replyDestination = addr
                q = watch(q) { w in
                    w.record(before, q, node: ni, iface: node.interfaces[outIf].name, .forward, .masquerade(to: addr, pseudoHeader: mode == .pseudoHeader))
                }
            }
        } else if v4, original, nf.masqueradeOn == node.interfaces[outIf].name, !ctValid {
            let r = q
            q = watch(r) { w in
                w.record(r, r, node: ni, iface: w.topology.nodes[ni].interfaces[outIf].name, .forward, .masqueradeWithoutConntrack)
            }
        }
        transmit(q, on: outDev)
    }

    func be32(_ a: IPAddress) -> UInt32 {
        a.bytes.be32(at: 0)
    }

    // MARK: Receiving

    /// Local delivery: the transport protocol's checksum check, then the socket.
    mutating func localDeliver(_ p: Packet, node ni: Int, device d: Int) {
        let node = topology.nodes[ni]
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
            count(node.name, "dhclient: bad udp checksums")
            return finish(.droppedByReceiver(counter: "dhclient: bad udp checksums"))
        }
        let udpNoCsum = l.l4Protocol == .udp && v4 && p.frame.l4Checksum(l) == 0
        let trusted = s.csumUnnecessary
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
            count(node.name, counter)
            return finish(.droppedByReceiver(counter: counter))
        }
        if !isDestination {
            return finish(.droppedOnPath(at: node.name, reason: "addressed to \(node.name), which has no socket for it"))
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

    // MARK: Userspace forwarders

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
        default:
            q.carrier = .raw
            read = .forwarderReadTap(.none)
        }
        q = watch(q) { w in w.record(p, q, node: ni, iface: node.interfaces[iface].name, .userspace, read) }
        // Route.
        let dst = IPAddress(bytes: q.frame.destinationAddress(l))
        let outIf: Int
        var target: Int?
        if r.forwarding == .l3 {
            guard let (o, nh) = net.route(from: ni, to: dst) else {
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
        guard let outDev = net.deviceOf(node: ni, iface: outIf), let tgt = target else {
            return finish(.droppedOnPath(at: node.name, reason: "no device for the egress interface"))
        }
        if r.forwarding == .l3 {
            let before = q
            q.frame.setMACs(source: net.devices[outDev].mac, destination: net.destinationMAC(for: tgt))
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
            return tapWrite(w, tap: outDev, vnet: ts.vnetHdr)
        }
        let before = q
        if case let .vnet(h) = q.carrier {
            var s = SkbState(virtioHeader: h)
            if h.isGSO {
                // packet_alloc_skb(): fully linear when it fits in a page, else hdr_len linear.
                s.headLength = q.frame.count + 16 < 4096 ? q.frame.count : max(Int(h.hdrLen), 14)
            }
            q.carrier = .skb(s)
            q = watch(q) { w in w.record(before, q, node: ni, iface: node.interfaces[outIf].name, .transmit, .packetSndVnet(s)) }
        } else {
            if Self.linkFrameLength(q) > FrameLayout.ethernetLength + Frame.linkMTU {
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
