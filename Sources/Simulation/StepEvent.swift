import Wire

/// What the kernel (or a program) did at one step: the typed record that `verify`, the tests and
/// any script decide by. The English of a step (`Step.function`, `Step.explanation`) is derived
/// from it in one place, `Narration.swift`, so rewording a sentence changes no decision.
///
/// The payloads carry what the narration needs and what a reader would ask ("which header did
/// `tun_put_user` write?"); the packet's bytes and skb state are on the `Step` itself.
public enum StepEvent: Sendable, Hashable {
    // MARK: Senders
    /// `tcp_transmit_skb()` → `__tcp_v4_send_check()` / `__tcp_v6_send_check()`.
    case tcpSend(TCPSend)
    /// `udp_sendmsg()` / `udpv6_sendmsg()`.
    case udpSend(UDPSend)
    /// `ping_v4_sendmsg()` / `icmp_reply()` and their IPv6 forms.
    case icmpSend(ICMPSend)
    /// A program that builds whole frames itself (`packet_snd()` when it writes to an AF_PACKET
    /// socket, `packetSocket`).
    case programSend(packetSocket: Bool)
    /// `packet_snd()` refuses a software sender's frame longer than the MTU (`EMSGSIZE`).
    case programSendTooBig(length: Int, mtu: Int)
    /// The remote machine beyond a host NIC sends (its NIC filled in every checksum).
    case remoteSend
    /// The host NIC's receive: hardware checksum verification.
    case nicReceive(fragmented: Bool, rxChecksumming: Bool, valid: Bool)
    /// The fault hook: a payload bit flips after `element`.
    case faultInjected(after: String)

    // MARK: validate_xmit_skb
    /// `skb_gso_segment()` → `tcp_gso_segment()` on a device without TSO; `complete`: segments
    /// get their full checksum (CHECKSUM_NONE), else stay PARTIAL.
    case gsoSegment(v6: Bool, complete: Bool, count: Int, device: String)
    /// `skb_checksum_help()` before a driver that cannot checksum.
    case checksumHelp(profile: KernelProfile, device: String, reason: String)

    // MARK: Drivers
    /// The guest's virtio-net `start_xmit()`: `virtio_net_hdr_from_skb(…, has_data_valid=false)`.
    case virtioXmit(VirtioNetHeader)
    /// `tun_put_user()`: the header written to the reader (nil: the TAP has no vnet header) and
    /// the skb's `ip_summed`.
    case tunPutUser(vnet: VirtioNetHeader?, summed: IPSummed)
    /// `veth_xmit()`; `marksUnnecessary`: the pre-4.4 rewrite of NONE to UNNECESSARY.
    case vethXmit(summed: IPSummed, marksUnnecessary: Bool, gso: Bool)
    /// `veth_xmit()` → `is_skb_forwardable()` drops a frame longer than the peer's MTU.
    case vethTooBig(peer: String, length: Int, mtu: Int)
    /// The veth peer's NAPI path: GRO validates a NONE checksum.
    case vethGRO(v6: Bool, l4: IPProtocol, valid: Bool, device: String, peer: String)
    /// The same GRO continued into a tunnel's `gro_receive` on the underlay: the inner checksum
    /// validated, `csum_level` 1 when it is right (`Walk.tunnelGROOnUnderlay`).
    case underlayTunnelGRO(v6: Bool, innerV6: Bool, innerL4: IPProtocol, innerValid: Bool, tunnel: String, geneve: Bool)
    /// `br_dev_xmit()`: the host sends through its bridge device.
    case bridgeLocalXmit
    /// `br_dev_xmit()` → `br_flood()`: no fdb entry for a locally sent frame.
    case bridgeLocalFlood(ports: [String])
    /// A host NIC's `ndo_start_xmit()` (hardware checksum and TSO).
    case hostNICXmit(partial: Bool, gso: Bool)

    // MARK: QEMU and TAP receive
    /// QEMU's virtio-net `receive_filter()` drops a unicast frame for another MAC.
    case qemuReceiveFilter(mac: String, guest: String)
    /// The guest's `receive_buf()`: the header QEMU passed (nil: none).
    case receiveBuf(vnet: VirtioNetHeader?, profile: KernelProfile, guest: String)
    /// `tun_get_user()`: whether the TAP has a vnet header, the header written (nil: bare bytes),
    /// and whether its GSO fields made a GSO skb.
    case tunGetUser(tapVnetHdr: Bool, vnet: VirtioNetHeader?, gso: Bool, profile: KernelProfile)
    /// `tun_get_user()` → `virtio_net_hdr_to_skb()` returns -EINVAL: the write fails and no skb is made.
    case tunGetUserRefused(vnet: VirtioNetHeader, reason: String)

