import Checksum
import Wire

/// Kernel forwarding, in a namespace router or a router VM's guest: conntrack, NAT, `ip_forward()`
/// and the CHECKSUM target.
extension Walk {
    /// Kernel forwarding in a namespace or a router VM's guest.
    mutating func forward(_ p: Packet, node ni: Int, settings nf: Netfilter, device inDev: Int) {
        // Only the node's name and interfaces: a copy of the node retains each of its fields (at every hop).
        let nodeName = topology.nodes[ni].name, interfaces = topology.nodes[ni].interfaces
        let profile = topology.nodes[ni].kernel ?? topology.hostKernel
        var q = p
        var l = q.layout
        let v4 = l.ipVersion == .v4
        let inIf = net.devices[inDev].l3.map { interfaces[$0.iface].name } ?? ifLabel(inDev)
        var ctValid = true
        // Whether the packet travels in its connection's original direction (MASQUERADE applies
        // to those; replies are un-NATed). Without conntrack: the leg's own direction.
        var original = !leg.reply
        // The conntrack entry this packet belongs to (`nat.connections[ni]`), once found or made.
        var ctIndex: Int?
        // This packet made its entry: the entry is unconfirmed until the packet leaves (or is
        // delivered here): `nf_conntrack_confirm()` at POSTROUTING / LOCAL_IN. A packet dropped
        // on the way (no route, larger than the MTU with DF) takes it with it, so a later packet
        // of the flow starts a new connection (random campaign seed 20261228: mtu-jumbo-router
        // with masquerade on eth0 and the query dropped for its size — the kernel masqueraded
        // the answer as a new connection's first packet).
        var created = false
        // 1. Conntrack in PRE_ROUTING.
        if nf.conntrackActive {
            let before = q
            let check = Self.conntrackChecksum(&q, l, enabled: nf.conntrackChecksum)
            if check == .invalid { ctValid = false }
            q = watch(q) { w in w.record(before, q, node: ni, iface: inIf, .receive, .conntrackCheck(l4: l.l4Protocol, v6: !v4, result: check)) }
            if !ctValid && nf.dropInvalid {
                let r = q
                _ = watch(r) { w in
                    w.record(r, r, node: ni, iface: inIf, .forward, .conntrackInvalidDrop, drop: "ct state invalid")
                }
                return finish(.droppedOnPath(at: nodeName, reason: "conntrack INVALID (bad checksum) dropped by a ct state invalid rule"))
            }
            // The connection's entry: found (this flow's earlier packets passed here) by its
            // original tuple or its reply tuple (`nf_conntrack_find_get`), or a new one, which an
            // ICMP echo reply or a TCP SYN-ACK cannot start (icmp_new / tcp_new return false:
            // INVALID). A UDP packet or a TCP ACK (nf_conntrack_tcp_loose) can.
            let tuple = ConntrackTuple(q.frame, l)
            var found: (index: Int, original: Bool)?
            for (i, e) in (nat.connections[ni] ?? []).enumerated() {
                if e.original == tuple { found = (i, true); break }
                if e.reply == tuple { found = (i, false); break }
            }
            if ctValid {
                if let (i, isOriginal) = found, let e = nat.connections[ni]?[i] {
                    ctIndex = i
                    original = isOriginal
                    if l.l4Protocol == .tcp, e.synSent {
                        let flags = q.frame.tcpFlags(l)
                        if !original, flags.isSuperset(of: [.syn, .ack]) {
                            nat.connections[ni]?[i].synSent = false  // SYN_RECV: the answer passed
                        } else if original, !flags.contains(.syn) {
                            // tcp_conntracks[ORIGINAL][ack] from sSS is sIV: -NF_ACCEPT, untracked.
                            ctValid = false
                            let r = q
                            q = watch(r) { w in w.record(r, r, node: ni, iface: inIf, .receive, .conntrackTCPStateInvalid) }
                            if nf.dropInvalid {
                                let d = q
                                _ = watch(d) { w in
                                    w.record(d, d, node: ni, iface: inIf, .forward, .conntrackInvalidDrop, drop: "ct state invalid")
                                }
                                return finish(.droppedOnPath(at: nodeName, reason: "conntrack INVALID (a segment after an unanswered SYN) dropped by a ct state invalid rule"))
                            }
                        }
                    }
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
                        return finish(.droppedOnPath(at: nodeName, reason: "conntrack INVALID (no entry for a reply) dropped by a ct state invalid rule"))
                    }
                } else {
                    // A new connection whose reply tuple is an existing entry's original tuple:
                    // that entry was MASQUERADEd and never answered through it (this packet is
                    // addressed to the untranslated source), so NAT's null binding clashes
                    // (nf_nat_used_tuple) and get_unique_tuple() gives this one a random source
                    // port. Not modelled further. (A tunnel's far end sends from its own hashed
                    // source port: its outer packets make a connection of their own, no clash.)
                    if l.l4Protocol == .tcp || l.l4Protocol == .udp,
                       (nat.connections[ni] ?? []).contains(where: { $0.original == tuple.inverted }) {
                        let r = q
                        q = watch(r) { w in
                            w.record(r, r, node: ni, iface: inIf, .receive, .natTupleClash)
                        }
                    }
                    let syn = l.l4Protocol == .tcp && q.frame.tcpFlags(l) == .syn
                    nat.connections[ni, default: []].append(ConntrackEntry(original: tuple, synSent: syn))
                    ctIndex = nat.connections[ni]!.count - 1
                    original = true
                    created = true
                }
            }
        }
        // 2. Reply to a masqueraded connection: translate the destination back (PRE_ROUTING NAT;
        // nf_nat_ipv4_fn / nf_nat_ipv6_fn).
        if ctValid, !original, let i = ctIndex, let e = nat.connections[ni]?[i], let translated = e.natSource,
           IPAddress(bytes: q.frame.destinationAddress(l)) == translated {
            let before = q
            let back = e.original.source
            let mode: Frame.L4ChecksumUpdate = q.skb?.ipSummed == .partial ? .pseudoHeader : .incremental
            if v4 {
                q.frame.natRewriteIPv4(source: false, to: be32(back), l, l4: mode)
            } else {
                q.frame.natRewriteIPv6(source: false, to: back.bytes, l, l4: mode)
            }
            l = q.layout
            q = watch(q) { w in
                w.record(before, q, node: ni, iface: inIf, .receive, .unNAT(to: back, pseudoHeader: mode == .pseudoHeader))
            }
        }
        // 3. Local after all (e.g. an un-translated reply addressed to the router itself).
        let dst = IPAddress(bytes: q.frame.destinationAddress(l))
        if interfaces.contains(where: { $0.addresses.contains { $0.address == dst } }) {
            return localDeliver(q, node: ni, device: inDev)
        }
        // 4. ip_forward: skb_forward_csum, TTL.
        guard let (outIf, nextHop) = shared.route(from: ni, to: dst), let outDev = shared.deviceOf(node: ni, iface: outIf),
              let target = targetDevice(for: nextHop, broadcastLeg: nil) else {
            if created { nat.connections[ni]?.removeLast() }
            return finish(.droppedOnPath(at: nodeName, reason: "no route to \(dst)"))
        }
        // ip_exceeds_mtu() / ip6_pkt_too_big(): a packet larger than the egress MTU (IPv4 with
        // DF; a GSO skb by its segments' size; IPv6 always, fragments too: an IPv6 router never
        // fragments) is dropped with "fragmentation needed" / "packet too big". IPv4 fragments
        // have DF clear: they are cut again on output (below).
        let outMTU = net.devices[outDev].mtu
        if let s = q.skb, q.fragmentMTU == nil || !v4 {
            let mtu = outMTU
            let fragmented = q.fragmentMTU != nil
            let dfSet = fragmented || q.frame.mayNotFragment(l)
            let ipLen = fragmented ? Self.linkFrameLength(q) - FrameLayout.ethernetLength
                : s.isGSO ? (l.payloadOffset - l.l3Offset + s.gsoSize) : (l.end - l.l3Offset)
            if dfSet && ipLen > mtu {
                let r = q
                _ = watch(r) { w in
                    w.record(r, r, node: ni, iface: interfaces[outIf].name, .forward,
                             .exceedsMTU(v6: !v4, ipLength: ipLen, gso: s.isGSO, mtu: mtu), drop: "exceeds MTU")
                }
                if created { nat.connections[ni]?.removeLast() }
                return finish(.droppedOnPath(at: nodeName, reason: "larger than the egress MTU (\(ipLen) > \(mtu)), DF set"))
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
            q.frame.setMACs(source: net.devices[outDev].mac, destination: shared.destinationMAC(for: target))
            q.target = target
            q = watch(q) { w in w.record(before, q, node: ni, iface: interfaces[outIf].name, .forward, event) }
        }
        // 5. mangle POSTROUTING: CHECKSUM --checksum-fill.
        q = checksumFill(q, node: ni, nf, profile: profile, iface: interfaces[outIf].name)
        // 6. nat POSTROUTING: MASQUERADE. The nat table sees only a connection's new packets: a
        // reply belongs to the connection its original packet made, so it is never masqueraded
        // (it was un-NATed above if the original was).
        // IPv6 too (nf_nat_masquerade_ipv6: the egress interface's address): the same
        // inet_proto_csum_replace rules over four words instead of one.
        if original, nf.masqueradeOn == interfaces[outIf].name, ctValid, let addr = interfaces[outIf].address(l.ipVersion)?.address {
            let before = q
            let src = IPAddress(bytes: q.frame.sourceAddress(l))
            if src != addr, q.innerOffset != nil, l.l4Protocol == .udp, let s = q.skb {
                // A tunnelled packet's outer header (#16): udp_manip_pkt()'s zero rule per
                // profile, and the PARTIAL branch taken for an outer field that is not pending.
                let (zeroKept, pseudo) = Vxlan.natOuterSource(&q.frame, skb: s, address: addr, port: q.frame.bytes.be16(at: l.l4Offset), profile: profile)
                if let i = ctIndex { nat.connections[ni]?[i].natSource = addr }
                q = watch(q) { w in
                    w.record(before, q, node: ni, iface: interfaces[outIf].name, .forward,
                             .routerOuterMasquerade(to: addr, zeroKept: zeroKept, pseudoHeader: pseudo))
                }
            } else if src != addr {
                let mode: Frame.L4ChecksumUpdate = q.skb?.ipSummed == .partial ? .pseudoHeader : .incremental
                if v4 {
                    q.frame.natRewriteIPv4(source: true, to: be32(addr), l, l4: mode)
                } else {
                    q.frame.natRewriteIPv6(source: true, to: addr.bytes, l, l4: mode)
                }
                if let i = ctIndex { nat.connections[ni]?[i].natSource = addr }
                q = watch(q) { w in
                    w.record(before, q, node: ni, iface: interfaces[outIf].name, .forward, .masquerade(to: addr, pseudoHeader: mode == .pseudoHeader))
                }
            }
        } else if original, nf.masqueradeOn == interfaces[outIf].name, !ctValid {
            let r = q
            q = watch(r) { w in
                w.record(r, r, node: ni, iface: w.topology.nodes[ni].interfaces[outIf].name, .forward, .masqueradeWithoutConntrack(v6: !v4))
            }
        }
        // 7. ip_output → ip_fragment: IPv4 fragments longer than the egress MTU are cut again;
        // after conntrack's reassembly (nf_defrag_ipv4) the whole datagram is cut afresh, for
        // the smaller of the egress MTU and the largest fragment it arrived in (frag_max_size).
        if v4, q.fragmentMTU != nil, Self.linkFrameLength(q) - FrameLayout.ethernetLength > outMTU {
            let before = q
            if nf.conntrackActive {
                q.fragmentMTU = outMTU
                q.refragmentMTUs = []
            } else {
                q.refragmentMTUs.append(outMTU)
            }
            // ip_do_fragment()'s slow path (a fragment, or a reassembled datagram whose pieces do
            // not fit the MTU): each fragment is a new skb (ip_frag_next() → alloc_skb(),
            // ip_copy_metadata() copies no checksum state), CHECKSUM_NONE without csum_valid — a
            // reader's ring reports no TP_STATUS_CSUM_VALID for it even after conntrack verified
            // the datagram (random campaign seed 20261228, mtu-jumbo-router with masquerade).
            if q.skb != nil { q.carrier = .skb(SkbState(ipSummed: .none)) }
            let count = q.linkFrames.count
            q = watch(q) { w in
                w.record(before, q, node: ni, iface: w.topology.nodes[ni].interfaces[outIf].name, .forward,
                         .ipFragmentAgain(count: count, mtu: outMTU, defragmented: nf.conntrackActive))
            }
        }
        transmit(q, on: outDev)
    }

