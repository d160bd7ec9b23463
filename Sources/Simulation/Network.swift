import Wire

/// The topology resolved into netdevs and their connections: what the engine walks, and what
/// `csumlab verify` builds on the real kernel (same devices, same order, same MAC addresses), so
/// there is one resolution, never two that could drift apart. Built once per simulation run from
/// a topology that passed validation.
public struct Network: Sendable {
    public enum DeviceKind: Sendable, Hashable {
        /// A guest's virtio-net NIC (in a VM, a router VM or a VM running a userspace forwarder).
        case virtio
        case tap(TapSettings)
        case bridge
        case vethEnd
        case hostNIC
        case vxlan(VxlanSettings)
    }

    /// Who reads and writes a TAP's file descriptor.
    public enum FDSide: Sendable, Hashable {
        case vm(device: Int)
        case userspace(node: Int, iface: Int)
    }

    /// An interface of a host node (by index).
    public struct L3Ref: Sendable, Hashable {
        public var node: Int
        public var iface: Int

        public init(node: Int, iface: Int) {
            self.node = node
            self.iface = iface
        }
    }

    public struct Device: Sendable {
        public var id: Int
        /// The name traces use (`tap1`, `vethA-r`, `vm1:eth0`).
        public var name: String
        /// The interface label at its node: the name after its node's `:` (`eth0` for
        /// `vm1:eth0`), else the name; worked out once, steps name it at every hop.
        public var label: String
        public var node: Int
        /// The node's interface index for per-interface devices (VM NICs, veth ends).
        public var iface: Int?
        public var kind: DeviceKind
        public var mac: [UInt8]
        public var features: Features.Effective
        /// The L3 interface this device is (a namespace's or guest's interface).
        public var l3: L3Ref?
        /// A userspace forwarder's AF_PACKET socket bound here.
        public var packetSocket: L3Ref?
        /// Bridge this device is a port of.
        public var master: Int?
        /// Bridge ports (for a bridge).
        public var ports: [Int] = []
        /// The other end: veth peer, a virtio NIC's TAP.
        public var peer: Int?
        /// A TAP's file descriptor side.
        public var fdSide: FDSide?
        /// The profile of the kernel this device lives in.
        public var profile: KernelProfile
        /// The device's MTU (`dev->mtu`): set in the file, else 1500; a bridge's follows its
        /// smallest port unless set (`br_mtu_auto_adjust()`).
        public var mtu: Int = MTURule.defaultMTU
        /// A VXLAN device's far endpoint: the vxlan device whose local/remote are this one's
        /// remote/local, with the same VNI and port (the tunnel drawn as a link).
        public var tunnelPeer: Int?

        /// A TAP whose fd a guest NIC uses: that NIC's device id.
        public var fdVM: Int? {
            if case let .vm(v)? = fdSide { return v }
            return nil
        }

        /// A TAP whose fd a userspace forwarder reads: the forwarder's interface.
        public var fdUserspace: L3Ref? {
            if case let .userspace(n, i)? = fdSide { return L3Ref(node: n, iface: i) }
            return nil
        }
    }

    public private(set) var topology: Topology
    public private(set) var devices: [Device] = []
    /// For each node, for each interface index, the device that carries it.
    public private(set) var interfaceDevice: [[Int?]]
    /// Links that could not be resolved (a validated topology has none).
    public private(set) var warnings: [String] = []

    /// `topology.nodeIndexesByName()`, built once: links and flows name their nodes.
    private let nodeIndexByName: NodeNameIndex
    /// `owner(of:)` for every address, built once: routing asks at every hop of every flow.
    private let ownerByAddress: [IPAddress: L3Ref]
    /// Layer-2 connectivity, built once: `l2Reaches` and `reaches(_:target:avoiding:)` answer
    /// from it in constant time instead of walking the network per question (a bridge asks at
    /// every hop of every leg, which made a chain of bridges quadratic). Nil when the
    /// neighbour relation is not symmetric (only in a lab the validator refuses): then both walk.
    private var l2Index: L2Index?

