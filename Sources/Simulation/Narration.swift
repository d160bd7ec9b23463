import Wire

/// The English of a step, derived from its event: the kernel function(s) that did it and one
/// sentence a student understands. This is the only place the walker's prose lives; nothing
/// decides by it.
extension StepEvent {
    /// The kernel function(s) that did it (a userspace program says so).
    public var function: String {
        switch self {
        case let .tcpSend(t):
            let fn = t.v6 ? "tcp_transmit_skb → tcp_v6_send_check → __tcp_v6_send_check" : "tcp_transmit_skb → tcp_v4_send_check → __tcp_v4_send_check"
            return t.partial ? fn : fn + " (software branch)"
        case let .udpSend(u):
            if u.fragments != nil {
                return u.v6 ? "udpv6_sendmsg → ip6_make_skb → __ip6_append_data → udp_v6_send_skb → udp_csum → ip6_fragment"
                    : "udp_sendmsg → ip_make_skb → __ip_append_data → udp_send_skb → udp_csum → ip_fragment"
            }
            return u.v6 ? (u.hwChecksum ? "udpv6_sendmsg → udp_v6_send_skb → udp6_hwcsum_outgoing" : "udpv6_sendmsg → udp_v6_send_skb → udp_csum")
                : (u.hwChecksum ? "udp_sendmsg → udp_send_skb → udp4_hwcsum" : "udp_sendmsg → udp_send_skb → udp_csum")
        case let .icmpSend(i):
            let fn = i.reply ? (i.v6 ? "icmpv6_echo_reply → icmpv6_push_pending_frames" : "icmp_echo → icmp_reply → icmp_push_reply")
                : (i.v6 ? "ping_v6_sendmsg → icmpv6_push_pending_frames" : "ping_v4_sendmsg → ping_v4_push_pending_frames")
            guard i.fragments != nil else { return fn }
            return fn + (i.v6 ? " → ip6_fragment" : " → ip_fragment")
        case let .programSend(packetSocket):
            return packetSocket ? "packet_snd (AF_PACKET, checksum computed by the program)" : "userspace sender (software checksum)"
        case .programSendTooBig, .packetSndTooBig, .packetSnd:
            return "packet_snd"
        case .remoteSend:
            return "remote host: NIC hardware checksum"
        case .nicReceive:
            return "napi_gro_receive (NIC rx checksum)"
        case .faultInjected:
            return "(fault injected: bit flip)"
        case let .gsoSegment(v6, _, _, _):
            return "validate_xmit_skb → skb_gso_segment → \(v6 ? "tcp6_gso_segment" : "tcp4_gso_segment") → tcp_gso_segment"
        case let .checksumHelp(profile, _, _):
            return profile == .linux6 ? "validate_xmit_skb → skb_csum_hwoffload_help → skb_checksum_help" : "validate_xmit_skb → skb_checksum_help"
        case .virtioXmit:
            return "start_xmit → xmit_skb → virtio_net_hdr_from_skb"
        case let .tunPutUser(vnet, _):
            return vnet != nil ? "tun_net_xmit → tun_put_user → virtio_net_hdr_from_skb" : "tun_net_xmit → tun_put_user"
        case let .vethXmit(_, marksUnnecessary, _):
            return marksUnnecessary ? "veth_xmit (before ce8c839b74e3)" : "veth_xmit → veth_forward_skb → __dev_forward_skb"
        case .vethTooBig:
            return "veth_xmit → __dev_forward_skb → is_skb_forwardable"
        case let .vethGRO(v6, l4, _, _, _):
            let gro = v6 ? (l4 == .tcp ? "tcp6_gro_receive" : "udp6_gro_receive") : (l4 == .tcp ? "tcp4_gro_receive" : "udp4_gro_receive")
            return "veth_poll → napi_gro_receive → \(gro) → skb_gro_checksum_validate"
        case let .underlayTunnelGRO(v6, innerV6, innerL4, _, _, geneve):
            let inner = innerV6 ? (innerL4 == .tcp ? "tcp6_gro_receive" : "udp6_gro_receive") : (innerL4 == .tcp ? "tcp4_gro_receive" : "udp4_gro_receive")
            return "\(v6 ? "udp6_gro_receive" : "udp4_gro_receive") → udp_gro_receive → \(geneve ? "geneve_gro_receive" : "vxlan_gro_receive") → eth_gro_receive → \(innerV6 ? "ipv6_gro_receive" : "inet_gro_receive") → \(inner) → skb_gro_checksum_validate"
        case .bridgeLocalXmit:
            return "br_dev_xmit → br_forward (local origin)"
        case .bridgeLocalFlood:
            return "br_dev_xmit → br_flood"
        case .hostNICXmit:
            return "ndo_start_xmit (hardware checksum)"
        case .qemuReceiveFilter:
            return "virtio-net receive_filter (QEMU)"
        case let .receiveBuf(vnet, profile, _):
            guard let h = vnet else { return "receive_buf" }
            if h.needsChecksum {
                return profile == .linux6 ? "receive_buf → virtnet_receive_done → virtio_net_hdr_to_skb" : "receive_buf → skb_partial_csum_set"
            }
            return profile == .linux6 ? "receive_buf → virtnet_receive_done" : "receive_buf"
        case let .tunGetUser(tapVnetHdr, vnet, _, profile):
            guard tapVnetHdr, let h = vnet, h.needsChecksum else { return "tun_get_user" }
            return "tun_get_user → " + (profile == .linux6 ? "virtio_net_hdr_to_skb → skb_partial_csum_set" : "skb_partial_csum_set")
        case .tunGetUserRefused:
            return "tun_get_user → virtio_net_hdr_to_skb → -EINVAL"
        case .bridgePassUp:
            return "br_handle_frame → br_pass_frame_up"
        case .bridgeTooBig:
            return "br_forward → is_skb_forwardable"
        case let .bridgeForward(_, _, _, flood, clone):
            if flood != nil { return "br_handle_frame_finish → br_flood → maybe_deliver → " + (clone ? "deliver_clone → " : "") + "__br_forward → skb_forward_csum" }
            return "br_handle_frame → br_forward → " + (clone ? "deliver_clone → skb_clone → " : "") + "__br_forward → skb_forward_csum"
        case let .otherHost(v6, _, _):
            return v6 ? "eth_type_trans → ipv6_rcv → ip6_rcv_core" : "eth_type_trans → ip_rcv → ip_rcv_core"
        case let .notForwarded(v6, _):
            return v6 ? "ipv6_rcv → ip6_route_input" : "ip_rcv → ip_route_input"
        case let .conntrackCheck(l4, v6, _):
            let proto = l4 == .tcp ? "tcp_error" : (l4 == .udp ? "udp_error" : "icmp_error")
            return "nf_conntrack_in → \(proto) → \(v6 ? "nf_ip6_checksum" : "nf_ip_checksum")"
        case let .bridgeConntrackCheck(l4, v6, _, _, _):
            let proto = l4 == .tcp ? "tcp_error" : "udp_error"
            return "br_handle_frame → br_nf_pre_routing → \(v6 ? "ipv6_conntrack_in" : "ipv4_conntrack_in") → nf_conntrack_in → \(proto) → \(v6 ? "nf_ip6_checksum" : "nf_ip_checksum")"
        case .conntrackInvalidDrop:
            return "nft/iptables: ct state invalid drop"
        case let .conntrackCannotStart(l4, _):
            return "nf_conntrack_in → resolve_normal_ct → init_conntrack → \(l4 == .tcp ? "tcp_new" : "icmp_new")"
        case .natTupleClash:
            return "nf_conntrack_in → init_conntrack; nf_nat_setup_info → get_unique_tuple → nf_nat_used_tuple"
        case .conntrackTCPStateInvalid:
            return "nf_conntrack_in → nf_conntrack_handle_packet → nf_conntrack_tcp_packet (tcp_conntracks: SYN_SENT → INVALID)"
        case let .unNAT(to, _):
            return to.version == .v6 ? "nf_nat_ipv6_fn → nf_nat_ipv6_manip_pkt → inet_proto_csum_replace16"
                : "nf_nat_ipv4_fn → nf_nat_ipv4_manip_pkt → inet_proto_csum_replace4"
        case let .masquerade(to, _):
            return to.version == .v6 ? "nf_nat_ipv6_out → nf_nat_ipv6_manip_pkt → inet_proto_csum_replace16"
                : "nf_nat_ipv4_out → nf_nat_ipv4_manip_pkt → inet_proto_csum_replace4"
        case let .masqueradeWithoutConntrack(v6):
            return v6 ? "nf_nat_ipv6_out (no conntrack entry)" : "nf_nat_ipv4_out (no conntrack entry)"
        case let .vxlanEncap(e):
            let fn = e.geneve ? "geneve_xmit_skb → geneve_build_skb → udp_tunnel_handle_offloads → iptunnel_handle_offloads"
                : "vxlan_xmit_one → vxlan_build_skb → iptunnel_handle_offloads"
            return e.innerCompleted ? fn + " → skb_checksum_help" : fn
        case let .outerUDPChecksum(branch, _, _, v6):
            let detail: String
            switch branch {
            case .zero: detail = " (nocheck)"
            case .gsoPseudo: detail = " (skb_is_gso)"
            case .lco: detail = " → lco_csum"
            case .pending: detail = " (CHECKSUM_PARTIAL on the outer)"
            case .software: detail = " → skb_checksum"
            }
            return (v6 ? "udp_tunnel6_xmit_skb → udp6_set_csum" : "udp_tunnel_xmit_skb → udp_set_csum") + detail
        case let .vxlanOuterMasquerade(_, _, _, v6):
            return v6 ? "nf_nat_ipv6_out → nf_nat_ipv6_manip_pkt → udp_manip_pkt → inet_proto_csum_replace2/16"
                : "nf_nat_ipv4_out → nf_nat_ipv4_manip_pkt → udp_manip_pkt → inet_proto_csum_replace2/4"
        case let .routerOuterMasquerade(to, _, _):
            return to.version == .v6 ? "nf_nat_ipv6_out → nf_nat_ipv6_manip_pkt → udp_manip_pkt → inet_proto_csum_replace16"
                : "nf_nat_ipv4_out → nf_nat_ipv4_manip_pkt → udp_manip_pkt → inet_proto_csum_replace4"
        case let .tunnelSegment(_, _, _, _, _, _, outerV6, innerV6):
            return "validate_xmit_skb → skb_gso_segment → " + (outerV6 ? "ipv6_gso_segment → udp6_ufo_fragment → " : "")
                + "skb_udp_tunnel_segment → __skb_udp_tunnel_segment → " + (innerV6 ? "tcp6_gso_segment" : "tcp4_gso_segment")
        case let .vxlanOuterReceive(_, _, v6):
            return v6 ? "__udp6_lib_rcv → udp6_csum_init → udpv6_queue_rcv_one_skb → udp_lib_checksum_complete"
                : "__udp4_lib_rcv → udp4_csum_init → udp_queue_rcv_one_skb → udp_lib_checksum_complete"
        case let .vxlanDecap(_, _, geneve):
            return geneve ? "geneve_udp_encap_recv → geneve_rx → __iptunnel_pull_header → gro_cells_receive"
                : "vxlan_rcv → __iptunnel_pull_header → gro_cells_receive"
        case let .tunnelGRO(g):
            let l3 = g.v6 ? "ipv6_gro_receive" : "inet_gro_receive"
            let l4 = g.l4 == .tcp ? (g.v6 ? "tcp6_gro_receive" : "tcp4_gro_receive") : (g.v6 ? "udp6_gro_receive" : "udp4_gro_receive")
            var fn = (g.veth ? "veth_poll → veth_xdp_rcv → veth_xdp_rcv_skb → skb_prepare_for_gro → napi_gro_receive → dev_gro_receive → gro_list_prepare → "
                : "gro_cells_receive → napi_gro_receive → dev_gro_receive → ")
            if let u = g.underlay { fn += (u.outerV6 ? "ipv6_gro_receive → " : "inet_gro_receive → ") + u.receivePath }
            fn += "\(l3) → \(l4)"
            if g.found == .none || g.found == .complete { fn += " → skb_gro_checksum_validate" }
            if case .merged = g.action { fn += " → tcp_gro_receive → skb_gro_receive" }
            return fn
        case let .tunnelGROComplete(_, segments, _, v6, underlay):
            let inner = v6 ? "ipv6_gro_complete → tcp6_gro_complete → tcp_gro_complete" : "inet_gro_complete → tcp4_gro_complete → tcp_gro_complete"
            let outer = underlay.map { ($0.outerV6 ? "ipv6_gro_complete → " : "inet_gro_complete → ") + $0.completePath } ?? ""
            return segments > 1
                ? "napi_gro_complete → " + outer + inner
                : "napi_gro_flush → napi_gro_complete (one segment: gso_size reset, nothing completed)"
        case let .exceedsMTU(v6, _, _, _):
            return v6 ? "ip6_forward → ip6_pkt_too_big" : "ip_forward → ip_exceeds_mtu"
        case .ipFragmentAgain:
            return "ip_output → ip_finish_output → ip_fragment → ip_do_fragment"
        case let .ipForward(v6, _, _):
            return v6 ? "ip6_forward → skb_forward_csum (hop_limit − 1)" : "ip_forward → skb_forward_csum → ip_decrease_ttl"
        case .checksumFill:
            return "nf_hook(POSTROUTING) → checksum_tg → skb_checksum_help"
        case .checksumFillGSO:
            return "nf_hook(POSTROUTING) → checksum_tg"
        case .dhcpClientCheck:
            return "tpacket_rcv → dhclient (userspace checksum check)"
        case let .transportReceive(r):
            var fn: String
            switch r.l4 {
            case .tcp:
                fn = r.v6 ? "tcp_v6_rcv → skb_checksum_init → __skb_checksum_validate" : "tcp_v4_rcv → skb_checksum_init → __skb_checksum_validate"
            case .udp:
                fn = r.v6 ? "udpv6_rcv → __udp6_lib_rcv → udp6_csum_init → __udp_lib_checksum_complete"
                    : "udp_rcv → __udp4_lib_rcv → udp4_csum_init → __udp_lib_checksum_complete"
            case .icmp:
                fn = "icmp_rcv → skb_checksum_simple_validate"
            case .icmpv6:
                fn = "icmpv6_rcv → skb_checksum_validate"
            }
            if !r.hasSocket { fn += " (no socket here)" }
            if r.fragments != nil { fn = (r.v6 ? "ipv6_frag_rcv → ip6_frag_reasm → " : "ip_local_deliver → ip_defrag → ") + fn }
            return fn
        case .remoteReceive:
            return "remote host: NIC rx checksum → stack"
        case let .forwarderReadSocket(vnet, _, _):
            return vnet != nil ? "packet_rcv → virtio_net_hdr_from_skb (PACKET_VNET_HDR)" : "packet_rcv / tpacket_rcv (AF_PACKET)"
        case .forwarderReadTap:
            return "read() on the TAP fd"
        case .forwarderRoute:
            return "userspace forwarder: route, rewrite MACs, TTL − 1, recompute IP header checksum"
        case .packetSndVnet:
            return "packet_snd → virtio_net_hdr_to_skb"
        }
    }

