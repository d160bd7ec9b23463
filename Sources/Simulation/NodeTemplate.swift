import Wire

/// A new node of every kind the format has, with the defaults of the shipped labs: what the
/// explorer's "add node" menu offers.
///
/// No template gives an address: a vm, netns or router starts with unaddressed interfaces (`eth0`,
/// or `eth0` and `eth1` for a router) for the user to address (`Topology.freeSubnet()` and
/// `freeAddress(in:)` suggest free ones). A veth pair `N` has the ends `N` and `N-r`, as the seed
/// labs name theirs (`vethA`, `vethA-r`). A host-nic gets a remote host in TEST-NET-2
/// (198.51.100.7, as `veth-pre44-corruption` has), the next free one if that is taken. Every
/// template on its own passes `TopologyFile.validate`.
public enum NodeTemplate: String, Sendable, Hashable, CaseIterable {
    case vm
    case netns
    case tap
    case bridge
    case veth
    /// A router namespace with `ip_forward` (flavour netns).
    case router
    /// A Linux router guest behind TAPs (flavour vm).
    case routerVM = "router-vm"
    /// A userspace forwarder in a namespace (AF_PACKET, no vnet header).
    case routerUserspace = "router-userspace"
    /// A userspace forwarder in a VM.
    case routerUserspaceVM = "router-userspace-vm"
    case hostNIC = "host-nic"
    /// A VXLAN device (VNI 1, port 4789): link it to a namespace interface, then set `local`,
    /// `remote` and `underlay`.
    case vxlan
    /// A GENEVE device (VNI 1, port 6081), placed like a vxlan.
    case geneve

    /// The template for a kind name of the format (`NodeKind.allNames`) and, for a router, its
    /// `flavour` and `place` values (defaults netns, netns).
    public init?(kind: String, flavour: String? = nil, place: String? = nil) {
        switch kind {
        case "vm": self = .vm
        case "netns": self = .netns
        case "tap": self = .tap
        case "bridge": self = .bridge
        case "veth": self = .veth
        case "host-nic": self = .hostNIC
        case "vxlan": self = .vxlan
        case "geneve": self = .geneve
        case "router":
            switch (flavour ?? "netns", place ?? "netns") {
            case ("netns", _): self = .router
            case ("vm", _): self = .routerVM
            case ("userspace", "netns"): self = .routerUserspace
            case ("userspace", "vm"): self = .routerUserspaceVM
            default: return nil
            }
        default: return nil
        }
    }

    /// What a menu shows: "router (userspace in a vm)".
    public var label: String { node(named: "x").kindLabel }

    /// The stem of a free name: `vm` gives vm1, vm2…
    public var namePrefix: String {
        switch self {
        case .vm: return "vm"
        case .netns: return "ns"
        case .tap: return "tap"
        case .bridge: return "br"
        case .veth: return "veth"
        case .router, .routerVM, .routerUserspace, .routerUserspaceVM: return "router"
        case .hostNIC: return "nic"
        case .vxlan: return "vx"
        case .geneve: return "gnv"
        }
    }

    /// Name suffixes the node takes besides its name (a veth's second end).
    var extraNames: [String] { self == .veth ? ["-r"] : [] }

    /// The node, named `name`. A host-nic's remote host is `remote`.
    public func node(named name: String, remote: IPAddress = NodeTemplate.defaultRemote) -> Node {
        func router(_ flavour: RouterSettings.Flavour, _ place: RouterSettings.Placement) -> Node {
            var r = RouterSettings()
            r.flavour = flavour
            r.placement = place
            return Node(name: name, kind: .router(r), interfaces: [Interface(name: "eth0"), Interface(name: "eth1")])
        }
        switch self {
        case .vm: return Node(name: name, kind: .vm(VMSettings()), interfaces: [Interface(name: "eth0")])
        case .netns: return Node(name: name, kind: .netns(Netfilter()), interfaces: [Interface(name: "eth0")])
        case .tap: return Node(name: name, kind: .tap(TapSettings()), interfaces: [Interface(name: name)])
        case .bridge: return Node(name: name, kind: .bridge, interfaces: [Interface(name: name)])
        case .veth: return Node(name: name, kind: .veth, interfaces: [Interface(name: name), Interface(name: name + "-r")])
        case .router: return router(.netns, .netns)
        case .routerVM: return router(.vm, .netns)
        case .routerUserspace: return router(.userspace, .netns)
        case .routerUserspaceVM: return router(.userspace, .vm)
        case .vxlan: return Node(name: name, kind: .vxlan(VxlanSettings()), interfaces: [Interface(name: name)])
        case .geneve: return Node(name: name, kind: .vxlan(VxlanSettings(geneve: true)), interfaces: [Interface(name: name)])
        case .hostNIC:
            var h = HostNICSettings()
            h.remoteAddress = remote
            return Node(name: name, kind: .hostNIC(h), interfaces: [Interface(name: name)])
        }
    }

    /// 198.51.100.7 (TEST-NET-2), the remote host of the shipped host-nic lab.
    public static let defaultRemote = IPAddress(bytes: [198, 51, 100, 7])
}

extension Topology {
    /// A node from `template` that fits this lab: a free name (`freeName`, both ends of a veth
    /// free too), and for a host-nic a remote address the lab does not use yet.
    public func newNode(_ template: NodeTemplate) -> Node {
        let name = freeName(template.namePrefix, alsoFree: template.extraNames)
        var remote = NodeTemplate.defaultRemote
        if template == .hostNIC {
            let used = usedAddresses
            var last = remote.bytes[3]
            while used.contains(remote), last < 254 {
                last += 1
                remote = IPAddress(bytes: [198, 51, 100, last])
            }
        }
        return template.node(named: name, remote: remote)
    }
}
