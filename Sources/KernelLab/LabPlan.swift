import Simulation
import Wire

/// How any topology the model accepts maps onto the real kernel: which namespace each device lives
/// in, its real name and MAC, addresses, routes, static neighbours, netfilter rules, and the
/// csumlab helpers that stand in for VMs and userspace routers. Pure: computing a plan touches
/// nothing; `VerifyLab` carries it out.
///
/// Namespaces: `hub` holds bridges, TAPs and host-side veth ends; every netns host and kernel
/// router gets one of its own; a host NIC is emulated by a veth pair whose far end lives in a
/// wire namespace (where the remote host's frames are written). Namespaces and devices have
/// generated names (`KernelNames`); the file's names stay for display (`RealDevice.simName`).
public struct LabPlan: Sendable {
    public static let hub = KernelNames.hub

    public struct Namespace: Sendable, Equatable {
        public var role: String
        public var ipv6: Bool
        /// The node this namespace is (nil for the hub and wires).
        public var node: String?
    }

    /// A real device: where it lives, its name there and its MAC.
    public struct RealDevice: Sendable, Equatable {
        public var graphID: Int
        public var simName: String
        public var role: String
        public var name: String
        public var mac: String
    }

    public struct Command: Sendable, Equatable {
        public var role: String
        public var argv: [String]
    }

    public struct Sysctl: Sendable, Equatable {
        public var role: String
        public var key: String
        public var value: String
    }

    /// A userspace router or a router VM, stood in for by `UserspaceRouter` in one helper.
    public struct Router: Sendable, Equatable {
        public struct Port: Sendable, Equatable {
            public var name: String
            /// `tap` (the helper holds the TAP fd) or `packet` (AF_PACKET socket on the device).
            public var kind: String
            public var vnetHeader: Bool
            public var mac: String
        }

        public struct Route: Sendable, Equatable {
            public var destination: IPAddress
            public var port: String
            public var nextHopMAC: String
        }

        public var node: String
        public var role: String
        public var mode: UserspaceRouter.Mode
        public var header: UserspaceRouter.HeaderMode
        public var ports: [Port]
        public var routes: [Route]
    }

    public let graph: LabGraph
    /// The kernel's names for this lab's namespaces and devices.
    public let names: KernelNames
    public private(set) var namespaces: [Namespace] = []
    /// By graph device id (virtio NICs have none).
    public private(set) var devices: [Int: RealDevice] = [:]
    /// Host NIC (graph id) → the wire end (namespace role, name).
    public private(set) var wires: [Int: RealDevice] = [:]
    public private(set) var addresses: [Command] = []
    public private(set) var routes: [Command] = []
    public private(set) var neighbours: [Command] = []
    public private(set) var netfilter: [Command] = []
    public private(set) var sysctls: [Sysctl] = []
    public private(set) var conntrackSysctls: [Sysctl] = []
    public private(set) var routers: [Router] = []
    /// Nodes the real lab cannot reproduce faithfully, with why; legs through them are not checkable.
    public private(set) var unsupported: [String: String] = [:]
    /// Things a reader of the results must know about how the lab differs from the file.
    public private(set) var notes: [String] = []

    public init(_ t: Topology) {
        graph = LabGraph(t)
        names = KernelNames(graph)
        place()
        configureHosts()
        configureRouters()
        configureTunnels()
    }

    /// A vxlan node's `outer-masquerade`: kube-proxy's rule in the device's namespace.
    private mutating func configureTunnels() {
        for d in graph.devices {
            guard case let .vxlan(v) = d.kind, v.outerMasquerade, let real = devices[d.id] else { continue }
            netfilter.append(Command(role: real.role, argv: [v.overIPv6 ? "ip6tables" : "iptables", "-t", "nat", "-A", "POSTROUTING", "-p", "udp", "--dport", "\(v.dstPort)",
                                                             "-j", "MASQUERADE", "--random-fully"]))
            notes.append("\(d.name): the outer MASQUERADE picks a random source port; the outer checksum is compared as a class (0, valid, valid once the inner is completed, wrong), the inner packet byte for byte.")
        }
    }

