import Wire

/// One measurement: a lab shape, the knobs that differ from the seed, and the frame to inject.
public struct ProbeScenario: Sendable {
    public enum Shape: Equatable, Sendable {
        /// One namespace with br0 and two TAPs.
        case bridged
        /// br1 (tap1 + vethA) — router namespace — br2 (tap2 + vethB).
        case routed(Router)
    }

    public enum Router: Equatable, Sendable {
        /// Kernel forwarding (`ip_forward=1`).
        case netns
        /// AF_PACKET relay in the router namespace, `ip_forward=0`.
        case userspace(vnetHeader: Bool)
        /// A router VM behind two TAPs (tapR1 on br1, tapR2 on br2), stood in for by a relay that
        /// keeps the virtio_net_hdr as a Linux router guest does; `guestCsum` false gives its TAPs
        /// no TUN_F_CSUM/TSO (a guest that did not negotiate GUEST_CSUM).
        case vm(guestCsum: Bool)
    }

    public enum Flow: Equatable, Sendable {
        case tcpSyn
        case udpDHCPOffer
        /// A TSO super-frame: gso TCPV4/TCPV6 with `gsoSize`, `payload` bytes of data.
        case tso(payload: Int, gsoSize: Int)
    }

    public var name: String
    public var description: String
    public var shape: Shape
    public var flow: Flow
    public var ipv6 = false
    /// Guest sends with NEEDS_CSUM and the pseudo-header sum (tx-checksumming on); otherwise flags 0
    /// and a complete checksum.
    public var needsCsum = true
    public var tap2VnetHeader = true
    public var tap2Offloads: TunOffloads = .qemuGuestCsumTSO
    /// `tx-checksum-ip-generic off` on vethA (host side, transmitting toward the router).
    public var vethATxOff = false
    /// `rx-gro on` on vethA-r (router side, receiving).
    public var routerGRO = false
    /// `tx-checksum-ip-generic off` on vethB-r (the router's own egress).
    public var routerEgressTxOff = false
    /// Write the header with DATA_VALID (flags 2) instead of NEEDS_CSUM / 0.
    public var injectDataValid = false
    /// nft masquerade on the router's egress (vethB-r).
    public var nat = false
    /// nft `ct state invalid drop` in the router's forward hook (nf_conntrack_checksum=1).
    public var conntrackInvalidDrop = false
    /// iptables mangle POSTROUTING `-p udp --dport 68 -j CHECKSUM --checksum-fill` in the router.
    public var checksumFill = false
    /// Flip a bit in the last L4 byte after the checksum was written (corruption before the TAP).
    public var corrupt = false
    /// Further ethtool changes, applied after the lab is built: (namespace role, device, feature, on).
    public var toggles: [FeatureToggle] = []
}

/// One ethtool feature change by its ETH_SS_FEATURES name.
public struct FeatureToggle: Sendable, Equatable {
    public var role: String
    public var device: String
    public var feature: String
    public var on: Bool

    public init(_ role: String, _ device: String, _ feature: String, on: Bool) {
        self.role = role
        self.device = device
        self.feature = feature
        self.on = on
    }

    /// Every TSO bit (NETIF_F_ALL_TSO) off, checksum offload kept.
    public static func tsoOff(_ role: String, _ device: String) -> [FeatureToggle] {
        ["tx-tcp-segmentation", "tx-tcp-ecn-segmentation", "tx-tcp-mangleid-segmentation", "tx-tcp6-segmentation"].map {
            FeatureToggle(role, device, $0, on: false)
        }
    }
}

