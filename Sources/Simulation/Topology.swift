import Wire

/// A virtual network as the user describes it: nodes, the links between their interfaces, and the
/// flows to trace. A value type; edits produce a new topology and the simulation re-runs.
public struct Topology: Sendable, Hashable {
    public var name: String
    /// One sentence: what this topology shows.
    public var description: String
    /// The host kernel (taps, bridges, veths, namespaces) and the default for guests.
    public var kernel: KernelProfile?
    public var nodes: [Node]
    public var links: [Link]
    public var flows: [Flow]

    public init(name: String, description: String = "", kernel: KernelProfile? = nil, nodes: [Node] = [], links: [Link] = [], flows: [Flow] = []) {
        self.name = name
        self.description = description
        self.kernel = kernel
        self.nodes = nodes
        self.links = links
        self.flows = flows
    }

    public var hostKernel: KernelProfile { kernel ?? .default }

    public func node(named n: String) -> Node? { nodes.first { $0.name == n } }

    public func nodeIndex(named n: String) -> Int? { nodes.firstIndex { $0.name == n } }

    /// Every node's index by name (the first node of a name, as `nodeIndex(named:)` finds it):
    /// for callers that look up many names, so their work stays linear in the topology.
    public func nodeIndexesByName() -> [String: Int] {
        var byName: [String: Int] = [:]
        byName.reserveCapacity(nodes.count)
        // By index: `enumerated()` copies each node (a retain per field).
        for i in nodes.indices where byName[nodes[i].name] == nil { byName[nodes[i].name] = i }
        return byName
    }

    /// The profile a node runs: its own (guests) or the host's.
    public func profile(of node: Node) -> KernelProfile {
        node.kernel ?? hostKernel
    }
}

/// One element of the topology.
public struct Node: Sendable, Hashable {
    public var name: String
    public var kind: NodeKind
    /// Guest kernel (vm nodes and router VMs); nil means the topology's default.
    public var kernel: KernelProfile?
    /// Named interfaces in file order: a VM's virtio NICs, a namespace's or router's L3
    /// interfaces, a veth pair's two ends. Single-device kinds (tap, bridge, host-nic) have one
    /// interface named like the node.
    public var interfaces: [Interface]
    /// Offload features of a single-device node (tap, bridge, host-nic).
    public var features: Features
    /// The TCP options a host (vm, netns, router) offers; nil fields take the profile's defaults.
    public var tcp = TCPOptionSettings()
    /// The MTU of a single-device node (tap, bridge, host-nic); nil: the kernel's default (1500
    /// for a TAP or host NIC; a bridge follows its ports, `br_mtu_auto_adjust()`).
    public var mtu: Int?
    /// A bridge: does br_netfilter pass the IPv4/IPv6 frames it forwards through its
    /// namespace's IP hooks (`bridge-nf-call-iptables`/`-ip6tables`, or the bridge's own
    /// `nf_call_iptables`/`nf_call_ip6tables`)? nil: on — the default once the module is loaded
    /// (Docker, kubeadm and firewalld load it; the verify kernel has it built in). Off, a bridged
    /// frame meets no conntrack there and keeps the writer's socket as its owner
    /// (`setup_pre_routing()` is what orphans it), which a veth peer's GRO can see
    /// (`Elements/VethGRO.swift`).
    public var brNetfilter: Bool?
    /// A bridge in promiscuous mode (`ip link set dev BR promisc on`, which `tcpdump -i BR`
    /// without `-p` does): `br_handle_frame_finish()` sets `local_rcv` for every frame, so
    /// `br_forward()` sends out a clone (`deliver_clone()` → `skb_clone()`, no owner) and passes
    /// the original up. nil: off.
    public var promisc: Bool?

    public init(name: String, kind: NodeKind, kernel: KernelProfile? = nil, interfaces: [Interface] = [], features: Features = Features()) {
        self.name = name
        self.kind = kind
        self.kernel = kernel
        self.interfaces = interfaces
        self.features = features
    }

    public func interface(named n: String) -> Interface? { interfaces.first { $0.name == n } }
    public func interfaceIndex(named n: String) -> Int? { interfaces.firstIndex { $0.name == n } }

    /// Nodes that run a network stack of their own (sockets can live there).
    public var isHost: Bool {
        switch kind {
        case .vm, .netns, .router, .hostNIC: return true
        case .tap, .bridge, .veth, .vxlan: return false
        }
    }
}

public enum NodeKind: Sendable, Hashable {
    case vm(VMSettings)
    case netns(Netfilter)
    case tap(TapSettings)
    case bridge
    case veth
    case router(RouterSettings)
    case hostNIC(HostNICSettings)
    /// A VXLAN tunnel device placed as a namespace's interface (`Elements/Vxlan.swift`).
    case vxlan(VxlanSettings)