    public var topology: Topology { graph.topology }
    /// br_netfilter is loaded on the host the lab is built on (`Host.brNetfilterLoaded`; verify
    /// sets it). Without it the plan writes no br_netfilter sysctl (`bridgeNetfilterSteps`), and
    /// verify compares every bridge as `br-netfilter: off` (`VerifyRunner.withoutBrNetfilter`).
    public var brNetfilterLoaded = true

    static func macText(_ b: [UInt8]) -> String { MAC.format(b) }

    /// The namespace a kernel host node gets, if it gets one.
    public func hostRole(_ ni: Int) -> String? {
        switch topology.nodes[ni].kind {
        case .netns: return names.nodeNamespaces[ni]
        case let .router(r):
            switch (r.flavour, r.placement) {
            case (.netns, _), (.userspace, .netns): return names.nodeNamespaces[ni]
            case (.vm, _), (.userspace, .vm): return nil
            }
        case .vm, .tap, .bridge, .veth, .hostNIC, .vxlan: return nil
        }
    }

    /// The namespace of the node named `node`, if it has one (for tests and the report).
    public func hostRole(named node: String) -> String? {
        topology.nodeIndex(named: node).flatMap(hostRole)
    }

    /// The file's name for the real device `name` in namespace `role`, for the report.
    public func shown(role: String, device name: String) -> String {
        if let d = devices.values.first(where: { $0.role == role && $0.name == name }) { return d.simName }
        if let w = wires.values.first(where: { $0.role == role && $0.name == name }) { return w.simName }
        return name
    }

    // MARK: Placement

    private mutating func place() {
        let g = graph
        // Devices joined as bridge ports share a namespace: union them.
        var group = Array(g.devices.indices)
        func find(_ x: Int) -> Int { var x = x; while group[x] != x { x = group[x] }; return x }
        for d in g.devices { if let m = d.master { group[find(d.id)] = find(m) } }
        var anchor: [Int: String] = [:]
        for d in g.devices where d.kind != .virtio {
            var want: String?
            if let r = d.l3 { want = hostRole(r.node) }
            if let r = d.packetSocket { want = hostRole(r.node) }
            guard let w = want else { continue }
            let root = find(d.id)
            if let have = anchor[root], have != w {
                unsupported[topology.nodes[d.node].name] = "\(d.name) would have to live in two namespaces (\(have), \(w))"
                continue
            }
            anchor[root] = w
        }
        var roles: [String] = [Self.hub]
        var nodeOfRole: [String: Int] = [:]
        for d in g.devices where d.kind != .virtio {
            // A tunnel device inside a VM is the guest's: the lab has no guest kernel, so it is
            // not created; the encapsulated frames are written into the VM's TAP as modelled.
            if case .vxlan = d.kind, let home = g.tunnelNode(d.id), case .vm = topology.nodes[home].kind {
                notes.append("\(d.name) lives inside \(topology.nodes[home].name): the guest's encapsulation and segmentation are the model's (written into its TAP); the host side is compared.")
                continue
            }
            let role = anchor[find(d.id)] ?? Self.hub
            if !roles.contains(role) { roles.append(role) }
            let name = names.devices[d.id]
            // A TAP read by a userspace router: frames for the router carry the simulator's MAC of
            // the TAP, which must not be the host-side device's own (a bridge would keep such
            // frames as local instead of forwarding them to the port).
            var mac = d.mac
            if d.fdUserspace != nil { mac[0] = 0x06 }
            devices[d.id] = RealDevice(graphID: d.id, simName: d.name, role: role, name: name, mac: Self.macText(mac))
            if d.kind == .hostNIC {
                let w = names.wireNamespaces[d.node]
                roles.append(w)
                wires[d.id] = RealDevice(graphID: d.id, simName: "\(d.name)-wire", role: w, name: KernelNames.wireDevice, mac: "02:ee:00:00:00:01")
                notes.append("\(d.name) is emulated by a veth pair: the remote host writes into its far end (\(w)); rx-checksumming is emulated by GRO validation on the near end.")
            }
        }
        // Every kernel host gets its namespace even if no device is placed in it.
        for ni in topology.nodes.indices {
            guard let r = hostRole(ni) else { continue }
            nodeOfRole[r] = ni
            if !roles.contains(r) { roles.append(r) }
        }
        for r in roles {
            let node = nodeOfRole[r].map { topology.nodes[$0] }
            let v6 = node.map { n in n.interfaces.contains { $0.addresses.contains { $0.address.version == .v6 } } } ?? false
            namespaces.append(Namespace(role: r, ipv6: v6, node: node?.name))
        }
    }