    /// `nf_conntrack_in()`'s checksum check in PRE_ROUTING (`tcp_error()` / `udp_error()` →
    /// `nf_checksum()` → `nf_ip_checksum()` / `nf_ip6_checksum()`), applied to `q`'s skb state: a
    /// zero UDP field returns first ("Packet with no checksum"); `CHECKSUM_NONE` is summed
    /// (`__skb_checksum_complete()`: `COMPLETE`, `csum_valid` when right); a `COMPLETE` skb whose
    /// sum verifies becomes `CHECKSUM_UNNECESSARY` ("`skb->ip_summed = CHECKSUM_UNNECESSARY`"),
    /// one that does not is summed again like NONE; `PARTIAL` and `UNNECESSARY` are trusted.
    static func conntrackChecksum(_ q: inout Packet, _ l: FrameLayout, enabled: Bool) -> StepEvent.ConntrackCheck {
        guard let s = q.skb else { return .disabled }
        if l.l4Protocol == .udp && q.frame.l4Checksum(l) == 0 { return .zeroUDPChecksum }
        guard enabled else { return s.ipSummed == .partial || s.ipSummed == .unnecessary ? .skipped(s.ipSummed) : .disabled }
        switch s.ipSummed {
        case .none, .complete:
            guard q.frame.l4ChecksumIsValid(l) else { return .invalid }
            if s.ipSummed == .complete {
                q.carrier = .skb(s.with(.unnecessary))
                return .validComplete
            }
            var ns = s.with(.complete)
            ns.csumValid = true
            q.carrier = .skb(ns)
            return .valid
        case .partial, .unnecessary:
            return .skipped(s.ipSummed)
        }
    }