    // MARK: Bridge
    /// `br_pass_frame_up()`: the frame is for the bridge device itself.
    case bridgePassUp(bridge: String)
    /// `br_forward()` → `is_skb_forwardable()` drops a frame larger than the egress MTU.
    case bridgeTooBig(egress: String, length: Int, mtu: Int)
    /// `__br_forward()` → `skb_forward_csum()` (after `br_flood()` when `flood` is set).
    /// `clone`: the frame leaves as a clone (`deliver_clone()`: the bridge is promiscuous, or
    /// the frame is broadcast or multicast), which has no owner.
    case bridgeForward(summed: IPSummed, from: String, to: String, flood: BridgeFlood?, clone: Bool = false)

    // MARK: IP
    /// `ip_rcv_core()` drops a PACKET_OTHERHOST frame.
    case otherHost(v6: Bool, mac: String, device: String)
    /// `ip_route_input()` on a host that does not forward.
    case notForwarded(v6: Bool, node: String)
    /// `nf_conntrack_in()` → `nf_ip_checksum()`.
    case conntrackCheck(l4: IPProtocol, v6: Bool, result: ConntrackCheck)
    /// The same check on a bridged frame, through br_netfilter (`Walk.bridgeNetfilter`).
    case bridgeConntrackCheck(l4: IPProtocol, v6: Bool, result: ConntrackCheck, bridge: String, port: String)
    /// A `ct state invalid drop` rule.
    case conntrackInvalidDrop
    /// `init_conntrack()` refuses to start a connection with this packet (`why`).
    case conntrackCannotStart(l4: IPProtocol, why: String)
    /// `nf_nat_used_tuple()`: a reply starts a connection whose NAT tuple clashes.
    case natTupleClash
    /// `nf_conntrack_tcp_packet()`: the connection's entry is in SYN_SENT (its SYN passed here,
    /// no SYN-ACK came back through) and a segment without SYN in the original direction is no
    /// valid transition (`tcp_conntracks`: sSS → sIV): INVALID, untracked, so not NATed.
    case conntrackTCPStateInvalid
    /// Un-NAT of a reply (PRE_ROUTING): the destination goes back to `to`.
    case unNAT(to: IPAddress, pseudoHeader: Bool)
    /// MASQUERADE rewrites the source to `to`.
    case masquerade(to: IPAddress, pseudoHeader: Bool)
    /// MASQUERADE skipped: the packet has no conntrack entry.
    case masqueradeWithoutConntrack(v6: Bool = false)
    /// `ip_exceeds_mtu()` / `ip6_pkt_too_big()`.
    case exceedsMTU(v6: Bool, ipLength: Int, gso: Bool, mtu: Int)
    /// `ip_output()` → `ip_fragment()` on a router: IPv4 pieces longer than the egress `mtu` are
    /// cut again (`defragmented`: conntrack reassembled the datagram first, so it is cut afresh),
    /// into `count` frames.
    case ipFragmentAgain(count: Int, mtu: Int, defragmented: Bool)
    /// `ip_forward()` / `ip6_forward()`: `summed` and `csumValid` before `skb_forward_csum()`.
    case ipForward(v6: Bool, summed: IPSummed, csumValid: Bool)
    /// `CHECKSUM --checksum-fill` (`checksum_tg()` → `skb_checksum_help()`).
    case checksumFill
    /// `checksum_tg()` on a GSO skb: skipped (6.x) or refused by `skb_checksum_help()`.
    case checksumFillGSO(profile: KernelProfile)

    // MARK: Receivers
    /// A DHCP client on an AF_PACKET socket checks the UDP checksum itself (or trusts auxdata).
    case dhcpClientCheck(auxdataTrusted: Bool, notReady: Bool, valid: Bool)
    /// The transport protocol's receive checksum check.
    case transportReceive(TransportReceive)
    /// The remote machine beyond a host NIC receives.
    case remoteReceive(valid: Bool)