    // MARK: Hosts: addresses, routes, neighbours, netfilter

    private mutating func configureHosts() {
        let g = graph
        for (ni, n) in topology.nodes.enumerated() {
            guard let role = hostRole(ni) else { continue }
            let isUserspace: Bool
            if case let .router(r) = n.kind, r.flavour == .userspace { isUserspace = true } else { isUserspace = false }
            if isUserspace { continue }
            var defaults: Set<IPVersion> = []
            for (ii, i) in n.interfaces.enumerated() {
                guard let d = g.deviceOf(LabGraph.Ref(node: ni, iface: ii)), let real = devices[d] else {
                    unsupported[n.name] = "interface \(i.name) has no device"
                    continue
                }
                for a in i.addresses {
                    addresses.append(Command(role: role, argv: (a.address.version == .v6 ? ["-6"] : []) + ["addr", "add", a.description, "dev", real.name]
                        + (a.address.version == .v6 ? ["nodad"] : [])))
                }
                for (gw, v) in [(i.gateway, IPVersion.v4), (i.gateway6, IPVersion.v6)] {
                    guard let gw, !defaults.contains(v), i.addresses.contains(where: { $0.contains(gw) }) else { continue }
                    defaults.insert(v)
                    routes.append(Command(role: role, argv: (v == .v6 ? ["-6"] : []) + ["route", "replace", "default", "via", gw.description, "dev", real.name]))
                }
                for a in g.allAddresses where i.addresses.contains(where: { $0.contains(a) && $0.address != a }) {
                    if let o = g.owner(of: a), o.node == ni { continue }
                    guard let t = g.targetDevice(for: a) else { continue }
                    neighbours.append(Command(role: role, argv: ["neigh", "replace", a.description, "lladdr", Self.macText(g.devices[t].mac),
                                                                 "dev", real.name, "nud", "permanent"]))
                }
            }
            let nf: Netfilter
            switch n.kind {
            case let .netns(f):
                nf = f
                netfilter.append(Command(role: role, argv: ["nft", Self.quietStack]))
                if f.conntrackActive {
                    unsupported[n.name] = "conntrack/NAT on a netns host is not modelled by the simulator"
                }
            case let .router(r):
                nf = r.netfilter
                sysctls.append(Sysctl(role: role, key: "net.ipv4.ip_forward", value: "1"))
                if namespaces.first(where: { $0.role == role })?.ipv6 == true {
                    sysctls.append(Sysctl(role: role, key: "net.ipv6.conf.all.forwarding", value: "1"))
                }
            case .vm, .tap, .bridge, .veth, .hostNIC, .vxlan:
                continue
            }
            addTCPSysctls(n, role: role)
            addNetfilter(nf, role: role, node: ni)
        }
    }

    /// Every leg is injected, so a netns host's own stack must not answer what it receives: a RST
    /// for a SYN to a closed port (or an ICMP unreachable for a datagram) would move a router's
    /// conntrack entry on (CLOSE), and the next injected leg would be INVALID where the simulation
    /// traced the handshake it was given. Injections bypass OUTPUT (AF_PACKET) or are UDP.
    static let quietStack = "add table inet csumlab_quiet; add chain inet csumlab_quiet csl_out { type filter hook output priority filter; }; "
        + "add rule inet csumlab_quiet csl_out tcp flags & rst == rst counter drop; "
        + "add rule inet csumlab_quiet csl_out icmp type destination-unreachable counter drop; "
        + "add rule inet csumlab_quiet csl_out icmpv6 type destination-unreachable counter drop"