    /// One sentence (or a few) a student understands.
    public var explanation: String {
        switch self {
        case let .tcpSend(t):
            var what: String
            if t.partial {
                what = "TCP leaves only the pseudo-header sum in the checksum field and marks the skb CHECKSUM_PARTIAL: a promise that someone finishes it later."
                if !t.deviceChecksums {
                    what += t.profile == .linux6 || t.bare
                        ? " (\(t.profile.rawValue) does this for every segment; \(t.device)'s missing checksum offload is handled at transmit.)"
                        : " (GSO on \(t.device) gives the socket HW_CSUM in sk_setup_caps; the missing offload is handled at transmit.)"
                }
            } else {
                what = "The route's device \(t.device) has neither checksum offload nor GSO, so \(t.profile.rawValue) TCP computes the full checksum itself: CHECKSUM_NONE."
            }
            if let mss = t.gsoSize {
                what += " The payload exceeds one MSS (\(mss)), so TCP builds one GSO super-frame (gso_size \(mss)) for the device or the kernel to segment."
            }
            return what
        case let .udpSend(u):
            if let f = u.fragments {
                return "The datagram (\(f.ipLength) bytes of IP) does not fit the \(f.mtu)-byte MTU, so __ip\(u.v6 ? "6" : "")_append_data never chooses CHECKSUM_PARTIAL, whatever \(u.device) offers: UDP computes the checksum in software over the whole datagram (CHECKSUM_NONE, correct bytes) and the kernel sends it as \(f.count) IP fragments; only the first carries the UDP header."
            }
            return u.hwChecksum
                ? "\(u.device) can checksum, so UDP leaves the pseudo-header sum and marks the skb CHECKSUM_PARTIAL."
                : "\(u.device) cannot checksum, so UDP computes the checksum in software (a computed 0 is sent as 0xFFFF)."
        case let .icmpSend(i):
            let what = "ICMP computes its checksum in software, whatever the device offers: CHECKSUM_NONE with correct bytes. This is why ping works where SSH dies."
            guard let f = i.fragments else { return what }
            return what + " The datagram (\(f.ipLength) bytes of IP) does not fit the \(f.mtu)-byte MTU: it leaves as \(f.count) IP fragments."
        case .programSend:
            return "The program builds the whole frame itself, checksum included, and sends it as-is: CHECKSUM_NONE."
        case let .programSendTooBig(length, mtu):
            return "The frame (\(length) bytes) is longer than the \(mtu)-byte MTU allows and a program that writes whole frames cannot fragment: packet_snd refuses it (EMSGSIZE), nothing is sent."
        case .remoteSend:
            return "A machine beyond the wire sends the packet; its NIC filled in every checksum, so the bytes are correct on the wire."
        case let .nicReceive(fragmented, rxChecksumming, valid):
            if fragmented {
                return "The datagram arrives as IP fragments: a NIC cannot verify an L4 checksum that spans several frames, so every fragment is CHECKSUM_NONE and the stack verifies after reassembly."
            }
            if rxChecksumming {
                return valid ? "The NIC verified the checksum in hardware: CHECKSUM_UNNECESSARY." : "The NIC found the checksum wrong and leaves CHECKSUM_NONE for the stack to verify (and drop)."
            }
            return "rx-checksumming is off: the NIC leaves CHECKSUM_NONE; the stack verifies."
        case let .faultInjected(element):
            return "A bit of the payload flips after \(element) (a bad cable, a buggy device): the checksum field no longer matches the data."
        case let .gsoSegment(_, complete, count, device):
            return complete
                ? "\(device) has no TSO and no checksum offload: the kernel cuts the super-frame into \(count) segments and computes each one's full checksum (CHECKSUM_NONE)."
                : "\(device) has no TSO: the kernel cuts the super-frame into \(count) segments; each keeps a pseudo-header sum for its own length and stays CHECKSUM_PARTIAL."
        case let .checksumHelp(_, device, reason):
            return "\(device) cannot checksum (\(reason)), so the kernel finishes the checksum in software before the driver sees the frame: CHECKSUM_NONE with correct bytes."
        case let .virtioXmit(h):
            guard h.needsChecksum else { return "The guest's virtio-net driver sends the frame with flags 0: its checksum is already final." }
            return "The guest's virtio-net driver passes the promise to the host as NEEDS_CSUM with csum_start=\(h.csumStart), csum_offset=\(h.csumOffset)."
                + " A tcpdump in the guest shows \"incorrect cksum\" here: the field holds only the pseudo-header sum."
        case let .tunPutUser(vnet, summed):
            if vnet != nil {
                switch summed {
                case .partial: return "The promise leaves the kernel as NEEDS_CSUM in the vnet header; the reader must finish or trust it."
                case .unnecessary: return "The frame was verified, so the vnet header says DATA_VALID."
                case .none, .complete: return "The checksum is final; the vnet header carries flags 0."
                }
            }
            return summed == .partial
                ? "This TAP has no vnet header, yet it kept checksum offload (TUN_F_CSUM): tun_put_user copies the unfinished bytes and nothing tells the reader the checksum is missing."
                : "This TAP has no vnet header: the reader gets bare bytes (already final here)."
        case let .vethXmit(summed, marksUnnecessary, gso):
            let what = marksUnnecessary
                ? "Pre-4.4 veth rewrites CHECKSUM_NONE to CHECKSUM_UNNECESSARY because the peer has rx-checksumming: the next stack will not verify these bytes, good or bad."
                : "veth hands the skb to its peer unchanged: \(summed.short) crosses the pair."
            return gso ? what + " The GSO skb is not segmented (veth has TSO)." : what
        case let .vethTooBig(peer, length, mtu):
            return "The frame (\(length) bytes) is longer than \(peer)'s MTU of \(mtu) allows (is_skb_forwardable: MTU + 14 bytes of Ethernet header + 4 of a VLAN tag = \(MTURule.forwardableLength(mtu: mtu))) and is not GSO: veth drops it, counted as tx_dropped on this end and rx_dropped on \(peer)."
        case let .vethGRO(_, _, valid, device, peer):
            return valid ? "GRO is on at \(peer) and \(device) has no TSO, so the frame takes the NAPI path: GRO verifies the checksum and marks the skb CHECKSUM_UNNECESSARY."
                : "GRO verifies the checksum, finds it wrong and leaves CHECKSUM_NONE for the stack to drop."
        case let .underlayTunnelGRO(_, _, _, innerValid, tunnel, _):
            return innerValid
                ? "The outer UDP port is \(tunnel)'s socket, so GRO goes on into the tunnel's gro_receive and verifies the inner checksum as well: CHECKSUM_UNNECESSARY with csum_level 1 — the outer and the inner both vouched for."
                : "The outer UDP port is \(tunnel)'s socket, so GRO goes on into the tunnel's gro_receive, finds the inner checksum wrong and flushes the packet: only the outer stays vouched for (csum_level 0)."
        case .bridgeLocalXmit:
            return "The host sends through the bridge device; its own features applied above. The bridge now picks the port."
        case let .bridgeLocalFlood(ports):
            return "No forwarding entry for the destination MAC: the bridge floods the frame to \(ports.joined(separator: ", ")). The copy toward the destination host is followed."
        case let .hostNICXmit(partial, gso):
            var what = partial
                ? "The NIC's hardware finishes the checksum as it transmits (tx-checksumming): the wire carries correct bytes."
                : "The NIC puts the frame on the wire."
            if gso { what += " Its TSO engine segments the super-frame on the wire (not modelled byte by byte)." }
            return what
        case let .qemuReceiveFilter(mac, guest):
            return "The destination MAC \(mac) is not \(guest)'s: QEMU drops the frame before the guest sees it."
        case let .receiveBuf(vnet, _, guest):
            guard let h = vnet else {
                return "QEMU had no vnet header to pass: \(guest) gets CHECKSUM_NONE and verifies the bytes itself."
            }
            if h.needsChecksum {
                return "NEEDS_CSUM: the guest marks the skb CHECKSUM_PARTIAL, which its TCP/UDP treat as valid without looking at the bytes."
            }
            return h.isDataValid ? "DATA_VALID: the guest marks the skb CHECKSUM_UNNECESSARY and will not verify it."
                : "No flag: the guest's stack will verify the checksum from the bytes."
        case let .tunGetUser(tapVnetHdr, vnet, gso, _):
            guard tapVnetHdr else { return "This TAP has no vnet header: the bytes arrive with no metadata, CHECKSUM_NONE." }
            guard let h = vnet else { return "No NEEDS_CSUM: the host skb is CHECKSUM_NONE (a DATA_VALID flag from the writer would be ignored)." }
            var what = h.needsChecksum
                ? "NEEDS_CSUM becomes CHECKSUM_PARTIAL on the host: the promise is now skb metadata."
                : "No NEEDS_CSUM: the host skb is CHECKSUM_NONE (a DATA_VALID flag from the writer would be ignored)."
            if gso { what += " The header's GSO fields make it a GSO skb (gso_size \(h.gsoSize), SKB_GSO_DODGY)." }
            return what
        case let .tunGetUserRefused(h, reason):
            return "The host refuses the header \(h.summary): \(reason). The write() fails with EINVAL and the frame goes nowhere."
        case let .bridgePassUp(bridge):
            return "The frame is for the bridge device itself: it goes up to the host's stack on \(bridge)."
        case let .bridgeTooBig(egress, length, mtu):
            return "The frame (\(length) bytes) is larger than egress port \(egress)'s MTU of \(mtu) allows (is_skb_forwardable: MTU + 18 = \(MTURule.forwardableLength(mtu: mtu))) and is not GSO: br_dev_queue_push_xmit frees it silently (no counter moves on either port or the bridge)."
        case let .bridgeForward(summed, from, to, flood, clone):
            var flooded = flood.map {
                let group = (UInt8($0.destinationMAC.prefix(2), radix: 16) ?? 0) & 1 == 1
                return (group ? " The destination MAC \($0.destinationMAC) is a broadcast or multicast address"
                              : " No forwarding entry matches the destination MAC \($0.destinationMAC)")
                    + ", so the bridge floods the frame to \($0.ports.joined(separator: ", ")); the copy toward the destination host is followed."
            } ?? ""
            if clone {
                flooded += " The frame also goes up the bridge itself (local_rcv: a promiscuous bridge, or a broadcast or multicast frame), so what leaves is a clone (deliver_clone → skb_clone), which no socket owns."
            }
            if summed == .complete {
                return "skb_forward_csum() turns CHECKSUM_COMPLETE into CHECKSUM_NONE: the sum no longer describes a forwarded frame." + flooded
            }
            return "The bridge forwards \(summed.short) unchanged from \(from) to \(to); \(to)'s own features decide what happens next." + flooded
        case let .otherHost(_, mac, device):
            return "The destination MAC \(mac) is not \(device)'s: the frame is PACKET_OTHERHOST and IP drops it."
        case let .notForwarded(_, node):
            return "\(node) is not the destination and does not forward: the packet is dropped."
        case let .conntrackCheck(_, _, result):
            switch result {
            case .valid:
                return "Conntrack verifies the checksum (nf_conntrack_checksum=1, skb not PARTIAL): correct; __skb_checksum_complete leaves CHECKSUM_COMPLETE."
            case .validComplete:
                return "Conntrack checks the CHECKSUM_COMPLETE sum against the pseudo-header (nf_conntrack_checksum=1): it verifies, and nf_ip_checksum marks the skb CHECKSUM_UNNECESSARY."
            case .invalid:
                return "Conntrack verifies the checksum and finds it wrong: the packet is INVALID, gets no conntrack entry and so no NAT."
            case let .skipped(summed):
                return "Conntrack skips the check for \(summed.short): nf_ip_checksum treats it as fine."
            case .disabled:
                return "nf_conntrack_checksum=0: conntrack does not verify."
            case .zeroUDPChecksum:
                return "The UDP checksum is 0 (none sent): udp_error returns before nf_ip_checksum, so conntrack sums nothing and the skb keeps its state."
            }
        case let .bridgeConntrackCheck(_, _, result, bridge, port):
            let lead = "br_netfilter passes the frame bridged in from \(port) through \(bridge)'s namespace's IP PRE_ROUTING hooks, where conntrack is loaded. "
            return lead + StepEvent.conntrackCheck(l4: .tcp, v6: false, result: result).explanation
        case .conntrackInvalidDrop:
            return "A rule drops packets conntrack marked INVALID."
        case let .conntrackCannotStart(_, why):
            return "No conntrack entry exists for this connection here (the packet that would have made one never passed), and \(why) cannot start one: the packet is INVALID."
        case .conntrackTCPStateInvalid:
            return "This connection's entry here is in SYN_SENT: its SYN passed, but no SYN-ACK came back through this router. A segment without SYN in the original direction is no valid transition from there, so conntrack marks it INVALID and it goes on untracked: NAT does not touch it (and a ct state invalid rule would drop it)."
        case .natTupleClash:
            return "No entry matches this reply (its request was masqueraded, so replies are expected at the masqueraded address): it starts a new connection whose reply tuple clashes with the request's entry, and the kernel's NAT gives it a random source port. The simulation keeps the original port from here on."
        case let .unNAT(to, pseudoHeader):
            return pseudoHeader
                ? "Un-NAT of the reply: the destination goes back to \(to); the PARTIAL field is updated as a pseudo-header sum."
                : "Un-NAT of the reply: the destination goes back to \(to); the finished checksum is updated incrementally (a wrong one stays wrong)."
        case let .masquerade(to, pseudoHeader):
            return pseudoHeader
                ? "MASQUERADE rewrites the source to \(to). The skb is PARTIAL, so the field is updated as a pseudo-header sum (pseudohdr=true): still unfinished, still consistent."
                : "MASQUERADE rewrites the source to \(to) and updates the finished checksum incrementally (RFC 1624): a correct one stays correct, a wrong one stays wrong."
        case .masqueradeWithoutConntrack:
            return "The packet is INVALID, has no conntrack entry, and so is forwarded without MASQUERADE."
        case let .vxlanEncap(e):
            var what = "\(e.device) wraps the frame in outer Ethernet, \(e.v6 ? "IPv6" : "IPv4"), UDP and \(e.geneve ? "GENEVE" : "VXLAN") (VNI \(e.vni)) headers; the outer UDP checksum is \(e.udpSum ? "on" : "off") (\(e.profile.rawValue))."
            if e.innerCompleted {
                what += " With the outer checksum on, \(e.profile.rawValue) completes the pending inner checksum first: the inner bytes are final, CHECKSUM_NONE."
            } else if e.encapsulation && e.innerSummed == .partial {
                what += " The inner checksum stays pending (CHECKSUM_PARTIAL, csum_start on the inner TCP/UDP header, skb->encapsulation = 1)."
            } else {
                what += " The inner bytes are final; the skb is CHECKSUM_NONE until the outer checksum is set."
            }
            return e.gso ? what + " The GSO skb keeps its super-frame; segmentation comes later." : what
        case let .outerUDPChecksum(branch, value, _, v6):
            let v = String(value, radix: 16)
            switch branch {
            case .zero:
                return "The outer UDP checksum is 0: no checksum (allowed over IPv4)."
            case .gsoPseudo:
                return "A GSO skb: the outer field holds the pseudo-header sum 0x\(v) of the super-frame; each segment's checksum is derived from it when it is cut."
            case .lco:
                return "Local checksum offload: the outer checksum 0x\(v) is computed now, for the packet as it will be once the inner checksum is filled in, so it does not verify over the bytes as they stand. Anything that rewrites the outer header and treats the field as a pending sum (NAT on a PARTIAL skb) leaves it wrong."
            case .pending:
                return "The outer checksum becomes the pending field (CHECKSUM_PARTIAL, csum_start on the outer UDP header): 0x\(v) is its pseudo-header sum, the device or skb_checksum_help finishes it."
            case .software:
                return "No \(v6 ? "NETIF_F_IPV6_CSUM" : "IPv4 checksum offload") on the route device: the outer checksum 0x\(v) is computed in software and the skb marked CHECKSUM_UNNECESSARY."
            }
        case let .vxlanOuterMasquerade(port, zeroKept, pseudoHeader, _):
            if zeroKept { return "MASQUERADE --random-fully gives the outer header source port \(port); its UDP checksum is 0 and stays 0 (never updated when 0, since ea64d8d6c675)." }
            return pseudoHeader
                ? "MASQUERADE --random-fully gives the outer header source port \(port). The skb is PARTIAL, so inet_proto_csum_replace treats the outer field as a pending pseudo-header sum and skips the port change — but the pending field is the inner one: the outer checksum is now wrong."
                : "MASQUERADE --random-fully gives the outer header source port \(port) and updates the finished outer checksum incrementally."
        case let .routerOuterMasquerade(to, zeroKept, pseudoHeader):
            if zeroKept { return "MASQUERADE rewrites the outer source to \(to); the outer UDP checksum is 0 and stays 0 (udp_manip_pkt updates only a nonzero field, since ea64d8d6c675)." }
            return pseudoHeader
                ? "MASQUERADE rewrites the outer source to \(to). The skb is PARTIAL, so inet_proto_csum_replace\(to.version == .v6 ? "16" : "4") treats the outer field as a pending pseudo-header sum — but the pending field is the inner one and the outer holds a final (LCO) checksum: it is now wrong. A receiver that trusts the PARTIAL skb (veth) accepts it; one that checks the bytes drops it."
                : "MASQUERADE rewrites the outer source to \(to) and updates the finished outer checksum incrementally (RFC 1624): a correct one stays correct."
        case let .tunnelSegment(needCsum, offloadCsum, innerComplete, count, device, reason, _, _):
            var what = "\(device) cannot segment tunnelled TCP (\(reason)): the inner super-frame is cut into \(count) segments"
            what += innerComplete ? " with their inner checksums computed in software." : " whose inner checksums stay pending."
            if !needCsum { return what + " The outer UDP checksum stays 0." }
            return what + (offloadCsum && !innerComplete
                ? " Each segment's outer checksum is computed from the outer field (gso_make_checksum), for the packet as it will be once the inner is filled in."
                : offloadCsum ? " Each segment's outer checksum is left to the device (CHECKSUM_PARTIAL on the outer)."
                : " Each segment's outer checksum is computed in software from the outer field (gso_make_checksum): a NAT of the super-frame's outer header, taken as a pending pseudo-header sum, comes out right.")
        case let .vxlanOuterReceive(check, _, v6):
            switch check {
            case .udpZero where v6: return "The outer UDP checksum is 0 over IPv6, which the tunnel's socket allows (udp6zerocsumrx: no_check6_rx): accepted without a check."
            case .udpZero: return "The outer UDP checksum is 0: accepted without a check (IPv4)."
            case .udp6ZeroRefused: return "The outer UDP checksum is 0 over IPv6, which the tunnel's socket does not allow (no udp6zerocsumrx, so no no_check6_rx): dropped before the VXLAN socket, counted in Udp6InCsumErrors."
            case let .trusted(summed, _, bytesValid):
                return "The skb is \(summed.short): udp_lib_checksum_complete trusts it without reading the bytes" + (bytesValid ? "." : ", so the wrong outer checksum passes.")
            case let .verified(valid):
                return valid ? "The outer UDP checksum is verified in software and is correct (the skb becomes CHECKSUM_COMPLETE)."
                    : "The outer UDP checksum is verified in software and is wrong: dropped before the VXLAN socket, counted in Udp: InCsumErrors."
            }
        case let .tunnelGRO(g):
            let check: String
            let inner = g.veth ? "" : "inner "
            switch g.found {
            case .partial: check = "The \(inner)checksum is still pending (PARTIAL): GRO does not check it."
            case .unnecessary: check = "The \(inner)checksum is already marked verified (UNNECESSARY): GRO does not check it again."
            case .complete: check = g.valid ? "GRO checks the \(inner)checksum with the sum the outer check left (COMPLETE): correct." : "GRO checks the \(inner)checksum with the sum the outer check left (COMPLETE): wrong."
            case .none:
                check = g.valid ? "GRO computes the \(inner)checksum in software: correct, the skb becomes CHECKSUM_UNNECESSARY." : "GRO computes the \(inner)checksum in software: wrong, the skb stays CHECKSUM_NONE for the stack to drop."
            }
            var what: String
            switch g.action {
            case .held: what = "GRO holds the segment on \(g.device)'s GRO list, waiting for the next one of its flow."
            case let .merged(count): what = "GRO appends it to the held segment of its flow: \(count) segments merged."
            case .passedUp(.flushFlag): what = "Its flags (SYN, FIN, RST, PSH or URG) and nothing held to join: up the stack as it is."
            case .passedUp(.checksumWrong): what = "Not merged: up the stack as it is."
            case .passedUp(.udp): what = "UDP is not merged for an ordinary socket: up the stack as it is."
            case .passedUp(.gso): what = "It is a GSO super-frame already: up the stack as it is."
            }
            if g.veth {
                // Held segments there are, but not of this segment's flow as GRO sees it.
                if g.keptApart, case .passedUp(.flushFlag) = g.action {
                    what = "It carries PSH and nothing of its own flow is held: up the stack at once, before the held segments, which go up when the poll ends."
                }
                let apart = g.keptApart
                    ? "This last segment still belongs to the writer's socket (skb_segment() handed it the sock_wfree owner; skb_prepare_for_gro() keeps it), so gro_list_prepare() does not count it as the held segments' flow (p->sk != skb->sk). "
                    : ""
                if let u = g.underlay {
                    return "GRO is on at \(g.device) and the sender has no TSO, so veth_xmit() queued the outer packet for \(g.device)'s NAPI. Its UDP port is \(u.tunnel)'s socket, so udp_gro_receive() hands it to the tunnel's gro_receive, and the inner TCP segments of one flow are merged into one outer packet. "
                        + apart + check + " " + what
                }
                return "GRO is on at \(g.device) and the sender has no TSO, so veth_xmit() queued the segment for \(g.device)'s NAPI, whose poll hands it to GRO. " + apart + check + " " + what
            }
            return "GRO is on at \(g.device) and the skb is not cloned, so gro_cells_receive hands the inner frame to GRO. " + check + " " + what
        case let .tunnelGROComplete(device, segments, gsoSize, _, underlay):
            if let u = underlay, segments > 1 {
                return "The flow is flushed (last segment shorter than the others, PSH, or the end of the NAPI poll): the \(segments) outer packets go up \(device) as one, a tunnelled GSO skb (SKB_GSO_UDP_TUNNEL\(u.outerChecksum ? "_CSUM" : "") | TCPV4, gso_size \(gsoSize)) with new lengths and header checksums, the outer UDP field the pseudo-header sum (a zero one stays zero), the inner TCP field its pseudo-header sum, CHECKSUM_PARTIAL at the inner TCP header. udp_rcv trusts it, \(u.tunnel) strips the outer headers, and the inner frame goes on as one TCP super-frame."
            }
            return segments > 1
                ? "The flow is flushed (last segment shorter than the others, PSH, or the end of the NAPI poll): tcp_gro_complete sends the \(segments) segments up \(device) as one super-frame, CHECKSUM_PARTIAL with gso_size \(gsoSize), the TCP field set to the pseudo-header sum. The receiver's TCP trusts it; a TAP with a vnet header would get NEEDS_CSUM and GSO_TCPV4."
                : "The end of the NAPI poll flushes the lone held segment: it goes up \(device) as it came."
        case let .vxlanDecap(summed, device, _):
            return "\(device) strips the outer headers; the inner frame enters its namespace as \(summed.short)\(summed == .partial ? " (its checksum still pending, trusted by the receiver)" : "")."
        case let .exceedsMTU(v6, ipLength, gso, mtu):
            return "The packet (\(ipLength) bytes of IP\(gso ? " per segment" : "")) is larger than the egress MTU (\(mtu)) and may not be fragmented: the router drops it (counted in \(v6 ? "Ip6InTooBigErrors" : "IpFragFails")) and answers \(v6 ? "ICMPv6 packet too big" : "ICMP fragmentation needed"). The sender's path-MTU discovery (a smaller MSS, a resend) is not modelled."
        case let .ipFragmentAgain(count, mtu, defragmented):
            let how = defragmented
                ? "Conntrack reassembled the datagram (nf_defrag_ipv4), so ip_do_fragment cuts it afresh for the egress MTU (\(mtu))"
                : "The pieces are longer than the egress MTU (\(mtu)) and DF is clear, so ip_do_fragment cuts each one again (offsets continue, MF stays on all but the datagram's last)"
            return how + ": \(count) IP fragments leave (FragOKs, FragCreates). The UDP header and its checksum stay in the first; nothing in the checksum changes."
        case let .ipForward(_, summed, csumValid):
            let what = "The router forwards: TTL − 1 with the IP header checksum updated incrementally; the TCP/UDP field is not touched (TTL is not in the pseudo-header)."
            if summed == .complete {
                return what + " skb_forward_csum turns COMPLETE into NONE" + (csumValid ? " (csum_valid from the check stays set, so later stacks trust it)." : ".")
            }
            return what + " skb_forward_csum keeps \(summed.short)."
        case .checksumFill:
            return "The CHECKSUM --checksum-fill rule finishes the checksum here: CHECKSUM_NONE with correct bytes, safe for any reader."
        case let .checksumFillGSO(profile):
            return profile.checksumFillSkipsGSO
                ? "checksum_tg skips GSO skbs on \(profile.rawValue): the promise stays pending."
                : "checksum_tg calls skb_checksum_help on a GSO skb, which refuses it (skb_warn_bad_offload): nothing changes."
        case let .dhcpClientCheck(auxdataTrusted, notReady, valid):
            if auxdataTrusted {
                return "The client reads PACKET_AUXDATA: TP_STATUS_\(notReady ? "CSUMNOTREADY" : "CSUM_VALID") tells it to skip its own check, so it accepts."
            }
            return valid ? "The DHCP client (AF_PACKET socket) checks the UDP checksum itself from the bytes: correct, accepted."
                : "The DHCP client (AF_PACKET socket) checks the UDP checksum itself from the bytes and finds the unfinished pseudo-header sum: \"bad udp checksum\", the OFFER is ignored."
        case let .transportReceive(r):
            var what: String
            switch r.check {
            case let .trusted(summed, csumValid, bytesValid):
                what = "skb_csum_unnecessary: \(csumValid && summed == .none ? "csum_valid (an earlier software check)" : summed.short) is taken as valid, so the stack does not look at the checksum bytes."
                if !bytesValid && summed == .unnecessary { what += " The bytes are wrong, but nobody checks." }
            case .udpZero:
                what = "UDP checksum 0 means \"none\" over IPv4: accepted unverified."
            case .udp6ZeroRefused:
                what = "UDP checksum 0 over IPv6 at a socket without no_check6_rx: refused, counted in Udp6InCsumErrors."
            case .verified(valid: true):
                what = "The stack verifies the checksum from the bytes: correct."
            case .verified(valid: false):
                what = "The stack verifies the checksum from the bytes: wrong. The segment is dropped silently and \(r.counter) goes up (the sender retransmits into the same wall)."
            }
            if let n = r.fragments {
                what = "The \(n) IP fragments are reassembled first (CHECKSUM_NONE: no device could verify a checksum spread over several frames). " + what
            }
            return what
        case let .remoteReceive(valid):
            return valid ? "The remote host receives correct bytes." : "The remote host finds the checksum wrong and drops the packet."
        case let .forwarderReadSocket(vnet, partial, bytesValid):
            if let h = vnet {
                return "The forwarder reads with PACKET_VNET_HDR: the skb's checksum state comes along as a virtio header (\(h.summary))."
            }
            return partial
                ? "The forwarder reads only the bytes. The kernel flags TP_STATUS_CSUMNOTREADY, but the program ignores it: the PARTIAL promise is lost here."
                : "The forwarder reads only the bytes; their checksum is already \(bytesValid ? "final" : "wrong")."
        case let .forwarderReadTap(header):
            switch header {
            case .kept: return "The forwarder reads the TAP with its vnet header and keeps it."
            case .dropped: return "The forwarder reads the TAP but drops the vnet header: any NEEDS_CSUM promise is lost here."
            case .none: return "The forwarder reads bare bytes from the TAP: no metadata exists."
            }
        case .forwarderRoute:
            return "The program routes in userspace; it never touches the TCP/UDP checksum field."
        case let .packetSndVnet(s):
            return "packet_snd with a vnet header rebuilds the skb state: \(s.summary)."
        case .packetSndTooBig:
            return "A GSO super-frame read as bytes is larger than the MTU: packet_snd refuses it (EMSGSIZE)."
        case .packetSnd:
            return "packet_snd makes a new skb from the bytes: CHECKSUM_NONE. If the field still holds the pseudo-header sum, nobody will ever finish it."
        }
    }
}