    public init(_ t: Topology) {
        topology = t
        nodeIndexByName = NodeNameIndex(t)
        var owners: [IPAddress: L3Ref] = [:]
        // Nodes read by index here and below: `enumerated()` copies each node (a retain per field).
        for ni in t.nodes.indices where t.nodes[ni].isHost {
            for ii in t.nodes[ni].interfaces.indices {
                for a in t.nodes[ni].interfaces[ii].addresses where owners[a.address] == nil { owners[a.address] = L3Ref(node: ni, iface: ii) }
            }
        }
        ownerByAddress = owners
        interfaceDevice = t.nodes.map { [Int?](repeating: nil, count: max($0.interfaces.count, 1)) }
        // 1. Devices.
        let tunnelEnds = Self.tunnelInterfaces(t)
        for ni in t.nodes.indices {
            var n: Node { _read { yield t.nodes[ni] } }
            switch n.kind {
            case .vm:
                // An interface linked to a vxlan node is that tunnel device inside the guest, not a NIC.
                for ii in n.interfaces.indices where !tunnelEnds.contains(Endpoint(node: n.name, interface: n.interfaces[ii].name)) {
                    addDevice(node: ni, iface: ii, name: n.name + ":" + n.interfaces[ii].name, kind: .virtio)
                }
            case let .router(r) where r.inVM:
                for ii in n.interfaces.indices { addDevice(node: ni, iface: ii, name: n.name + ":" + n.interfaces[ii].name, kind: .virtio) }
            case let .tap(s):
                addDevice(node: ni, iface: nil, name: n.name, kind: .tap(s))
            case .bridge:
                addDevice(node: ni, iface: nil, name: n.name, kind: .bridge)
            case .hostNIC:
                addDevice(node: ni, iface: nil, name: n.name, kind: .hostNIC)
            case let .vxlan(v):
                addDevice(node: ni, iface: nil, name: n.name, kind: .vxlan(v))
            case .veth:
                let a = addDevice(node: ni, iface: 0, name: n.interfaces.first?.name ?? "\(n.name)a", kind: .vethEnd)
                let b = addDevice(node: ni, iface: 1, name: n.interfaces.dropFirst().first?.name ?? "\(n.name)b", kind: .vethEnd)
                devices[a].peer = b
                devices[b].peer = a
            case .netns, .router:
                break
            }
        }
        // 2. Links.
        for l in t.links { connect(l) }
        // 3.–4. Features (need the connections: a virtio NIC's capabilities depend on its TAP).
        resolveFeatures()
        // MTUs (need the placements: a namespace's interface may set its device's).
        for d in devices.indices where devices[d].kind != .bridge && !devices[d].isTunnel { devices[d].mtu = configuredMTU(d) ?? MTURule.defaultMTU }
        for d in devices.indices where devices[d].kind == .bridge {
            devices[d].mtu = configuredMTU(d) ?? devices[d].ports.map { devices[$0].mtu }.min() ?? MTURule.defaultMTU
        }
        // A tunnel device's MTU follows its underlay (vxlan_config_apply(), geneve_link_config()).
        for d in devices.indices where devices[d].isTunnel {
            let max = tunnelMaxMTU(d)
            devices[d].mtu = min(configuredMTU(d) ?? max ?? MTURule.defaultMTU, max ?? Int.max)
        }
        // Tunnels: each VXLAN device reaches its far endpoint (over the underlay).
        resolveTunnels()
        // 5. Layer-2 connectivity (needs the connections only).
        l2Index = L2Index(neighbours: devices.indices.map { l2Neighbours($0) })
    }

    /// Every link end whose other end is a vxlan node: the interfaces the tunnel devices are
    /// placed at (worked out once per network, not per interface; most labs have no tunnel).
    static func tunnelInterfaces(_ t: Topology) -> [Endpoint] {
        var tunnels: [String] = []
        for i in t.nodes.indices { if case .vxlan = t.nodes[i].kind { tunnels.append(t.nodes[i].name) } }
        guard !tunnels.isEmpty else { return [] }
        var ends: [Endpoint] = []
        for l in t.links {
            if tunnels.contains(l.b.node) { ends.append(l.a) }
            if tunnels.contains(l.a.node) { ends.append(l.b) }
        }
        return ends
    }

    /// `t` resolved reusing `base`'s devices and connections: `t` must differ from
    /// `base.topology` only in settings that change no device, link or address — ethtool
    /// features, TAP flags and vnet header, QEMU's guest offers, netfilter switches (what
    /// `FixSearch` changes apart from its structural keys). Each TAP takes its settings from `t`
    /// and every device's features are worked out again; nothing else is rebuilt.
    /// `FixSearchReuseTests` compares traces on such networks with traces on `Network(t)`.
    ///
    /// `touched`: the nodes whose settings differ (nil: any). Only their devices, the devices
    /// joined to those (a VM NIC and its TAP read each other's settings) and the bridges they
    /// are ports of (a bridge's features follow its ports) are worked out again.
    init(_ t: Topology, reusing base: Network, touched: [Int]? = nil) {
        self = base
        topology = t
        var redo: [Bool]
        if let touched {
            // By index: a closure over `devices` would copy each device (a retain per field).
            redo = [Bool](repeating: false, count: devices.count)
            for d in devices.indices where touched.contains(devices[d].node) { redo[d] = true }
            for d in devices.indices where redo[d] {
                if let p = devices[d].peer { redo[p] = true }
                if case let .vm(v)? = devices[d].fdSide { redo[v] = true }
            }
            for d in devices.indices where redo[d] { if let m = devices[d].master { redo[m] = true } }
        } else {
            redo = [Bool](repeating: true, count: devices.count)
        }
        for d in devices.indices where redo[d] {
            if case .tap = devices[d].kind, case let .tap(s) = t.nodes[devices[d].node].kind { devices[d].kind = .tap(s) }
            if case .vxlan = devices[d].kind, case let .vxlan(v) = t.nodes[devices[d].node].kind { devices[d].kind = .vxlan(v) }
        }
        resolveFeatures(only: redo)
    }