    public var name: String {
        switch self {
        case .vm: return "vm"
        case .netns: return "netns"
        case .tap: return "tap"
        case .bridge: return "bridge"
        case .veth: return "veth"
        case .router: return "router"
        case .hostNIC: return "host-nic"
        case let .vxlan(v): return v.geneve ? "geneve" : "vxlan"
        }
    }

    public static let allNames = ["vm", "netns", "tap", "bridge", "veth", "router", "host-nic", "vxlan", "geneve"]
}

/// What a virtio-net guest negotiated with its backend.
public struct VMSettings: Sendable, Hashable {
    /// `VIRTIO_NET_F_GUEST_CSUM`: the guest accepts `NEEDS_CSUM` frames; QEMU then sets
    /// `TUN_F_CSUM` on the TAP.
    public var guestCsum: Bool = true
    /// `VIRTIO_NET_F_GUEST_TSO4/6`: QEMU sets `TUN_F_TSO4/6`.
    public var guestTSO: Bool = true

    public init(guestCsum: Bool = true, guestTSO: Bool = true) {
        self.guestCsum = guestCsum
        self.guestTSO = guestTSO
    }
}

/// A TAP device: the host end of a VM NIC or of a userspace program's fd.
public struct TapSettings: Sendable, Hashable {
    /// Opened with `IFF_VNET_HDR`: a virtio_net_hdr travels with each frame.
    public var vnetHdr: Bool = true
    /// `TUNSETOFFLOAD` flags. Nil means "as QEMU sets them from the guest's negotiation"
    /// (`GUEST_CSUM` → `TUN_F_CSUM`, `GUEST_TSO4/6` → `TUN_F_TSO4/6`); a fd without a guest gets none.
    public var tunCsum: Bool?
    public var tunTSO4: Bool?
    public var tunTSO6: Bool?

    public init(vnetHdr: Bool = true, tunCsum: Bool? = nil, tunTSO4: Bool? = nil, tunTSO6: Bool? = nil) {
        self.vnetHdr = vnetHdr
        self.tunCsum = tunCsum
        self.tunTSO4 = tunTSO4
        self.tunTSO6 = tunTSO6
    }
}

/// A router and how it forwards.
public struct RouterSettings: Sendable, Hashable {
    public enum Flavour: String, Sendable, CaseIterable {
        /// Kernel forwarding in a network namespace (`ip_forward`).
        case netns
        /// A Linux router guest behind its own TAPs, forwarding in its kernel.
        case vm
        /// A userspace forwarder on AF_PACKET/pcap or a TAP fd (bmv2, Click, a custom router).
        case userspace
    }

    public enum Placement: String, Sendable, CaseIterable {
        case netns
        case vm
    }

    public enum Forwarding: String, Sendable, CaseIterable {
        /// Routes: rewrites MACs, decrements TTL, fixes the IPv4 header checksum.
        case l3
        /// Switches: copies frames unchanged.
        case l2
    }

    public var flavour: Flavour = .netns
    /// Where a userspace forwarder runs.
    public var placement: Placement = .netns
    /// A userspace forwarder that uses `PACKET_VNET_HDR` (or reads TAPs with vnet headers).
    public var vnetHdrAware: Bool = false
    public var forwarding: Forwarding = .l3
    /// Netfilter rules of the forwarding kernel (netns router or router VM).
    public var netfilter = Netfilter()
    /// For router VMs (and a userspace forwarder in a VM): what the guest negotiated.
    public var vm = VMSettings()

    public init() {}

    /// Does this router run a Linux guest kernel of its own?
    public var inVM: Bool { flavour == .vm || (flavour == .userspace && placement == .vm) }
}

/// Netfilter state of a kernel that forwards or sends: conntrack, NAT, the CHECKSUM target.
public struct Netfilter: Sendable, Hashable {
    public enum ChecksumFill: String, Sendable, CaseIterable {
        case off
        /// `iptables -t mangle -A POSTROUTING -p udp -j CHECKSUM --checksum-fill`
        case udp
        /// the same with `-p tcp` (6.x warns once: "CHECKSUM should be avoided")
        case tcp
        /// the same without `-p` (6.x warns once, as for tcp)
        case all
    }

    /// MASQUERADE on this interface (source NAT to its address).
    public var masqueradeOn: String?
    /// `net.netfilter.nf_conntrack_checksum` (default 1).
    public var conntrackChecksum: Bool = true
    /// A rule dropping `ct state invalid` in FORWARD.
    public var dropInvalid: Bool = false
    /// Load conntrack even without a rule that needs it.
    public var conntrack: Bool = false
    public var checksumFill: ChecksumFill = .off
    /// The CHECKSUM rule's `-o IF`: it matches only packets leaving this interface (nil: any).
    public var checksumFillOut: String?
    /// Which tables hold the CHECKSUM rule: `iptables`, `ip6tables` or both (xt_CHECKSUM is
    /// NFPROTO_UNSPEC on every profile, so both commands accept it).
    public var checksumFillFamily: ChecksumFillFamily = .ipv4

