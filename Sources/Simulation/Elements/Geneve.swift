// A GENEVE tunnel device (drivers/net/geneve.c, #16). In the kernel, GENEVE runs the same UDP
// tunnel code as VXLAN with its own header:
// - transmit: geneve_xmit_skb() → geneve_build_skb() → udp_tunnel_handle_offloads() →
//   udp_tunnel_xmit_skb() / udp_tunnel6_xmit_skb() → udp_set_csum();
// - receive: geneve_udp_encap_recv() → geneve_rx() → __iptunnel_pull_header() →
//   gro_cells_receive().
// So the walk in `Vxlan.swift` carries a frame through either device: checksum offload, LCO,
// outer NAT, tunnel segmentation, decapsulation and GRO. What belongs to GENEVE alone lives
// here: its port, its outer-checksum rule and its header. The sources are in
// assets/kernel-reference-notes.md, "Tunnels (VXLAN, GENEVE): what the source says" (T6, T12).

extension VxlanSettings {
    /// `GENEVE_UDP_PORT`, the IANA port.
    static let genevePort: UInt16 = 6081

    /// The `udp_sum` of a GENEVE device. On 6.x, `geneve_nl2info()` sets `IP_TUNNEL_CSUM_BIT`
    /// for an IPv6 remote and for `udpcsum`; `noudpcsum` never clears it; `udp6zerocsumtx`
    /// clears it for either family (T6). So over IPv4 the outer checksum is zero unless
    /// `udpcsum` is given. 4.4's GENEVE has no checksum attribute at all: always zero (T12).
    func geneveOuterChecksum(on profile: KernelProfile) -> Bool {
        guard profile == .linux6 else { return false }
        return (overIPv6 || udpCsum == true) && !udp6ZeroCsumTx
    }
}

enum Geneve {
    /// The 8 bytes `geneve_build_header()` writes after the outer UDP header: version 0, no
    /// options (opt_len 0), no O or C bit, protocol `ETH_P_TEB` (0x6558), the VNI, a reserved
    /// byte. The same length as VXLAN's header, so the outer headers are 50 (IPv4) and 70
    /// (IPv6) bytes for both (`GENEVE_IPV4_HLEN`, `GENEVE_IPV6_HLEN`).
    static func header(vni: UInt32) -> [UInt8] {
        [0x00, 0x00, 0x65, 0x58, UInt8(vni >> 16 & 0xFF), UInt8(vni >> 8 & 0xFF), UInt8(vni & 0xFF), 0]
    }
}