    /// `checksum_tg()` in mangle POSTROUTING (`CHECKSUM --checksum-fill`).
    mutating func checksumFill(_ p: Packet, node ni: Int, _ nf: Netfilter, profile: KernelProfile, iface: String) -> Packet {
        guard nf.checksumFill != .off, let s = p.skb, s.ipSummed == .partial else { return p }
        let l = p.layout
        // An iptables rule sees IPv4, an ip6tables rule IPv6.
        guard nf.checksumFillFamily.covers(l.ipVersion) else { return p }
        // The rule's match (`-p udp|tcp`, `-o IF`) before the target runs.
        if nf.checksumFill == .udp && l.l4Protocol != .udp { return p }
        if nf.checksumFill == .tcp && l.l4Protocol != .tcp { return p }
        if let out = nf.checksumFillOut, out != iface { return p }
        var q = p
        if s.isGSO {
            return watch(q) { w in w.record(p, q, node: ni, iface: iface, .transmit, .checksumFillGSO(profile: profile)) }
        }
        q.frame.completeChecksum(start: s.csumStart, offset: s.csumOffset, end: l.end, mangleZero: profile.checksumHelpMangles0)
        // skb_checksum_help(): the field written, CHECKSUM_NONE, the linear part as it was.
        q.carrier = .skb(s.with(.none))
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

    func be32(_ a: IPAddress) -> UInt32 {
        UInt32(a.byte(0)) << 24 | UInt32(a.byte(1)) << 16 | UInt32(a.byte(2)) << 8 | UInt32(a.byte(3))
    }
}