    // MARK: Tunnels (Elements/Vxlan.swift)
    /// `vxlan_xmit_one()` → `vxlan_build_skb()` → `iptunnel_handle_offloads()`: the outer headers
    /// are pushed; a PARTIAL inner stays pending (6.x, `encapsulation` = 1) or is completed (4.4
    /// with the outer checksum on).
    case vxlanEncap(VxlanEncap)
    /// `udp_tunnel_xmit_skb()` → `udp_set_csum()`: the branch taken and the outer field written.
    case outerUDPChecksum(branch: OuterChecksumBranch, value: UInt16, profile: KernelProfile, v6: Bool = false)
    /// MASQUERADE of the outer header (`nf_nat_ipv4_manip_pkt()` → `udp_manip_pkt()`): the new
    /// source port; `zeroKept`: a zero field left alone; `pseudoHeader`: the PARTIAL branch of
    /// `inet_proto_csum_replace4()` (the port change skipped).
    case vxlanOuterMasquerade(port: UInt16, zeroKept: Bool, pseudoHeader: Bool, v6: Bool = false)
    /// A forwarding router's MASQUERADE of a tunnelled packet's outer header (the address only:
    /// the port is kept when unique), with the same `udp_manip_pkt()` rules as above.
    case routerOuterMasquerade(to: IPAddress, zeroKept: Bool, pseudoHeader: Bool)
    /// `validate_xmit_skb()` → `skb_udp_tunnel_segment()` → `__skb_udp_tunnel_segment()` on an
    /// underlay that cannot segment the tunnelled skb (`reason`: the feature it lacks): the inner
    /// super-frame cut per `gso_size`, each segment's outer UDP checksum derived from the
    /// (possibly NATed) outer field.
    /// `outerV6`: over an IPv6 underlay (`udp6_ufo_fragment()`); `innerV6`: the inner is TCP over IPv6.
    case tunnelSegment(needCsum: Bool, offloadCsum: Bool, innerComplete: Bool, count: Int, device: String, reason: String,
                       outerV6: Bool = false, innerV6: Bool = false)
    /// `__udp4_lib_rcv()` → `udp_queue_rcv_one_skb()`: the outer checksum checked before the
    /// encapsulation socket (`Udp: InCsumErrors` on failure).
    case vxlanOuterReceive(check: ReceiveCheck, device: String, v6: Bool = false)
    /// `vxlan_rcv()` → `__iptunnel_pull_header()` → `gro_cells_receive()`: the inner frame, with
    /// the `ip_summed` it keeps.
    case vxlanDecap(summed: IPSummed, device: String, geneve: Bool = false)
    /// `gro_cells_receive()` → `napi_gro_receive()` → `dev_gro_receive()` → `inet_gro_receive()` /
    /// `ipv6_gro_receive()` → `tcp4_gro_receive()` (`udp4_gro_receive()`, v6 alike) on the
    /// receiving tunnel device, GRO on and the skb not cloned: the inner checksum validated, the
    /// segment held, merged into the held one of its flow, or passed up as it is.
    case tunnelGRO(TunnelGRO)
    /// `napi_gro_complete()` → `inet_gro_complete()` → `tcp4_gro_complete()` → `tcp_gro_complete()`:
    /// `segments` merged segments go up as one super-frame, `CHECKSUM_PARTIAL`, `gso_size` set, the
    /// TCP field the pseudo-header sum; 1: a lone held segment goes up as it came (`gso_size` 0).
    case tunnelGROComplete(device: String, segments: Int, gsoSize: Int, v6: Bool, underlay: UnderlayGRO? = nil)

    // MARK: Userspace forwarders
    /// AF_PACKET read (`packet_rcv()`): with PACKET_VNET_HDR the header it got, else nil.
    case forwarderReadSocket(vnet: VirtioNetHeader?, partial: Bool, bytesValid: Bool)
    /// `read()` on a TAP fd and what became of the vnet header.
    case forwarderReadTap(TapReadHeader)
    /// The forwarder routes: MACs, TTL − 1, IP header checksum.
    case forwarderRoute
    /// `packet_snd()` → `virtio_net_hdr_to_skb()`: the skb state it rebuilt.
    case packetSndVnet(SkbState)
    /// `packet_snd()` refuses a GSO super-frame read as bytes (`EMSGSIZE`).
    case packetSndTooBig
    /// `packet_snd()` of bare bytes: CHECKSUM_NONE.
    case packetSnd
}