    /// Every device's effective features (step 3), then the bridges' (step 4); with `only`,
    /// just the devices marked there.
    private mutating func resolveFeatures(only: [Bool]? = nil) {
        // 3. Each device from its own settings and its connections.
        for d in devices.indices where only?[d] ?? true { devices[d].features = computeFeatures(d) }
        // 4. br_features_recompute(): of the features csumlab models, SG is "one for all" — the
        // bridge keeps it only if some port has it. TSO is one too, but netdev_add_tso_features()
        // adds it back, and GSO is not in NETIF_F_ONE_FOR_ALL; then netdev_fix_features() drops
        // TSO and GSO without SG (measured with verify: ports without TSO/GSO leave the bridge
        // both; a port without SG takes all three). The bridge's checksum feature stays its own.
        for b in devices.indices where (only?[b] ?? true) && devices[b].kind == .bridge && !devices[b].ports.isEmpty {
            guard devices[b].features.has(.scatterGather),
                  !devices[b].ports.contains(where: { devices[$0].features.has(.scatterGather) }) else { continue }
            devices[b].features.remove(.scatterGather)
            devices[b].features.adjustments.append(Features.Adjustment(
                feature: .scatterGather, reason: "br_features_recompute: no port of \(devices[b].name) has it"))
            for f in [Feature.tso, .gso] where devices[b].features.has(f) {
                devices[b].features.remove(f)
                devices[b].features.adjustments.append(Features.Adjustment(
                    feature: f, reason: "netdev_fix_features: \(f == .tso ? "TSO" : "NETIF_F_GSO") needs scatter-gather, which no port of \(devices[b].name) has"))
            }
        }
    }

    /// Each VXLAN device's far endpoint: the vxlan device whose local/remote are this one's
    /// remote/local, with the same VNI and port.
    private mutating func resolveTunnels() {
        for a in devices.indices {
            guard case let .vxlan(va) = devices[a].kind else { continue }
            devices[a].tunnelPeer = devices.indices.first { b in
                guard b != a, case let .vxlan(vb) = devices[b].kind else { return false }
                return vb.vni == va.vni && vb.dstPort == va.dstPort && vb.local != nil && vb.local == va.remote && vb.remote == va.local
            }
        }
    }

    @discardableResult
    private mutating func addDevice(node: Int, iface: Int?, name: String, kind: DeviceKind) -> Int {
        let id = devices.count
        let virtio = kind == .virtio
        let mac: [UInt8] = [virtio ? 0x52 : 0x02, virtio ? 0x54 : 0xcc, 0x00,
                            UInt8(node & 0xFF), UInt8((iface ?? 0xF0) & 0xFF), UInt8(id & 0xFF)]
        // The node's kernel read in place (`Topology.profile(of:)` takes a copy of the node).
        let profile = topology.nodes[node].kernel ?? topology.hostKernel
        let label = name.utf8.firstIndex(of: UInt8(ascii: ":")).map { String(name[name.utf8.index(after: $0)...]) } ?? name
        var d = Device(id: id, name: name, label: label, node: node, iface: iface, kind: kind, mac: mac,
                       features: Features.Effective(on: [], adjustments: [], fixedOff: [:]), profile: profile)
        if kind == .virtio, let i = iface { d.l3 = L3Ref(node: node, iface: i) }
        devices.append(d)
        if let i = iface { interfaceDevice[node][i] = id } else { interfaceDevice[node][0] = id }
        return id
    }

    /// The device an endpoint names (nil for a host's interface, which a device is placed at).
    public func device(for e: Endpoint) -> Int? {
        guard let ni = nodeIndexByName[e.node] else { return nil }
        // The node read in place, not copied (links are resolved once per device end).
        switch topology.nodes[ni].kind {
        case .tap, .bridge, .hostNIC, .vxlan:
            return interfaceDevice[ni][0]
        case .veth, .vm:
            guard let ifn = e.interface, let ii = topology.nodes[ni].interfaceIndex(named: ifn) else { return nil }
            return interfaceDevice[ni][ii]
        case let .router(r) where r.inVM:
            guard let ifn = e.interface, let ii = topology.nodes[ni].interfaceIndex(named: ifn) else { return nil }
            return interfaceDevice[ni][ii]
        case .netns, .router:
            return nil
        }
    }

    private mutating func connect(_ l: Link) {
        let da = device(for: l.a), db = device(for: l.b)
        switch (da, db) {
        case let (a?, b?):
            join(a, b)
        case let (a?, nil):
            place(a, at: l.b)
        case let (nil, b?):
            place(b, at: l.a)
        case (nil, nil):
            warnings.append("link \(l.a) – \(l.b) joins two interfaces of hosts without a device")
        }
    }

