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
                         p.layout.ipVersion == .v4 ? "eth_type_trans → ip_rcv → ip_rcv_core" : "eth_type_trans → ipv6_rcv → ip6_rcv_core",
                         "The destination MAC \(Self.macString(p.frame.destinationMAC)) is not \(w.name(d))'s: the frame is PACKET_OTHERHOST and IP drops it.",
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
            w.record(p, p, node: ni, iface: w.ifLabel(d), .receive, l.ipVersion == .v4 ? "ip_rcv → ip_route_input" : "ipv6_rcv → ip6_route_input",
                     "\(node.name) is not the destination and does not forward: the packet is dropped.", drop: "not forwarded")
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
            w.record(before, p, node: n.node, iface: "wire", .send, "remote host: NIC hardware checksum",
                     "A machine beyond the wire sends the packet; its NIC filled in every checksum, so the bytes are correct on the wire.")
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
        let what = q.fragmentMTU != nil
            ? "The datagram arrives as IP fragments: a NIC cannot verify an L4 checksum that spans several frames, so every fragment is CHECKSUM_NONE and the stack verifies after reassembly."
            : n.features.has(.rxChecksumming)
            ? (valid ? "The NIC verified the checksum in hardware: CHECKSUM_UNNECESSARY." : "The NIC found the checksum wrong and leaves CHECKSUM_NONE for the stack to verify (and drop).")
            : "rx-checksumming is off: the NIC leaves CHECKSUM_NONE; the stack verifies."
        q = watch(q) { w in w.record(p, q, node: n.node, iface: w.ifLabel(nic), .receive, "napi_gro_receive (NIC rx checksum)", what) }
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
        var fn: String
        var what: String
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
            fn = v4 ? "tcp_transmit_skb → tcp_v4_send_check → __tcp_v4_send_check" : "tcp_transmit_skb → tcp_v6_send_check → __tcp_v6_send_check"
            if partial {
                what = "TCP leaves only the pseudo-header sum in the checksum field and marks the skb CHECKSUM_PARTIAL: a promise that someone finishes it later."
                if !feats.txChecksum {
                    what += profile == .linux6 || leg.payloadLength == 0
                        ? " (\(profile.rawValue) does this for every segment; \(name(dev))'s missing checksum offload is handled at transmit.)"
                        : " (GSO on \(name(dev)) gives the socket HW_CSUM in sk_setup_caps; the missing offload is handled at transmit.)"
                }
            } else {
                fn += " (software branch)"
                what = "The route's device \(name(dev)) has neither checksum offload nor GSO, so \(profile.rawValue) TCP computes the full checksum itself: CHECKSUM_NONE."
            }
        case .udp where !software:
            fill = feats.txChecksum ? .partial : .complete
            fn = v4 ? (feats.txChecksum ? "udp_sendmsg → udp_send_skb → udp4_hwcsum" : "udp_sendmsg → udp_send_skb → udp_csum")
                : (feats.txChecksum ? "udpv6_sendmsg → udp_v6_send_skb → udp6_hwcsum_outgoing" : "udpv6_sendmsg → udp_v6_send_skb → udp_csum")
            what = feats.txChecksum
                ? "\(name(dev)) can checksum, so UDP leaves the pseudo-header sum and marks the skb CHECKSUM_PARTIAL."
                : "\(name(dev)) cannot checksum, so UDP computes the checksum in software (a computed 0 is sent as 0xFFFF)."
        case .icmp, .icmpv6:
            fill = .complete
            fn = leg.reply ? (v4 ? "icmp_echo → icmp_reply → icmp_push_reply" : "icmpv6_echo_reply → icmpv6_push_pending_frames")
                : (v4 ? "ping_v4_sendmsg → ping_v4_push_pending_frames" : "ping_v6_sendmsg → icmpv6_push_pending_frames")
            what = "ICMP computes its checksum in software, whatever the device offers: CHECKSUM_NONE with correct bytes. This is why ping works where SSH dies."
        default:
            fill = .complete
            fn = leg.userspaceSender ? "packet_snd (AF_PACKET, checksum computed by the program)" : "userspace sender (software checksum)"
            what = "The program builds the whole frame itself, checksum included, and sends it as-is: CHECKSUM_NONE."
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
                let n = f.fragmentCount(fl, mtu: Frame.linkMTU)
                if leg.proto == .udp {
                    fn = v4 ? "udp_sendmsg → ip_make_skb → __ip_append_data → udp_send_skb → udp_csum → ip_fragment"
                        : "udpv6_sendmsg → ip6_make_skb → __ip6_append_data → udp_v6_send_skb → udp_csum → ip6_fragment"
                    what = "The datagram (\(ipLen) bytes of IP) does not fit the 1500-byte MTU, so __ip\(v4 ? "" : "6")_append_data never chooses CHECKSUM_PARTIAL, whatever \(name(dev)) offers: UDP computes the checksum in software over the whole datagram (CHECKSUM_NONE, correct bytes) and the kernel sends it as \(n) IP fragments; only the first carries the UDP header."
                } else {
                    fn += v4 ? " → ip_fragment" : " → ip6_fragment"
                    what += " The datagram (\(ipLen) bytes of IP) does not fit the 1500-byte MTU: it leaves as \(n) IP fragments."
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
            var explanation = what
            if gso > 0 { explanation += " The payload exceeds one MSS (\(mss)), so TCP builds one GSO super-frame (gso_size \(mss)) for the device or the kernel to segment." }
            p = watch(p) { w in w.record(empty, p, node: ni, iface: node.interfaces[iface].name, .send, fn, explanation) }
            // packet_snd(): a frame longer than the device MTU (plus its header) and not GSO is
            // refused with EMSGSIZE; a program writing frames cannot fragment.
            if software && gso == 0 && frame.count > FrameLayout.ethernetLength + Frame.linkMTU {
                let r = p
                _ = watch(r) { w in
                    w.record(r, r, node: ni, iface: node.interfaces[iface].name, .transmit, "packet_snd",
                             "The frame (\(frame.count) bytes) is longer than the 1500-byte MTU allows and a program that writes whole frames cannot fragment: packet_snd refuses it (EMSGSIZE), nothing is sent.",
                             drop: "EMSGSIZE")
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
            let what = profile.checksumFillSkipsGSO
                ? "checksum_tg skips GSO skbs on \(profile.rawValue): the promise stays pending."
                : "checksum_tg calls skb_checksum_help on a GSO skb, which refuses it (skb_warn_bad_offload): nothing changes."
            return watch(q) { w in w.record(p, q, node: ni, iface: iface, .transmit, "nf_hook(POSTROUTING) → checksum_tg", what) }
        }
        q.frame.completeChecksum(start: s.csumStart, offset: s.csumOffset, end: l.end, mangleZero: profile.checksumHelpMangles0)
        q.carrier = .skb(SkbState(ipSummed: .none))
        return watch(q) { w in
            w.record(p, q, node: ni, iface: iface, .transmit, "nf_hook(POSTROUTING) → checksum_tg → skb_checksum_help",
                     "The CHECKSUM --checksum-fill rule finishes the checksum here: CHECKSUM_NONE with correct bytes, safe for any reader.")
        }
    }

    /// Why a packet cannot create a conntrack entry (nil when it can): `icmp_new()` accepts only
    /// requests (echo, timestamp, info, address mask), `tcp_new()` rejects a SYN-ACK (sIV).
    static func cannotStartConnection(_ f: Frame, _ l: FrameLayout) -> String? {
        switch l.l4Protocol {
        case .icmp where f.bytes[l.l4Offset] == 0: return "an ICMP echo reply"
        case .icmpv6 where f.bytes[l.l4Offset] == 129: return "an ICMPv6 echo reply"
        case .tcp where f.bytes[l.l4Offset + 13] & 0x12 == 0x12: return "a TCP SYN-ACK"
        default: return nil
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
            let proto = l.l4Protocol == .tcp ? "tcp_error" : (l.l4Protocol == .udp ? "udp_error" : "icmp_error")
            var what: String
            let before = q
            if nf.conntrackChecksum && (s.ipSummed == .none || s.ipSummed == .complete) {
                if q.frame.l4ChecksumIsValid(l) {
                    var ns = s.with(.complete)
                    ns.csumValid = true
                    q.carrier = .skb(ns)
                    what = "Conntrack verifies the checksum (nf_conntrack_checksum=1, skb not PARTIAL): correct; __skb_checksum_complete leaves CHECKSUM_COMPLETE."
                } else {
                    ctValid = false
                    what = "Conntrack verifies the checksum and finds it wrong: the packet is INVALID, gets no conntrack entry and so no NAT."
                }
            } else if s.ipSummed == .partial || s.ipSummed == .unnecessary {
                what = "Conntrack skips the check for \(s.ipSummed.short): nf_ip_checksum treats it as fine."
            } else {
                what = "nf_conntrack_checksum=0: conntrack does not verify."
            }
            q = watch(q) { w in
                w.record(before, q, node: ni, iface: inIf, .receive, "nf_conntrack_in → \(proto) → \(v4 ? "nf_ip_checksum" : "nf_ip6_checksum")", what)
            }
            if !ctValid && nf.dropInvalid {
                let r = q
                _ = watch(r) { w in
                    w.record(r, r, node: ni, iface: inIf, .forward, "nft/iptables: ct state invalid drop",
                             "A rule drops packets conntrack marked INVALID.", drop: "ct state invalid")
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
                        w.record(r, r, node: ni, iface: inIf, .receive, "nf_conntrack_in → resolve_normal_ct → init_conntrack → \(l.l4Protocol == .tcp ? "tcp_new" : "icmp_new")",
                                 "No conntrack entry exists for this connection here (the packet that would have made one never passed), and \(why) cannot start one: the packet is INVALID.")
                    }
                    if nf.dropInvalid {
                        let d = q
                        _ = watch(d) { w in
                            w.record(d, d, node: ni, iface: inIf, .forward, "nft/iptables: ct state invalid drop",
                                     "A rule drops packets conntrack marked INVALID.", drop: "ct state invalid")
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
                            w.record(r, r, node: ni, iface: inIf, .receive, "nf_conntrack_in → init_conntrack; nf_nat_setup_info → get_unique_tuple → nf_nat_used_tuple",
                                     "No entry matches this reply (its request was masqueraded, so replies are expected at the masqueraded address): it starts a new connection whose reply tuple clashes with the request's entry, and the kernel's NAT gives it a random source port. The simulation keeps the original port from here on.")
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
                w.record(before, q, node: ni, iface: inIf, .receive, "nf_nat_ipv4_fn → nf_nat_ipv4_manip_pkt → inet_proto_csum_replace4",
                         mode == .pseudoHeader
                            ? "Un-NAT of the reply: the destination goes back to \(m.original); the PARTIAL field is updated as a pseudo-header sum."
                            : "Un-NAT of the reply: the destination goes back to \(m.original); the finished checksum is updated incrementally (a wrong one stays wrong).")
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
            let dfSet = !v4 || q.frame.bytes[l.l3Offset + 6] & 0x40 != 0
            let ipLen = s.isGSO ? (l.payloadOffset - l.l3Offset + s.gsoSize) : (l.end - l.l3Offset)
            if dfSet && ipLen > mtu {
                let r = q
                _ = watch(r) { w in
                    w.record(r, r, node: ni, iface: node.interfaces[outIf].name, .forward,
                             v4 ? "ip_forward → ip_exceeds_mtu" : "ip6_forward → ip6_pkt_too_big",
                             "The packet (\(ipLen) bytes of IP\(s.isGSO ? " per segment" : "")) is larger than the egress MTU (\(mtu)) and may not be fragmented: the router drops it and answers ICMP fragmentation needed.",
                             drop: "exceeds MTU")
                }
                return finish(.droppedOnPath(at: node.name, reason: "larger than the egress MTU (\(ipLen) > \(mtu)), DF set"))
            }
        }
        do {
            let before = q
            var s = q.skb!
            var what = "The router forwards: TTL − 1 with the IP header checksum updated incrementally; the TCP/UDP field is not touched (TTL is not in the pseudo-header)."
            if s.ipSummed == .complete {
                s = s.with(.none)
                what += " skb_forward_csum turns COMPLETE into NONE" + (s.csumValid ? " (csum_valid from the check stays set, so later stacks trust it)." : ".")
            } else {
                what += " skb_forward_csum keeps \(s.ipSummed.short)."
            }
            q.carrier = .skb(s)
            q.frame.decrementTTL(l)
            q.frame.setMACs(source: net.devices[outDev].mac, destination: net.destinationMAC(for: target))
            q.target = target
            let fn = v4 ? "ip_forward → skb_forward_csum → ip_decrease_ttl" : "ip6_forward → skb_forward_csum (hop_limit − 1)"
            q = watch(q) { w in w.record(before, q, node: ni, iface: node.interfaces[outIf].name, .forward, fn, what) }
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
                    w.record(before, q, node: ni, iface: node.interfaces[outIf].name, .forward,
                             "nf_nat_ipv4_out → nf_nat_ipv4_manip_pkt → inet_proto_csum_replace4",
                             mode == .pseudoHeader
                                ? "MASQUERADE rewrites the source to \(addr). The skb is PARTIAL, so the field is updated as a pseudo-header sum (pseudohdr=true): still unfinished, still consistent."
                                : "MASQUERADE rewrites the source to \(addr) and updates the finished checksum incrementally (RFC 1624): a correct one stays correct, a wrong one stays wrong.")
                }
            }
        } else if v4, original, nf.masqueradeOn == node.interfaces[outIf].name, !ctValid {
            let r = q
            q = watch(r) { w in
                w.record(r, r, node: ni, iface: w.topology.nodes[ni].interfaces[outIf].name, .forward, "nf_nat_ipv4_out (no conntrack entry)",
                         "The packet is INVALID, has no conntrack entry, and so is forwarded without MASQUERADE.")
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
            let what: String
            if trusted {
                what = "The client reads PACKET_AUXDATA: TP_STATUS_\(notReady ? "CSUMNOTREADY" : "CSUM_VALID") tells it to skip its own check, so it accepts."
            } else if ok {
                what = "The DHCP client (AF_PACKET socket) checks the UDP checksum itself from the bytes: correct, accepted."
            } else {
                what = "The DHCP client (AF_PACKET socket) checks the UDP checksum itself from the bytes and finds the unfinished pseudo-header sum: \"bad udp checksum\", the OFFER is ignored."
            }
            _ = watch(p) { w in
                w.record(p, p, node: ni, iface: iface, .deliver, "tpacket_rcv → dhclient (userspace checksum check)", what,
                         drop: ok ? "delivered" : "bad udp checksum")
            }
            if ok { return deliver(p) }
            count(node.name, "dhclient: bad udp checksums")
            return finish(.droppedByReceiver(counter: "dhclient: bad udp checksums"))
        }
        let fn: String
        let counter: String
        switch l.l4Protocol {
        case .tcp:
            fn = v4 ? "tcp_v4_rcv → skb_checksum_init → __skb_checksum_validate" : "tcp_v6_rcv → skb_checksum_init → __skb_checksum_validate"
            counter = v4 ? "Tcp: InCsumErrors" : "Tcp: InCsumErrors"
        case .udp:
            fn = v4 ? "udp_rcv → __udp4_lib_rcv → udp4_csum_init → __udp_lib_checksum_complete" : "udpv6_rcv → __udp6_lib_rcv → udp6_csum_init → __udp_lib_checksum_complete"
            counter = v4 ? "Udp: InCsumErrors" : "Udp6: InCsumErrors"
        case .icmp:
            fn = "icmp_rcv → skb_checksum_simple_validate"
            counter = "Icmp: InCsumErrors"
        case .icmpv6:
            fn = "icmpv6_rcv → skb_checksum_validate"
            counter = "Icmp6: InCsumErrors"
        }
        let udpNoCsum = l.l4Protocol == .udp && v4 && p.frame.l4Checksum(l) == 0
        let trusted = s.csumUnnecessary
        let ok = trusted || valid || udpNoCsum
        var what: String
        if trusted {
            what = "skb_csum_unnecessary: \(s.csumValid && s.ipSummed == .none ? "csum_valid (an earlier software check)" : s.ipSummed.short) is taken as valid, so the stack does not look at the checksum bytes."
            if !valid && s.ipSummed == .unnecessary { what += " The bytes are wrong, but nobody checks." }
        } else if udpNoCsum {
            what = "UDP checksum 0 means \"none\" over IPv4: accepted unverified."
        } else if valid {
            what = "The stack verifies the checksum from the bytes: correct."
        } else {
            what = "The stack verifies the checksum from the bytes: wrong. The segment is dropped silently and \(counter) goes up (the sender retransmits into the same wall)."
        }
        var fnFull = isDestination ? fn : fn + " (no socket here)"
        if let n = Self.fragments(p) {
            // ip_local_deliver() → ip_defrag() / ipv6_frag_rcv(): the fragments are reassembled
            // first; the checksum is then verified over the whole datagram.
            fnFull = (v4 ? "ip_local_deliver → ip_defrag → " : "ipv6_frag_rcv → ip6_frag_reasm → ") + fnFull
            what = "The \(n) IP fragments are reassembled first (CHECKSUM_NONE: no device could verify a checksum spread over several frames). " + what
        }
        _ = watch(p) { w in
            w.record(p, p, node: ni, iface: iface, .deliver, fnFull, what, drop: ok ? (isDestination ? "delivered" : "no socket") : "checksum error")
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
            w.record(p, p, node: node, iface: "wire", .deliver, "remote host: NIC rx checksum → stack",
                     valid ? "The remote host receives correct bytes." : "The remote host finds the checksum wrong and drops the packet.",
                     drop: valid ? "delivered" : "checksum error")
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
        let readFn: String
        var what: String
        switch p.carrier {
        case let .skb(s):
            readFn = r.vnetHdrAware ? "packet_rcv → virtio_net_hdr_from_skb (PACKET_VNET_HDR)" : "packet_rcv / tpacket_rcv (AF_PACKET)"
            if r.vnetHdrAware {
                var h = VirtioNetHeader()
                if s.ipSummed == .partial {
                    h.flags = VirtioNetHeader.needsCsum
                    h.csumStart = UInt16(s.csumStart)
                    h.csumOffset = UInt16(s.csumOffset)
                } else if s.ipSummed == .unnecessary {
                    h.flags = VirtioNetHeader.dataValid
                }
                if s.isGSO { setGSO(&h, s, l) }
                q.carrier = .vnet(h)
                what = "The forwarder reads with PACKET_VNET_HDR: the skb's checksum state comes along as a virtio header (\(h.summary))."
            } else {
                q.carrier = .raw
                what = s.ipSummed == .partial
                    ? "The forwarder reads only the bytes. The kernel flags TP_STATUS_CSUMNOTREADY, but the program ignores it: the PARTIAL promise is lost here."
                    : "The forwarder reads only the bytes; their checksum is already \(p.frame.l4ChecksumIsValid(l) ? "final" : "wrong")."
            }
        case .vnet:
            readFn = "read() on the TAP fd"
            if r.vnetHdrAware {
                what = "The forwarder reads the TAP with its vnet header and keeps it."
            } else {
                q.carrier = .raw
                what = "The forwarder reads the TAP but drops the vnet header: any NEEDS_CSUM promise is lost here."
            }
        default:
            readFn = "read() on the TAP fd"
            q.carrier = .raw
            what = "The forwarder reads bare bytes from the TAP: no metadata exists."
        }
        q = watch(q) { w in w.record(p, q, node: ni, iface: node.interfaces[iface].name, .userspace, readFn, what) }
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
            if l.ipVersion == .v4 {
                q.frame.bytes[l.l3Offset + 8] &-= 1
                q.frame.fillIPv4Checksum(l)
            } else {
                q.frame.bytes[l.l3Offset + 7] &-= 1
            }
            q.target = tgt
            q = watch(q) { w in
                w.record(before, q, node: ni, iface: node.interfaces[outIf].name, .userspace, "userspace forwarder: route, rewrite MACs, TTL − 1, recompute IP header checksum",
                         "The program routes in userspace; it never touches the TCP/UDP checksum field.")
            }
        }
        // Write.
        if case let .tap(ts) = net.devices[outDev].kind {
            var w = q
            if !(r.vnetHdrAware && ts.vnetHdr) { w.carrier = .raw } else if case .raw = w.carrier { w.carrier = .vnet(VirtioNetHeader()) }
            return tapWrite(w, tap: outDev, vnet: ts.vnetHdr)
        }
        let before = q
        var sndWhat: String
        if case let .vnet(h) = q.carrier {
            var s = SkbState(ipSummed: .none)
            if h.needsChecksum { s = SkbState(ipSummed: .partial, csumStart: Int(h.csumStart), csumOffset: Int(h.csumOffset)) }
            if h.isGSO {
                s.gsoSize = Int(h.gsoSize)
                s.gsoType = VirtioNetHeader.GSOType(rawValue: h.gsoType & 0x7F)
                s.gsoDodgy = true
                // packet_alloc_skb(): fully linear when it fits in a page, else hdr_len linear.
                s.headLength = q.frame.count + 16 < 4096 ? q.frame.count : max(Int(h.hdrLen), 14)
            }
            q.carrier = .skb(s)
            sndWhat = "packet_snd with a vnet header rebuilds the skb state: \(s.summary)."
            q = watch(q) { w in w.record(before, q, node: ni, iface: node.interfaces[outIf].name, .transmit, "packet_snd → virtio_net_hdr_to_skb", sndWhat) }
        } else {
            if Self.linkFrameLength(q) > 1514 {
                _ = watch(q) { w in
                    w.record(before, q, node: ni, iface: node.interfaces[outIf].name, .transmit, "packet_snd",
                             "A GSO super-frame read as bytes is larger than the MTU: packet_snd refuses it (EMSGSIZE).", drop: "EMSGSIZE")
                }
                return finish(.droppedOnPath(at: node.name, reason: "packet_snd: frame larger than MTU (EMSGSIZE)"))
            }
            q.carrier = .skb(SkbState(ipSummed: .none))
            sndWhat = "packet_snd makes a new skb from the bytes: CHECKSUM_NONE. If the field still holds the pseudo-header sum, nobody will ever finish it."
            q = watch(q) { w in w.record(before, q, node: ni, iface: node.interfaces[outIf].name, .transmit, "packet_snd", sndWhat) }
        }
        transmit(q, on: outDev)
    }
}