extension StepEvent {
    public struct TCPSend: Sendable, Hashable {
        public var v6: Bool
        /// CHECKSUM_PARTIAL, else the software branch (CHECKSUM_NONE).
        public var partial: Bool
        public var profile: KernelProfile
        public var device: String
        /// The route's device has checksum offload.
        public var deviceChecksums: Bool
        /// A non-data segment (SYN, ACK, FIN).
        public var bare: Bool
        /// `gso_size` of the GSO super-frame TCP built, nil when none.
        public var gsoSize: Int?
    }

    public struct UDPSend: Sendable, Hashable {
        public var v6: Bool
        /// The device can checksum: CHECKSUM_PARTIAL.
        public var hwChecksum: Bool
        public var device: String
        /// Sent as IP fragments.
        public var fragments: Fragmentation?
    }

    public struct ICMPSend: Sendable, Hashable {
        public var v6: Bool
        /// The kernel's echo reply.
        public var reply: Bool
        public var fragments: Fragmentation?
    }

    /// A datagram built as IP fragments: its IP length, the number of fragments and the MTU they
    /// were cut for.
    public struct Fragmentation: Sendable, Hashable {
        public var ipLength: Int
        public var count: Int
        public var mtu: Int
    }

    public struct VxlanEncap: Sendable, Hashable {
        public var device: String
        public var vni: UInt32
        /// The outer UDP checksum is on (`udpcsum`, or the profile's default).
        public var udpSum: Bool
        public var innerSummed: IPSummed
        /// `skb->encapsulation` after: the pending field is the inner one.
        public var encapsulation: Bool
        /// 4.4 completed the inner first (`skb_checksum_help()` in `iptunnel_handle_offloads()`).
        public var innerCompleted: Bool
        public var gso: Bool
        public var profile: KernelProfile
        /// The outer header is IPv6.
        public var v6 = false
        /// A GENEVE device (`geneve_xmit_skb()` → `geneve_build_skb()`).
        public var geneve = false
    }

    public struct BridgeFlood: Sendable, Hashable {
        public var destinationMAC: String
        public var ports: [String]
    }

    public enum ConntrackCheck: Sendable, Hashable {
        /// Verified (skb not PARTIAL): correct.
        case valid
        /// A `COMPLETE` skb whose sum verifies: `nf_ip_checksum()` marks it `UNNECESSARY`.
        case validComplete
        /// Verified: wrong, the packet is INVALID.
        case invalid
        /// Skipped for this `ip_summed`.
        case skipped(IPSummed)
        /// `nf_conntrack_checksum=0`.
        case disabled
        /// A UDP checksum of 0: `udp_error()` returns before `nf_checksum()` ("Packet with no
        /// checksum"), so nothing is summed and no `csum_valid` is set.
        case zeroUDPChecksum
    }

    public struct TransportReceive: Sendable, Hashable {
        public var l4: IPProtocol
        public var v6: Bool
        /// A socket waits for it (else it reached a host that is not the destination).
        public var hasSocket: Bool
        /// Reassembled from this many IP fragments first.
        public var fragments: Int?
        public var check: ReceiveCheck

        /// The counter a failed check increments.
        public var counter: String {
            switch l4 {
            case .tcp: return "Tcp: InCsumErrors"
            case .udp: return v6 ? "Udp6: InCsumErrors" : "Udp: InCsumErrors"
            case .icmp: return "Icmp: InCsumErrors"
            case .icmpv6: return "Icmp6: InCsumErrors"
            }
        }
    }

    /// What GRO on a tunnel device did with one inner frame.
    public struct TunnelGRO: Sendable, Hashable {
        public enum Action: Sendable, Hashable {
            /// `GRO_HELD`: the first segment of its flow, kept on the GRO list.
            case held
            /// `GRO_MERGED_FREE`: appended to the held segment (`skb_gro_receive()`); `count`
            /// segments are merged now.
            case merged(count: Int)
            /// `GRO_NORMAL`: up the stack as it is.
            case passedUp(PassReason)
        }