    /// Two devices joined: a bridge port, a VM NIC on its TAP.
    private mutating func join(_ a: Int, _ b: Int) {
        switch (devices[a].kind, devices[b].kind) {
        case (.bridge, _):
            devices[b].master = a
            devices[a].ports.append(b)
        case (_, .bridge):
            devices[a].master = b
            devices[b].ports.append(a)
        case (.virtio, .tap):
            devices[a].peer = b
            devices[b].fdSide = .vm(device: a)
        case (.tap, .virtio):
            devices[b].peer = a
            devices[a].fdSide = .vm(device: b)
        case (.virtio, .virtio), (.virtio, .vethEnd), (.virtio, .hostNIC), (.virtio, .vxlan), (.tap, .tap), (.tap, .vethEnd),
             (.tap, .hostNIC), (.tap, .vxlan), (.vethEnd, _), (.hostNIC, _), (.vxlan, _):
            warnings.append("\(devices[a].name) and \(devices[b].name) cannot be joined directly")
        }
    }

    /// A device placed as a host's interface (or under a userspace forwarder's socket).
    private mutating func place(_ d: Int, at e: Endpoint) {
        guard let ni = nodeIndexByName[e.node], let ifn = e.interface,
              let ii = topology.nodes[ni].interfaceIndex(named: ifn) else { return }
        let ref = L3Ref(node: ni, iface: ii)
        if case let .router(r) = topology.nodes[ni].kind, r.flavour == .userspace {
            if case .tap = devices[d].kind {
                devices[d].fdSide = .userspace(node: ni, iface: ii)
            } else {
                devices[d].packetSocket = ref
            }
        } else {
            devices[d].l3 = ref
            // A tunnel device inside a VM runs the guest's kernel.
            if case .vm = topology.nodes[ni].kind { devices[d].profile = topology.profile(of: topology.nodes[ni]) }
        }
        interfaceDevice[ni][ii] = d
    }

    // MARK: MTU

    /// The MTU the file sets on device `d`: its own node's or interface's `mtu`, else that of the
    /// host interface placed at it (a namespace's `eth0` on a veth end). Nil: not set.
    public func configuredMTU(_ d: Int) -> Int? {
        // The device and its node read in place, not copied (resolving a network asks for
        // every device).
        let ni = devices[d].node
        let own: Int?
        switch devices[d].kind {
        case .virtio, .vethEnd:
            own = devices[d].iface.flatMap { $0 < topology.nodes[ni].interfaces.count ? topology.nodes[ni].interfaces[$0].mtu : nil }
        case .tap, .bridge, .hostNIC, .vxlan:
            own = topology.nodes[ni].mtu
        }
        if let own { return own }
        if let r = devices[d].l3 ?? devices[d].packetSocket, r.iface < topology.nodes[r.node].interfaces.count {
            return topology.nodes[r.node].interfaces[r.iface].mtu
        }
        return nil
    }

    /// The underlay device a tunnel device's `underlay` names, if placed.
    public func tunnelUnderlay(_ d: Int) -> Int? {
        guard case let .vxlan(v) = devices[d].kind, let ref = devices[d].l3, let u = v.underlay,
              let ui = topology.nodes[ref.node].interfaceIndex(named: u) else { return nil }
        return deviceOf(node: ref.node, iface: ui)
    }

    /// The largest MTU a tunnel device takes, nil without an underlay: VXLAN's
    /// `vxlan_config_apply()`: `max_mtu = lowerdev->mtu - vxlan_headroom(flags)` (IPv4 20 + UDP 8
    /// + VXLAN 8 + inner Ethernet 14 = 50; IPv6 70), at least `ETH_MIN_MTU`; without `mtu` the
    /// device takes it. GENEVE's `geneve_link_config()` derives the same default from the route
    /// device (`GENEVE_IPV4_HLEN` 50, `GENEVE_IPV6_HLEN` 70); in the model the route device is the
    /// underlay.
    public func tunnelMaxMTU(_ d: Int) -> Int? {
        guard case let .vxlan(v) = devices[d].kind, let u = tunnelUnderlay(d) else { return nil }
        let headroom = v.overIPv6 ? Vxlan.outerHeaderLength6 : Vxlan.outerHeaderLength
        return Swift.max(MTURule.minimum, devices[u].mtu - headroom)
    }

    /// An `mtu` setting the kernel would refuse, or two that name one device.
    public struct MTUProblem: Sendable, Hashable {
        public var node: String
        /// The interface whose `mtu` (or address) is wrong; nil for a node-level `mtu`.
        public var interface: String?
        /// The setting to point at: `mtu` or `address`.
        public var key: String
        public var message: String
    }

