import Wire

/// The kernel's MTU limits and the lengths its MTU checks compare, in one place.
public enum MTURule {
    /// `ETH_DATA_LEN`: every Ethernet-like device's MTU unless set (`ether_setup()`).
    public static let defaultMTU = Frame.linkMTU
    /// `ETH_MIN_MTU` (68, RFC 791's minimum for IPv4): the `min_mtu` of veth, bridge, TAP and
    /// virtio-net.
    public static let minimum = 68
    /// `IPV6_MIN_MTU`: `ipv6_add_dev()` refuses a device below it (and `addrconf_notify()` takes
    /// IPv6 off a device whose MTU drops below it), so an interface with an IPv6 address needs it.
    public static let ipv6Minimum = 1280

    /// `min_mtu...max_mtu` of the device a node kind's interface is: `ETH_MAX_MTU` (65535) for
    /// veth (`veth_setup()`), bridge (`br_dev_setup()`) and virtio-net (`MAX_MTU`); a TAP's
    /// `tun_net_initialize()` takes its Ethernet header off: 65535 − 14 = 65521. A host NIC is
    /// emulated by a veth in `verify`; a real NIC's driver may allow less (often 9000–9216). A
    /// namespace's or router's interface is the device it is placed at (a veth end, a TAP).
    public static func range(_ kind: NodeKind) -> ClosedRange<Int> {
        switch kind {
        case .tap: return minimum...(65535 - FrameLayout.ethernetLength)
        case .vm, .netns, .router, .bridge, .veth, .hostNIC, .vxlan: return minimum...65535
        }
    }

    /// `is_skb_forwardable()`: the longest non-GSO frame a device of MTU `mtu` accepts from a
    /// peer or a bridge: `mtu + hard_header_len + VLAN_HLEN`.
    public static func forwardableLength(mtu: Int) -> Int {
        mtu + FrameLayout.ethernetLength + 4
    }

    /// `ipv4_default_advmss()` / `ip6_default_advmss()`: the MSS a host advertises and sends on a
    /// route over a device of MTU `mtu`: the MTU less the IP and TCP headers (no options).
    public static func mss(mtu: Int, _ v: IPVersion) -> Int {
        mtu - (v == .v4 ? 20 : 40) - 20
    }
}