        public enum PassReason: String, Sendable, Hashable {
            /// SYN, FIN, RST, PSH or URG on a segment with nothing to join (`tcp_gro_receive()`'s
            /// final flush).
            case flushFlag = "flush-flag"
            /// The inner checksum is wrong (`tcp4_gro_receive()` → `flush`).
            case checksumWrong = "checksum-wrong"
            /// UDP: `udp_gro_receive()` merges only for a socket that asked for it.
            case udp
            /// A GSO skb (`NAPI_GRO_CB(skb)->count = gso_segs`): nothing left to merge.
            case gso
        }

        public var device: String
        public var v6: Bool
        public var l4: IPProtocol
        /// The `ip_summed` GRO found: `PARTIAL` and `UNNECESSARY` are not checked again
        /// (`__skb_gro_checksum_validate_needed()`), `COMPLETE` is checked with its sum, `NONE`
        /// is summed in software.
        public var found: IPSummed
        /// The inner checksum holds (or was not checked: trusted).
        public var valid: Bool
        public var action: Action
        /// GRO on a veth end (the NAPI path `veth_xmit()` chose), not on a tunnel device.
        public var veth = false
        /// A segment a writer's socket still owns (`skb_segment()` gives it the last one):
        /// `gro_list_prepare()` does not count it as the held segments' flow.
        public var keptApart = false
        /// GRO on a veth end of tunnelled segments, through the tunnel socket's `gro_receive`
        /// (`Elements/UnderlayGRO.swift`): `v6` and `l4` are then the inner segment's.
        public var underlay: UnderlayGRO?

        public init(device: String, v6: Bool, l4: IPProtocol, found: IPSummed, valid: Bool, action: Action) {
            self.device = device
            self.v6 = v6
            self.l4 = l4
            self.found = found
            self.valid = valid
            self.action = action
        }
    }

    /// Which tunnel socket's `gro_receive` merged tunnelled segments on a veth end's NAPI
    /// (`udp_gro_receive()` → `vxlan_gro_receive()` / `geneve_gro_receive()`).
    public struct UnderlayGRO: Sendable, Hashable {
        public var tunnel: String
        public var outerV6: Bool
        public var geneve: Bool
        /// The outer UDP checksum is on (not zero): `SKB_GSO_UDP_TUNNEL_CSUM` once merged.
        public var outerChecksum: Bool

        /// The receive functions from the outer UDP header to the inner network header.
        var receivePath: String {
            "\(outerV6 ? "udp6_gro_receive" : "udp4_gro_receive") → udp_gro_receive → \(geneve ? "geneve_gro_receive" : "vxlan_gro_receive") → eth_gro_receive → "
        }

        /// The complete functions from the outer UDP header to the inner network header.
        var completePath: String {
            "\(outerV6 ? "udp6_gro_complete" : "udp4_gro_complete") → udp_gro_complete → \(geneve ? "geneve_gro_complete" : "vxlan_gro_complete") → eth_gro_complete → "
        }
    }

    public enum ReceiveCheck: Sendable, Hashable {
        /// `skb_csum_unnecessary()`: taken as valid without reading the bytes.
        case trusted(summed: IPSummed, csumValid: Bool, bytesValid: Bool)
        /// UDP checksum 0 over IPv4: none.
        case udpZero
        /// UDP checksum 0 over IPv6 at a socket without `no_check6_rx`: refused (RFC 6936).
        case udp6ZeroRefused
        /// Verified from the bytes.
        case verified(valid: Bool)
    }

    public enum TapReadHeader: Sendable, Hashable {
        /// A vnet-header-aware forwarder keeps it.
        case kept
        /// The forwarder drops it.
        case dropped
        /// The TAP gave bare bytes.
        case none
    }
}