    /// `mtu` settings that contradict each other (a host interface and the veth end or TAP it is
    /// placed at, both set and different) and IPv6 addresses on a device below 1280
    /// (`ipv6_add_dev()` refuses the device: EINVAL).
    public func mtuProblems() -> [MTUProblem] {
        var out: [MTUProblem] = []
        for dev in devices {
            let node = topology.nodes[dev.node]
            let own: Int?
            switch dev.kind {
            case .virtio: own = nil   // the guest's own interface: one setting
            case .vethEnd: own = dev.iface.flatMap { $0 < node.interfaces.count ? node.interfaces[$0].mtu : nil }
            case .tap, .bridge, .hostNIC: own = node.mtu
            case .vxlan: own = node.mtu
            }
            guard let r = dev.l3 ?? dev.packetSocket, r.iface < topology.nodes[r.node].interfaces.count else { continue }
            let host = topology.nodes[r.node]
            let hi = host.interfaces[r.iface]
            if case let .vxlan(v) = dev.kind, !v.geneve, let max = tunnelMaxMTU(dev.id), let set = own ?? hi.mtu, set > max {
                out.append(MTUProblem(node: own != nil ? node.name : host.name, interface: own != nil ? nil : hi.name, key: "mtu",
                                      message: "\(dev.name) sets mtu \(set), above what its underlay allows: \(max) (the underlay's MTU less \(v.overIPv6 ? 70 : 50) bytes of encapsulation; vxlan_change_mtu() refuses more)"))
            }
            if let own, let h = hi.mtu, own != h {
                out.append(MTUProblem(node: host.name, interface: hi.name, key: "mtu",
                                      message: "\(host.name):\(hi.name) sets mtu \(h), but the device it is placed at (\(dev.name)) sets \(own): one device has one MTU; set it in one place"))
            }
            if dev.mtu < MTURule.ipv6Minimum, hi.address(.v6) != nil {
                out.append(MTUProblem(node: host.name, interface: hi.name, key: hi.mtu != nil ? "mtu" : "address",
                                      message: "\(host.name):\(hi.name) has an IPv6 address but its MTU is \(dev.mtu): the kernel takes IPv6 off a device below \(MTURule.ipv6Minimum) (IPV6_MIN_MTU; ipv6_add_dev() refuses it)"))
            }
        }
        return out
    }

    // MARK: Features

    /// Every feature, and every feature but GRO, as `Features.effective(defaultBits:…)` takes them.
    private static let allFeatureBits = Feature.allCases.reduce(0) { $0 | 1 << $1.ordinal }
    private static let allButGROBits = allFeatureBits & ~(1 << Feature.gro.ordinal)

    /// What a device kind can never turn on, with why: the same for every device of the kind,
    /// built once (every device of every fix variant is resolved through `computeFeatures`).
    private static let virtioFixed: [Feature: String] = [
        .udpTunnelSegmentation: "virtio-net (6.13) has no NETIF_F_GSO_UDP_TUNNEL",
        .udpTunnelCsumSegmentation: "virtio-net (6.13) has no NETIF_F_GSO_UDP_TUNNEL_CSUM",
    ]
    private static let tapFixed: [Feature: String] = [
        .udpTunnelSegmentation: "no TUN_F_UDP_TUNNEL_GSO (TUNSETOFFLOAD; 6.13's tun has no tunnel GSO)",
        .udpTunnelCsumSegmentation: "no TUN_F_UDP_TUNNEL_GSO_CSUM (TUNSETOFFLOAD; 6.13's tun has no tunnel GSO)",
        .rxChecksumming: "tun_net_init() gives a TAP no NETIF_F_RXCSUM",
    ]
    private static let bridgeFixed: [Feature: String] = [
        .rxChecksumming: "a bridge device has no NETIF_F_RXCSUM (br_device.c COMMON_FEATURES)",
    ]
    // vxlan_setup(): SG | HW_CSUM | FRAGLIST | RXCSUM | GSO_SOFTWARE, all switchable (T1); no
    // tunnel GSO: that belongs to the underlay.
    private static let vxlanFixed: [Feature: String] = [
        .udpTunnelSegmentation: "vxlan_setup() gives no NETIF_F_GSO_UDP_TUNNEL: the underlay segments tunnelled skbs",
        .udpTunnelCsumSegmentation: "vxlan_setup() gives no NETIF_F_GSO_UDP_TUNNEL_CSUM: the underlay segments tunnelled skbs",
    ]

    /// A veth's fixed-off features per profile, made once (a variant of the fix search works out
    /// its changed veth ends again: a dictionary and its text per end were built each time).
    private static let vethFixed: [KernelProfile: [Feature: String]] = Dictionary(uniqueKeysWithValues: KernelProfile.allCases.map { p in
        (p, p == .linux6 ? [:] : [.udpTunnelCsumSegmentation: "\(p.rawValue) veth: VETH_FEATURES has NETIF_F_GSO_UDP_TUNNEL, not _CSUM"])
    })