    public enum ChecksumFillFamily: String, Sendable, CaseIterable {
        case ipv4, ipv6, both

        public func covers(_ v: IPVersion) -> Bool {
            switch self {
            case .ipv4: return v == .v4
            case .ipv6: return v == .v6
            case .both: return true
            }
        }

        /// The commands that install the rule: `iptables`, `ip6tables`.
        public var commands: [String] {
            switch self {
            case .ipv4: return ["iptables"]
            case .ipv6: return ["ip6tables"]
            case .both: return ["iptables", "ip6tables"]
            }
        }
    }

    public init() {}

    /// The CHECKSUM rule's match arguments (`-p udp`, `-o eth1`) for `fill` and `out` (an
    /// interface name as the lab names it; `verify` passes the real device's).
    public static func checksumFillMatch(_ fill: ChecksumFill, out: String?) -> [String] {
        var m: [String] = []
        switch fill {
        case .udp, .tcp: m += ["-p", fill.rawValue]
        case .off, .all: break
        }
        if let out { m += ["-o", out] }
        return m
    }

    /// Conntrack runs when asked for or when a rule needs it.
    public var conntrackActive: Bool { conntrack || masqueradeOn != nil || dropInvalid }
}

/// A physical NIC with hardware checksum, and the remote host beyond its wire.
public struct HostNICSettings: Sendable, Hashable {
    /// The remote host's address (flows to and from it cross the wire).
    public var remoteAddress: IPAddress?
    public var remoteAddress6: IPAddress?
    /// Route from the remote host back into the lab: the next hop it sends to.
    public var remoteGateway: IPAddress?
    public var remoteGateway6: IPAddress?

    public init() {}
}

/// An interface: a VM NIC, an L3 interface of a namespace/router, or a veth end.
public struct Interface: Sendable, Hashable {
    public var name: String
    public var addresses: [IPNetwork]
    public var gateway: IPAddress?
    public var gateway6: IPAddress?
    public var features: Features
    /// The device's MTU (`ip link set dev X mtu N`); nil: 1500, or the MTU set on the device
    /// the interface is placed at (a veth end's, a TAP's).
    public var mtu: Int?

    public init(name: String, addresses: [IPNetwork] = [], gateway: IPAddress? = nil, gateway6: IPAddress? = nil, features: Features = Features(),
                mtu: Int? = nil) {
        self.name = name
        self.addresses = addresses
        self.gateway = gateway
        self.gateway6 = gateway6
        self.features = features
        self.mtu = mtu
    }

    public func address(_ v: IPVersion) -> IPNetwork? { addresses.first { $0.address.version == v } }
}

/// An address with its prefix length (`10.0.1.2/24`).
public struct IPNetwork: Sendable, Hashable, CustomStringConvertible {
    public var address: IPAddress
    public var prefix: Int

    public init(address: IPAddress, prefix: Int) {
        self.address = address
        self.prefix = prefix
    }

    public init?(_ text: String) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count <= 2, let a = IPAddress(String(parts[0])) else { return nil }
        let maxPrefix = a.version == .v4 ? 32 : 128
        if parts.count == 2 {
            guard let p = Int(parts[1]), (0...maxPrefix).contains(p) else { return nil }
            prefix = p
        } else {
            prefix = maxPrefix
        }
        address = a
    }

    public func contains(_ a: IPAddress) -> Bool { a.isIn(address, prefix: prefix) }

    public var description: String { "\(address)/\(prefix)" }
}

/// A link between two endpoints, each `node` or `node:interface`.
public struct Link: Sendable, Hashable {
    public var a: Endpoint
    public var b: Endpoint

    public init(_ a: Endpoint, _ b: Endpoint) {
        self.a = a
        self.b = b
    }
}

public struct Endpoint: Sendable, Hashable, CustomStringConvertible {
    public var node: String
    public var interface: String?

    public init(node: String, interface: String? = nil) {
        self.node = node
        self.interface = interface
    }

    /// Parse `node` or `node:interface`.
    public init?(_ text: String) {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard (1...2).contains(parts.count), !parts[0].isEmpty else { return nil }
        node = String(parts[0])
        interface = parts.count == 2 ? String(parts[1]) : nil
        if interface?.isEmpty == true { return nil }
    }

    public var description: String { interface.map { "\(node):\($0)" } ?? node }
}