extension StepEvent {
    /// The event without its payload, for matching (`step.event.kind == .tunPutUser`).
    public enum Kind: String, Sendable, Hashable, CaseIterable {
        case tcpSend
        case udpSend
        case icmpSend
        case programSend
        case programSendTooBig
        case remoteSend
        case nicReceive
        case faultInjected
        case gsoSegment
        case checksumHelp
        case virtioXmit
        case tunPutUser
        case vethXmit
        case vethTooBig
        case vethGRO
        case underlayTunnelGRO
        case bridgeLocalXmit
        case bridgeLocalFlood
        case hostNICXmit
        case qemuReceiveFilter
        case receiveBuf
        case tunGetUser
        case tunGetUserRefused
        case bridgePassUp
        case bridgeTooBig
        case bridgeForward
        case otherHost
        case notForwarded
        case conntrackCheck
        case bridgeConntrackCheck
        case conntrackInvalidDrop
        case conntrackCannotStart
        case natTupleClash
        case conntrackTCPStateInvalid
        case unNAT
        case masquerade
        case masqueradeWithoutConntrack
        case exceedsMTU
        case ipFragmentAgain
        case ipForward
        case checksumFill
        case checksumFillGSO
        case dhcpClientCheck
        case transportReceive
        case remoteReceive
        case vxlanEncap
        case outerUDPChecksum
        case vxlanOuterMasquerade
        case routerOuterMasquerade
        case tunnelSegment
        case vxlanOuterReceive
        case vxlanDecap
        case tunnelGRO
        case tunnelGROComplete
        case forwarderReadSocket
        case forwarderReadTap
        case forwarderRoute
        case packetSndVnet
        case packetSndTooBig
        case packetSnd
    }

    public var kind: Kind {
        switch self {
        case .tcpSend: return .tcpSend
        case .udpSend: return .udpSend
        case .icmpSend: return .icmpSend
        case .programSend: return .programSend
        case .programSendTooBig: return .programSendTooBig
        case .remoteSend: return .remoteSend
        case .nicReceive: return .nicReceive
        case .faultInjected: return .faultInjected
        case .gsoSegment: return .gsoSegment
        case .checksumHelp: return .checksumHelp
        case .virtioXmit: return .virtioXmit
        case .tunPutUser: return .tunPutUser
        case .vethXmit: return .vethXmit
        case .vethTooBig: return .vethTooBig
        case .vethGRO: return .vethGRO
        case .underlayTunnelGRO: return .underlayTunnelGRO
        case .bridgeLocalXmit: return .bridgeLocalXmit
        case .bridgeLocalFlood: return .bridgeLocalFlood
        case .hostNICXmit: return .hostNICXmit
        case .qemuReceiveFilter: return .qemuReceiveFilter
        case .receiveBuf: return .receiveBuf
        case .tunGetUser: return .tunGetUser
        case .tunGetUserRefused: return .tunGetUserRefused
        case .bridgePassUp: return .bridgePassUp
        case .bridgeTooBig: return .bridgeTooBig
        case .bridgeForward: return .bridgeForward
        case .otherHost: return .otherHost
        case .notForwarded: return .notForwarded
        case .conntrackCheck: return .conntrackCheck
        case .bridgeConntrackCheck: return .bridgeConntrackCheck
        case .conntrackInvalidDrop: return .conntrackInvalidDrop
        case .conntrackCannotStart: return .conntrackCannotStart
        case .natTupleClash: return .natTupleClash
        case .conntrackTCPStateInvalid: return .conntrackTCPStateInvalid
        case .unNAT: return .unNAT
        case .masquerade: return .masquerade
        case .masqueradeWithoutConntrack: return .masqueradeWithoutConntrack
        case .exceedsMTU: return .exceedsMTU
        case .ipFragmentAgain: return .ipFragmentAgain
        case .ipForward: return .ipForward
        case .checksumFill: return .checksumFill
        case .checksumFillGSO: return .checksumFillGSO
        case .dhcpClientCheck: return .dhcpClientCheck
        case .transportReceive: return .transportReceive
        case .remoteReceive: return .remoteReceive
        case .vxlanEncap: return .vxlanEncap
        case .outerUDPChecksum: return .outerUDPChecksum
        case .vxlanOuterMasquerade: return .vxlanOuterMasquerade
        case .routerOuterMasquerade: return .routerOuterMasquerade
        case .tunnelSegment: return .tunnelSegment
        case .vxlanOuterReceive: return .vxlanOuterReceive
        case .vxlanDecap: return .vxlanDecap
        case .tunnelGRO: return .tunnelGRO
        case .tunnelGROComplete: return .tunnelGROComplete
        case .forwarderReadSocket: return .forwarderReadSocket
        case .forwarderReadTap: return .forwarderReadTap
        case .forwarderRoute: return .forwarderRoute
        case .packetSndVnet: return .packetSndVnet
        case .packetSndTooBig: return .packetSndTooBig
        case .packetSnd: return .packetSnd
        }
    }
}