    private func computeFeatures(_ d: Int) -> Features.Effective {
        // Fields are read in place: copying the device or its node costs a retain per field.
        let ni = devices[d].node
        let profile = devices[d].profile
        let all = Self.allFeatureBits
        switch devices[d].kind {
        case .virtio:
            // QEMU offers VIRTIO_NET_F_CSUM/HOST_TSO only when its backend has a vnet header.
            var fixed = Self.virtioFixed
            if let t = devices[d].peer, case let .tap(ts) = devices[t].kind, !ts.vnetHdr {
                fixed[.txChecksumming] = "QEMU offers no VIRTIO_NET_F_CSUM: \(devices[t].name) has no vnet header"
                fixed[.tso] = "QEMU offers no HOST_TSO: \(devices[t].name) has no vnet header"
            }
            return topology.nodes[ni].interfaces[devices[d].l3?.iface ?? 0].features.effective(defaultBits: all, fixedOff: fixed, profile: profile)
        case let .tap(ts):
            var fixed = Self.tapFixed
            let (csum, tso4, tso6) = tunFlags(d, ts)
            if !csum { fixed[.txChecksumming] = "no TUN_F_CSUM (TUNSETOFFLOAD)" }
            if !(tso4 || tso6) { fixed[.tso] = "no TUN_F_TSO4/6 (TUNSETOFFLOAD)" }
            return topology.nodes[ni].features.effective(defaultBits: all, fixedOff: fixed, profile: profile)
        case .bridge:
            return topology.nodes[ni].features.effective(defaultBits: all, fixedOff: Self.bridgeFixed, profile: profile)
        case .hostNIC:
            return topology.nodes[ni].features.effective(defaultBits: all, profile: profile)
        case .vxlan:
            return topology.nodes[ni].features.effective(defaultBits: all, fixedOff: Self.vxlanFixed, profile: profile)
        case .vethEnd:
            let ii = devices[d].name == topology.nodes[ni].interfaces.first?.name ? 0 : 1
            // veth_newlink() → veth_disable_gro(): GRO is off by default. VETH_FEATURES has
            // NETIF_F_GSO_ENCAP_ALL on 6.x; 4.4 (and 3.x) only NETIF_F_GSO_UDP_TUNNEL.
            let fixed = Self.vethFixed[profile] ?? [:]
            guard ii < topology.nodes[ni].interfaces.count else {
                return Features().effective(defaultBits: Self.allButGROBits, fixedOff: fixed, profile: profile)
            }
            return topology.nodes[ni].interfaces[ii].features.effective(defaultBits: Self.allButGROBits, fixedOff: fixed, profile: profile)
        }
    }

    /// A TAP whose offloads the kernel refuses: TSO asked for without TUN_F_CSUM
    /// (`set_offload()` returns EINVAL; the validator's error, and a fix the search must not offer).
    public func refusesTunOffloads(_ d: Int) -> Bool {
        guard case let .tap(ts) = devices[d].kind else { return false }
        let f = tunFlags(d, ts)
        return !f.csum && (f.tso4 || f.tso6)
    }

    /// The TUNSETOFFLOAD flags of a TAP: explicit, or as QEMU derives them from the guest.
    public func tunFlags(_ d: Int, _ ts: TapSettings) -> (csum: Bool, tso4: Bool, tso6: Bool) {
        var guest: VMSettings?
        if case let .vm(v)? = devices[d].fdSide {
            switch topology.nodes[devices[v].node].kind {
            case let .vm(s): guest = s
            case let .router(r): guest = r.vm
            case .netns, .tap, .bridge, .veth, .hostNIC, .vxlan: break
            }
        }
        // QEMU sets offloads only for a backend with a vnet header.
        let qemu = ts.vnetHdr ? guest : nil
        let csum = ts.tunCsum ?? (qemu?.guestCsum ?? false)
        let tso = (qemu?.guestTSO ?? false) && csum
        return (csum, ts.tunTSO4 ?? tso, ts.tunTSO6 ?? tso)
    }

    // MARK: Addressing and routing

    /// The namespace a VXLAN device lives in (its socket, its route to `remote`, its underlay):
    /// the host it is placed at as an interface, or, for a bridge port, the host its bridge is
    /// placed at (a bridge and its ports are in one namespace).
    public func tunnelNode(_ d: Int) -> Int? {
        if let r = devices[d].l3 { return r.node }
        if let m = devices[d].master { return devices[m].l3?.node }
        return nil
    }

    /// The device carrying interface `iface` of host `node`.
    public func deviceOf(node: Int, iface: Int) -> Int? {
        guard node < interfaceDevice.count, iface < interfaceDevice[node].count else { return nil }
        return interfaceDevice[node][iface]
    }

    public func deviceOf(_ r: L3Ref) -> Int? { deviceOf(node: r.node, iface: r.iface) }

    public func device(named name: String) -> Int? { devices.firstIndex { $0.name == name } }