extension ProbeScenario {
    public static let all: [ProbeScenario] = [
        ProbeScenario(name: "bridged-tcp-syn",
                 description: "Seed bridged case: VM1's SYN with NEEDS_CSUM written into tap1, read at tap2 on the same bridge; both TAPs have IFF_VNET_HDR and TUN_F_CSUM|TSO4|TSO6 as QEMU sets for a guest with GUEST_CSUM/GUEST_TSO.",
                 shape: .bridged, flow: .tcpSyn),
        ProbeScenario(name: "bridged-tcp-syn-tap2-no-csum",
                 description: "Bridged SYN with NEEDS_CSUM; tap2 has a vnet header but no TUN_F_CSUM (guest without GUEST_CSUM): the kernel completes the checksum before tun_put_user.",
                 shape: .bridged, flow: .tcpSyn, tap2Offloads: []),
        ProbeScenario(name: "bridged-tcp-syn-tap2-no-vnet-hdr",
                 description: "Bridged SYN with NEEDS_CSUM; tap2 opened WITHOUT IFF_VNET_HDR but given TUN_F_CSUM (misconfigured backend): nothing completes the checksum and no header says so.",
                 shape: .bridged, flow: .tcpSyn, tap2VnetHeader: false, tap2Offloads: [.csum]),
        ProbeScenario(name: "bridged-tcp-syn-complete",
                 description: "Bridged SYN written with flags 0 and a complete checksum (guest with tx off): what flags arrive at tap2.",
                 shape: .bridged, flow: .tcpSyn, needsCsum: false),
        ProbeScenario(name: "bridged-tcp-syn-data-valid-corrupt",
                      description: "Bridged SYN with a complete checksum, then one L4 bit flipped, written with DATA_VALID (flags 2): tun_get_user ignores DATA_VALID, so what arrives at tap2?",
                      shape: .bridged, flow: .tcpSyn, needsCsum: false, injectDataValid: true, corrupt: true),
        ProbeScenario(name: "bridged-tcp-syn-br0-tx-off",
                      description: "Bridged SYN with NEEDS_CSUM, tx-checksum-ip-generic off on br0 itself: the bridge device's features do not apply to frames it forwards between ports.",
                      shape: .bridged, flow: .tcpSyn, toggles: [FeatureToggle("host", "br0", "tx-checksum-ip-generic", on: false)]),
        ProbeScenario(name: "bridged-tcp-syn-tap1-tx-off",
                      description: "Bridged SYN with NEEDS_CSUM, tx-checksum-ip-generic off on tap1 (which only receives this frame from VM1).",
                      shape: .bridged, flow: .tcpSyn, toggles: [FeatureToggle("host", "tap1", "tx-checksum-ip-generic", on: false)]),
        ProbeScenario(name: "bridged-tcp-syn-tap2-tx-off",
                      description: "Bridged SYN with NEEDS_CSUM, tx-checksum-ip-generic off on tap2 by ethtool (TUN_F_CSUM still set): tap2 transmits this frame, so it is completed there.",
                      shape: .bridged, flow: .tcpSyn, toggles: [FeatureToggle("host", "tap2", "tx-checksum-ip-generic", on: false)]),
        ProbeScenario(name: "bridged-udp-dhcp",
                 description: "Bridged UDP 67->68 (DHCP offer-like, 300-byte payload) with NEEDS_CSUM csum_offset 6.",
                 shape: .bridged, flow: .udpDHCPOffer),
        ProbeScenario(name: "bridged-tcp6-syn",
                 description: "Bridged IPv6 TCP SYN with NEEDS_CSUM (csum_start 54).",
                 shape: .bridged, flow: .tcpSyn, ipv6: true),
        ProbeScenario(name: "bridged-tso4-tap2-csum-no-tso",
                 description: "TSO super-frame (gso TCPV4, gso_size 1448, 4000 bytes payload, NEEDS_CSUM) into tap1; tap2 has TUN_F_CSUM but not TUN_F_TSO4: segmented at tap2.",
                 shape: .bridged, flow: .tso(payload: 4000, gsoSize: 1448), tap2Offloads: [.csum]),
        ProbeScenario(name: "bridged-tso6-tap2-csum-no-tso",
                      description: "IPv6 TSO super-frame (gso TCPV6, gso_size 1428, 4000 bytes payload, NEEDS_CSUM) into tap1; tap2 has TUN_F_CSUM but not TUN_F_TSO6: segmented at tap2.",
                      shape: .bridged, flow: .tso(payload: 4000, gsoSize: 1428), ipv6: true, tap2Offloads: [.csum]),
        ProbeScenario(name: "bridged-tso4-tap2-tso",
                      description: "TSO super-frame (gso TCPV4, gso_size 1448, 4000 bytes payload, NEEDS_CSUM) into tap1; tap2 has TUN_F_CSUM|TSO4|TSO6: passed unsegmented with its GSO header.",
                      shape: .bridged, flow: .tso(payload: 4000, gsoSize: 1448)),
        ProbeScenario(name: "bridged-tso4-tap2-no-offload",
                 description: "TSO super-frame (gso TCPV4, gso_size 1448, 4000 bytes payload, NEEDS_CSUM) into tap1; tap2 has neither TUN_F_CSUM nor TUN_F_TSO4: segmented and completed at tap2.",
                 shape: .bridged, flow: .tso(payload: 4000, gsoSize: 1448), tap2Offloads: []),
        ProbeScenario(name: "routed-netns-tcp-syn",
                 description: "Seed routed case: br1 (tap1, vethA) - router namespace with ip_forward=1 - br2 (tap2, vethB); SYN 10.0.1.2 -> 10.0.2.2 with NEEDS_CSUM into tap1, read at tap2.",
                 shape: .routed(.netns), flow: .tcpSyn),
        ProbeScenario(name: "routed-netns-tcp-syn-complete",
                 description: "Routed (kernel forwarding) SYN written with flags 0 and a complete checksum.",
                 shape: .routed(.netns), flow: .tcpSyn, needsCsum: false),
        ProbeScenario(name: "routed-netns-tcp-syn-complete-router-gro",
                 description: "Routed (kernel forwarding) SYN with flags 0 and a complete checksum, rx-gro on the router's ingress veth (NAPI/GRO path may mark it CHECKSUM_UNNECESSARY): does tun report DATA_VALID?",
                 shape: .routed(.netns), flow: .tcpSyn, needsCsum: false, routerGRO: true),
        ProbeScenario(name: "routed-netns-tcp-syn-vethA-tx-off",
                      description: "Routed (kernel forwarding) SYN with NEEDS_CSUM; tx-checksum-ip-generic off on vethA (host side, transmitting into the router): completed at vethA.",
                      shape: .routed(.netns), flow: .tcpSyn, vethATxOff: true),
        ProbeScenario(name: "routed-netns-tcp-syn-vethA-tx-off-router-gro",
                      description: "Routed (kernel forwarding) SYN with NEEDS_CSUM, tx off on vethA (so vethA has no TSO and its frames are GRO-eligible) and rx-gro on vethA-r: GRO validates the complete checksum (CHECKSUM_UNNECESSARY); does tun report DATA_VALID at tap2?",
                      shape: .routed(.netns), flow: .tcpSyn, vethATxOff: true, routerGRO: true),
        ProbeScenario(name: "routed-netns-tcp-syn-vethA-tso-off-router-gro",
                      description: "Routed (kernel forwarding) SYN with NEEDS_CSUM, TSO off on vethA (checksum offload kept, so the frame stays PARTIAL but is GRO-eligible) and rx-gro on vethA-r: does PARTIAL survive GRO?",
                      shape: .routed(.netns), flow: .tcpSyn, routerGRO: true, toggles: FeatureToggle.tsoOff("host", "vethA")),
        ProbeScenario(name: "routed-netns-tso4-tap2-csum-no-tso",
                      description: "TSO super-frame (gso TCPV4/1448, 4000 bytes, NEEDS_CSUM) through the kernel router; tap2 has TUN_F_CSUM but not TUN_F_TSO4.",
                      shape: .routed(.netns), flow: .tso(payload: 4000, gsoSize: 1448), tap2Offloads: [.csum]),
        ProbeScenario(name: "routed-netns-nat-tcp-syn",
                      description: "Routed (kernel forwarding) SYN with NEEDS_CSUM through nft masquerade on vethB-r: the address change is applied to the unfinished pseudo-header sum.",
                      shape: .routed(.netns), flow: .tcpSyn, nat: true),
        ProbeScenario(name: "routed-netns-nat-tcp-syn-complete",
                      description: "Routed (kernel forwarding) SYN with flags 0 and a complete checksum through nft masquerade on vethB-r: incremental update of the finished checksum.",
                      shape: .routed(.netns), flow: .tcpSyn, needsCsum: false, nat: true),
        ProbeScenario(name: "routed-netns-ct-invalid-drop-corrupt",
                      description: "Routed (kernel forwarding) with nft 'ct state invalid drop' and nf_conntrack_checksum=1; SYN with flags 0, complete checksum, then one L4 bit flipped: conntrack verifies a CHECKSUM_NONE skb.",
                      shape: .routed(.netns), flow: .tcpSyn, needsCsum: false, conntrackInvalidDrop: true, corrupt: true),
        ProbeScenario(name: "routed-netns-ct-invalid-drop-partial-corrupt",
                      description: "Routed (kernel forwarding) with nft 'ct state invalid drop'; SYN with NEEDS_CSUM (pseudo-header sum) and one L4 bit flipped after: conntrack skips a CHECKSUM_PARTIAL skb.",
                      shape: .routed(.netns), flow: .tcpSyn, conntrackInvalidDrop: true, corrupt: true),
        ProbeScenario(name: "routed-netns-udp-dhcp-checksum-fill",
                      description: "Routed (kernel forwarding) UDP 67->68 with NEEDS_CSUM and iptables mangle POSTROUTING -p udp --dport 68 -j CHECKSUM --checksum-fill in the router.",
                      shape: .routed(.netns), flow: .udpDHCPOffer, checksumFill: true),
        ProbeScenario(name: "routed-netns-udp-dhcp",
                 description: "Routed (kernel forwarding) UDP 67->68 with NEEDS_CSUM.",
                 shape: .routed(.netns), flow: .udpDHCPOffer),
        ProbeScenario(name: "routed-netns-tcp6-syn",
                 description: "Routed (kernel forwarding, IPv6) TCP SYN fd00:1::2 -> fd00:2::2 with NEEDS_CSUM.",
                 shape: .routed(.netns), flow: .tcpSyn, ipv6: true),
        ProbeScenario(name: "routed-vm-tcp-syn",
                      description: "Routed through a router VM stand-in (relay between tapR1 on br1 and tapR2 on br2, TAPs with vnet header and TUN_F_CSUM|TSO4|TSO6, NEEDS_CSUM kept as a Linux router guest does).",
                      shape: .routed(.vm(guestCsum: true)), flow: .tcpSyn),
        ProbeScenario(name: "routed-vm-no-guest-csum-tcp-syn",
                      description: "Routed through a router VM stand-in whose TAPs have no TUN_F_CSUM/TSO (router guest without GUEST_CSUM): the host completes the checksum before tapR1.",
                      shape: .routed(.vm(guestCsum: false)), flow: .tcpSyn),
        ProbeScenario(name: "routed-vm-no-guest-csum-tso4",
                      description: "TSO super-frame (gso TCPV4/1448, 4000 bytes, NEEDS_CSUM) to a router VM stand-in without GUEST_CSUM/GUEST_TSO: segmented and completed before tapR1.",
                      shape: .routed(.vm(guestCsum: false)), flow: .tso(payload: 4000, gsoSize: 1448)),
        ProbeScenario(name: "routed-userspace-tcp-syn",
                 description: "Routed through a userspace AF_PACKET forwarder in the router namespace (ip_forward=0, no PACKET_VNET_HDR): the seed's failing case.",
                 shape: .routed(.userspace(vnetHeader: false)), flow: .tcpSyn),
        ProbeScenario(name: "routed-userspace-vnet-tcp-syn",
                 description: "Routed through the userspace forwarder with PACKET_VNET_HDR on both sockets.",
                 shape: .routed(.userspace(vnetHeader: true)), flow: .tcpSyn),
        ProbeScenario(name: "routed-userspace-tcp-syn-vethA-tx-off",
                 description: "Userspace forwarder without PACKET_VNET_HDR, tx-checksum-ip-generic off on vethA (host side, transmitting into the router).",
                 shape: .routed(.userspace(vnetHeader: false)), flow: .tcpSyn, vethATxOff: true),
        ProbeScenario(name: "routed-userspace-tcp-syn-router-egress-tx-off",
                      description: "Userspace forwarder without PACKET_VNET_HDR, tx-checksum-ip-generic off on vethB-r (the router's own egress): the frame it sends is already CHECKSUM_NONE with the wrong bytes.",
                      shape: .routed(.userspace(vnetHeader: false)), flow: .tcpSyn, routerEgressTxOff: true),
        ProbeScenario(name: "routed-userspace-tcp-syn-vethA-r-tx-off",
                      description: "Userspace forwarder without PACKET_VNET_HDR, tx-checksum-ip-generic off on vethA-r (router side, which only receives this frame).",
                      shape: .routed(.userspace(vnetHeader: false)), flow: .tcpSyn, toggles: [FeatureToggle("router", "vethA-r", "tx-checksum-ip-generic", on: false)]),
        ProbeScenario(name: "routed-userspace-udp-dhcp",
                 description: "UDP 67->68 with NEEDS_CSUM through the userspace forwarder without PACKET_VNET_HDR.",
                 shape: .routed(.userspace(vnetHeader: false)), flow: .udpDHCPOffer),
        ProbeScenario(name: "routed-userspace-tso4",
                 description: "TSO super-frame (gso TCPV4/1448, 4000 bytes, NEEDS_CSUM) through the userspace forwarder without PACKET_VNET_HDR.",
                 shape: .routed(.userspace(vnetHeader: false)), flow: .tso(payload: 4000, gsoSize: 1448)),
    ]
}