    /// A host's TCP option settings as the namespace's sysctls (only those the file sets). The
    /// compared TCP frames are injected as the simulation built them; the sysctls make the
    /// namespace's own stack (and the lab script a user runs) offer the same options.
    private mutating func addTCPSysctls(_ n: Node, role: String) {
        for (key, value) in [("net.ipv4.tcp_timestamps", n.tcp.timestamps), ("net.ipv4.tcp_sack", n.tcp.sack),
                             ("net.ipv4.tcp_window_scaling", n.tcp.windowScaling)] {
            if let value { sysctls.append(Sysctl(role: role, key: key, value: value ? "1" : "0")) }
        }
        if n.tcp.mss != nil {
            notes.append("\(n.name): mss is a per-socket TCP_MAXSEG; the lab injects the simulation's segments, which follow it")
        }
    }

    private mutating func addNetfilter(_ nf: Netfilter, role: String, node ni: Int) {
        let n = topology.nodes[ni]
        var isRouter = false
        if case .router = n.kind { isRouter = true }
        if isRouter && nf.conntrackActive {
            var script = "add table inet csumlab; add chain inet csumlab csl_forward { type filter hook forward priority filter; }; "
            script += nf.dropInvalid ? "add rule inet csumlab csl_forward ct state invalid counter drop" : "add rule inet csumlab csl_forward ct state new counter"
            netfilter.append(Command(role: role, argv: ["nft", script]))
            conntrackSysctls.append(Sysctl(role: role, key: "net.netfilter.nf_conntrack_checksum", value: nf.conntrackChecksum ? "1" : "0"))
            // The simulated legs are independent (a reply acknowledges data even when the leg
            // carrying it was dropped); conntrack's TCP window tracking, which the model leaves
            // out, would mark such a segment INVALID. Liberal tracking keeps checksums the only
            // reason for INVALID, as in the model.
            conntrackSysctls.append(Sysctl(role: role, key: "net.netfilter.nf_conntrack_tcp_be_liberal", value: "1"))
            notes.append("\(n.name): net.netfilter.nf_conntrack_tcp_be_liberal=1 (the model has no TCP window tracking, and a leg after a dropped one acknowledges data conntrack never saw)")
        }
        if isRouter, let m = nf.masqueradeOn, let ii = n.interfaceIndex(named: m),
           let d = graph.deviceOf(LabGraph.Ref(node: ni, iface: ii)), let real = devices[d] {
            // One table per family the egress interface has an address of: the model
            // masquerades IPv4 and IPv6 alike (nf_nat_masquerade_ipv4/ipv6).
            for fam in ["ip", "ip6"] where n.interfaces[ii].address(fam == "ip" ? .v4 : .v6) != nil {
                netfilter.append(Command(role: role, argv: ["nft", "add table \(fam) csumlab_nat; add chain \(fam) csumlab_nat csl_post { type nat hook postrouting priority srcnat; }; add rule \(fam) csumlab_nat csl_post oifname \(real.name) masquerade"]))
            }
        }
        if nf.checksumFill != .off {
            // `-o IF` names the real device the lab's interface became (an unlinked interface has
            // none: nothing leaves it, and the lab name matches nothing, as in the model).
            let out = nf.checksumFillOut.map { o in
                n.interfaceIndex(named: o).flatMap { graph.deviceOf(LabGraph.Ref(node: ni, iface: $0)) }.flatMap { devices[$0]?.name } ?? o
            }
            for command in nf.checksumFillFamily.commands {
                netfilter.append(Command(role: role, argv: [command, "-t", "mangle", "-A", "POSTROUTING"]
                                         + Netfilter.checksumFillMatch(nf.checksumFill, out: out) + ["-j", "CHECKSUM", "--checksum-fill"]))
            }
        }
    }

    // MARK: Userspace routers and router VMs