    /// The device whose MAC a frame to `nextHop` carries: the owner's device, or a host NIC for
    /// the remote host beyond it.
    public func targetDevice(for nextHop: IPAddress) -> Int? {
        if let o = owner(of: nextHop) { return deviceOf(o) }
        for d in devices.indices where devices[d].kind == .hostNIC {
            if case let .hostNIC(hs) = topology.nodes[devices[d].node].kind, hs.remoteAddress == nextHop || hs.remoteAddress6 == nextHop {
                return devices[d].id
            }
        }
        return nil
    }

    /// The MAC address of the remote machine beyond a host NIC (a frame to it must not carry the
    /// NIC's own MAC: on a bridge port that address belongs to the bridge and stays local).
    public func remoteMAC(ofNIC d: Int) -> [UInt8] {
        [0x02, 0xee, 0x00, 0x00, UInt8(devices[d].node & 0xFF), 0x01]
    }

    /// The destination MAC of a frame whose next hop is `target`: the device's own MAC, or the
    /// remote machine's for a host NIC.
    public func destinationMAC(for target: Int) -> [UInt8] {
        devices[target].kind == .hostNIC ? remoteMAC(ofNIC: target) : devices[target].mac
    }

    /// Every address a frame in this topology can be sent to: hosts' interfaces and remote hosts.
    public var allAddresses: [IPAddress] {
        var out: [IPAddress] = []
        for n in topology.nodes where n.isHost {
            for i in n.interfaces { out += i.addresses.map(\.address) }
            if case let .hostNIC(hs) = n.kind { out += [hs.remoteAddress, hs.remoteAddress6].compactMap { $0 } }
        }
        var seen: Set<IPAddress> = []
        return out.filter { seen.insert($0).inserted }
    }

    /// The host interface owning an address.
    public func owner(of a: IPAddress) -> L3Ref? { ownerByAddress[a] }

    /// The index of the node named `name` (the first of that name), without a scan.
    public func nodeIndex(named name: String) -> Int? { nodeIndexByName[name] }

    /// `fib_lookup()`: the interface and next hop a host uses for `dst` (a connected subnet, else
    /// the first interface whose gateway is on its own subnet).
    public func route(from node: Int, to dst: IPAddress) -> (iface: Int, nextHop: IPAddress)? {
        // By index, in place: copying the node (or each interface) costs a retain and a release
        // per field, at every hop that routes.
        let count = topology.nodes[node].interfaces.count
        for ii in 0..<count where topology.nodes[node].interfaces[ii].addresses.contains(where: { $0.contains(dst) }) {
            return (ii, dst)
        }
        for ii in 0..<count {
            let gw = dst.version == .v4 ? topology.nodes[node].interfaces[ii].gateway : topology.nodes[node].interfaces[ii].gateway6
            if let g = gw, topology.nodes[node].interfaces[ii].addresses.contains(where: { $0.contains(g) }) { return (ii, g) }
        }
        return nil
    }

    /// Can a frame sent out of device `from` reach device `target` at layer 2 (through bridges,
    /// veth pairs, TAPs, and layer-2 userspace switches) without crossing a router?
    public func l2Reaches(from: Int, target: Int) -> Bool {
        if let l2Index { return from == target || l2Index.connected(from, target) }
        return l2ReachesByWalking(from: from, target: target)
    }

    /// Can a frame leave `from` and reach `target` without passing `avoiding` (a bridge asking
    /// whether a port's side of the network holds the target)? Never through `avoiding`, so
    /// false when `target` is `avoiding` (and `from` is not).
    public func l2Reaches(from: Int, target: Int, avoiding: Int) -> Bool {
        if from == target { return true }
        if let l2Index { return l2Index.connected(from, target, avoiding: avoiding) }
        return l2ReachesByWalking(from: from, target: target, avoiding: avoiding)
    }

    /// `l2Reaches` by a walk over `l2Neighbours` (what the index answers; tests compare the two).
    func l2ReachesByWalking(from: Int, target: Int) -> Bool {
        var seen: Set<Int> = []
        var stack = [from]
        while let d = stack.popLast() {
            if d == target { return true }
            if !seen.insert(d).inserted { continue }
            stack.append(contentsOf: l2Neighbours(d))
        }
        return false
    }

    /// `l2Reaches(from:target:avoiding:)` by a walk (what the index answers).
    func l2ReachesByWalking(from: Int, target: Int, avoiding: Int) -> Bool {
        var seen: Set<Int> = [avoiding]
        var stack = [from]
        while let d = stack.popLast() {
            if d == target { return true }
            if !seen.insert(d).inserted { continue }
            stack.append(contentsOf: l2Neighbours(d).filter { !seen.contains($0) })
        }
        return false
    }