    private mutating func configureRouters() {
        let g = graph
        for (ni, n) in topology.nodes.enumerated() {
            guard case let .router(r) = n.kind else { continue }
            let mode: UserspaceRouter.Mode = r.forwarding == .l2 ? .l2 : .l3
            let header: UserspaceRouter.HeaderMode
            switch r.flavour {
            case .netns:
                continue
            case .vm:
                header = .guest
                if !r.netfilter.conntrackActive && r.netfilter.checksumFill == .off && n.interfaces.allSatisfy({ $0.features.requested.isEmpty }) && r.forwarding == .l3 {
                    break
                }
                unsupported[n.name] = "the router VM stand-in forwards like a default Linux guest; netfilter rules, offload changes or l2 forwarding inside it are not reproduced"
                continue
            case .userspace:
                if r.placement == .vm {
                    unsupported[n.name] = "a userspace router inside a VM has no stand-in"
                    continue
                }
                header = r.vnetHdrAware ? .keep : .drop
            }
            var ports: [Router.Port] = []
            var role: String?
            var ok = true
            for ii in n.interfaces.indices {
                guard let (port, portRole) = routerPort(ni, ii, r) else { ok = false; break }
                if let have = role, have != portRole {
                    unsupported[n.name] = "its ports live in different namespaces (\(have), \(portRole)); one helper cannot hold them"
                    ok = false
                    break
                }
                role = portRole
                ports.append(port)
            }
            guard ok, let role else {
                if unsupported[n.name] == nil { unsupported[n.name] = "an interface has no device the lab can attach to" }
                continue
            }
            var rts: [Router.Route] = []
            if mode == .l3 {
                for a in g.allAddresses {
                    if let o = g.owner(of: a), o.node == ni { continue }
                    guard let (oif, nh) = g.route(from: ni, to: a), let t = g.targetDevice(for: nh) else { continue }
                    rts.append(Router.Route(destination: a, port: ports[oif].name, nextHopMAC: Self.macText(g.devices[t].mac)))
                }
            }
            routers.append(Router(node: n.name, role: role, mode: mode, header: header, ports: ports, routes: rts))
        }
    }

    /// A router's port on interface `ii`: the TAP a router VM's NIC uses, the TAP fd or the
    /// AF_PACKET socket of a userspace router; with the namespace it lives in.
    private func routerPort(_ ni: Int, _ ii: Int, _ r: RouterSettings) -> (Router.Port, String)? {
        let g = graph
        guard let d = g.deviceOf(LabGraph.Ref(node: ni, iface: ii)) else { return nil }
        let dev = g.devices[d]
        switch (dev.kind, r.flavour) {
        case (.virtio, .vm):
            guard let t = dev.peer, let real = devices[t], case let .tap(ts) = g.devices[t].kind else { return nil }
            return (Router.Port(name: real.name, kind: "tap", vnetHeader: ts.vnetHdr, mac: Self.macText(dev.mac)), real.role)
        case (.tap(let ts), .userspace):
            guard let real = devices[d] else { return nil }
            return (Router.Port(name: real.name, kind: "tap", vnetHeader: ts.vnetHdr, mac: Self.macText(dev.mac)), real.role)
        case (.vethEnd, .userspace), (.bridge, .userspace), (.hostNIC, .userspace):
            guard let real = devices[d] else { return nil }
            return (Router.Port(name: real.name, kind: "packet", vnetHeader: r.vnetHdrAware, mac: real.mac), real.role)
        case (.virtio, .netns), (.virtio, .userspace), (.tap, .vm), (.tap, .netns), (.bridge, .vm), (.bridge, .netns),
             (.vethEnd, .vm), (.vethEnd, .netns), (.hostNIC, .vm), (.hostNIC, .netns), (.vxlan, _):
            return nil
        }
    }

    // MARK: Queries the runner needs

    /// The namespace a TAP, bridge or veth end lives in, by the simulator's device name.
    public func real(_ simName: String) -> RealDevice? {
        guard let d = graph.device(named: simName) else { return nil }
        return devices[d]
    }

    /// The TAPs whose fds a VM's NICs use.
    public func taps(ofVM node: String) -> [RealDevice] {
        graph.devices.filter { $0.kind == .virtio && graph.topology.nodes[$0.node].name == node }
            .compactMap { $0.peer }.compactMap { devices[$0] }
    }

    /// A kernel host's interface devices.
    public func interfaces(ofHost node: String) -> [RealDevice] {
        guard let ni = topology.nodeIndex(named: node) else { return [] }
        return topology.nodes[ni].interfaces.indices.compactMap { graph.deviceOf(LabGraph.Ref(node: ni, iface: $0)) }.compactMap { devices[$0] }
    }
}