    /// Devices one L2 hop away (in both directions of a connection).
    public func l2Neighbours(_ d: Int) -> [Int] {
        var out: [Int] = []
        if let p = devices[d].peer { out.append(p) }
        if let m = devices[d].master { out.append(m) }
        out += devices[d].ports
        switch devices[d].fdSide {
        case let .vm(v)?: out.append(v)
        case let .userspace(ni, _)?: out += switchPorts(ni)
        case nil: break
        }
        if let ps = devices[d].packetSocket { out += switchPorts(ps.node) }
        if let t = devices[d].tunnelPeer { out.append(t) }
        if case .virtio = devices[d].kind, let ref = devices[d].l3, case let .router(r) = topology.nodes[ref.node].kind,
           r.flavour == .userspace, r.forwarding == .l2 {
            out += (0..<topology.nodes[ref.node].interfaces.count).compactMap { deviceOf(node: ref.node, iface: $0) }
        }
        return out
    }

    /// The devices of a layer-2 userspace switch (frames cross it unchanged).
    private func switchPorts(_ node: Int) -> [Int] {
        guard case let .router(r) = topology.nodes[node].kind, r.forwarding == .l2 else { return [] }
        return (0..<topology.nodes[node].interfaces.count).compactMap { deviceOf(node: node, iface: $0) }
    }
}

/// Which devices a frame can reach at layer 2, and which stay reachable when one device is
/// taken away, from one depth-first search over the (symmetric) neighbour relation: the
/// articulation-point structure of each connected piece. Removing device `w` splits its piece
/// into the subtree of each DFS child `c` of `w` with `low[c] ≥ tin[w]` (nothing in it reaches
/// above `w` but through `w`), and one piece of everything else.
struct L2Index: Sendable {
    /// The connected piece of each device (the first device of the piece).
    private var component: [Int]
    /// DFS entry order, and the largest entry order in each device's subtree.
    private var tin: [Int]
    private var last: [Int]
    /// The smallest entry order reachable from the subtree by one non-tree edge.
    private var low: [Int]
    /// DFS tree children of each device, in entry order.
    private var children: [[Int]]

    /// Nil when `neighbours` is not symmetric (the index would answer for an undirected graph).
    init?(neighbours adj: [[Int]]) {
        let n = adj.count
        // Symmetry: a linear look at the neighbour's list, which is short for every device but
        // a bridge with many ports (those get a set, built once); a set per device cost more
        // than the rest of the index in a small lab.
        var sets: [Int: Set<Int>] = [:]
        for d in 0..<n {
            for m in adj[d] {
                guard adj.indices.contains(m) else { return nil }
                if adj[m].count <= 16 {
                    guard adj[m].contains(d) else { return nil }
                } else {
                    if sets[m] == nil { sets[m] = Set(adj[m]) }
                    guard sets[m]!.contains(d) else { return nil }
                }
            }
        }
        component = [Int](repeating: -1, count: n)
        tin = [Int](repeating: -1, count: n)
        last = [Int](repeating: -1, count: n)
        low = [Int](repeating: -1, count: n)
        children = [[Int]](repeating: [], count: n)
        var timer = 0
        var stack: [(device: Int, next: Int)] = []
        for root in 0..<n where tin[root] < 0 {
            tin[root] = timer; low[root] = timer; timer += 1; component[root] = root
            stack.append((root, 0))
            while let (v, i) = stack.last {
                if i < adj[v].count {
                    stack[stack.count - 1].next += 1
                    let u = adj[v][i]
                    if tin[u] < 0 {
                        tin[u] = timer; low[u] = timer; timer += 1; component[u] = root
                        children[v].append(u)
                        stack.append((u, 0))
                    } else {
                        low[v] = min(low[v], tin[u])
                    }
                } else {
                    stack.removeLast()
                    last[v] = timer - 1
                    if let (p, _) = stack.last { low[p] = min(low[p], low[v]) }
                }
            }
        }
    }

    /// `a` and `b` in the same connected piece.
    func connected(_ a: Int, _ b: Int) -> Bool { component[a] == component[b] }

    /// `a` and `b` (both not `w`) still connected once `w` is taken away.
    func connected(_ a: Int, _ b: Int, avoiding w: Int) -> Bool {
        if a == w || b == w { return false }
        guard component[a] == component[b] else { return false }
        if component[w] != component[a] { return true }
        return piece(a, without: w) == piece(b, without: w)
    }

    /// The piece `x` is in once `w` is gone: the DFS child of `w` whose subtree holds `x` when
    /// that subtree hangs on `w` alone, else -1 (the rest of the connected piece).
    private func piece(_ x: Int, without w: Int) -> Int {
        guard tin[w] < tin[x] && tin[x] <= last[w] else { return -1 }
        let cs = children[w]
        var lo = 0, hi = cs.count - 1
        while lo < hi {   // the last child entered at or before x
            let mid = (lo + hi + 1) / 2
            if tin[cs[mid]] <= tin[x] { lo = mid } else { hi = mid - 1 }
        }
        let c = cs[lo]
        return low[c] >= tin[w] ? c : -1
    }
}
