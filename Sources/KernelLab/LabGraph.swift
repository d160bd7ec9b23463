import Simulation
import Wire

/// A topology's devices resolved the way the simulator resolves them: the same devices in the
/// same order, with the same MAC addresses, bridge ports, veth peers, TAP sides and host
/// interfaces. `csumlab verify` builds exactly these devices on the real kernel, so the frames the
/// simulation emits can be written into the real lab unchanged (their MACs are the lab's MACs).
///
/// The order and the MAC formula mirror `Simulation.Network`; `LabPlan` cross-checks them against
/// the simulated frames and refuses to build a lab if they ever drift apart.
public struct LabGraph: Sendable {
    public enum Kind: Sendable, Equatable {
        /// A guest's virtio NIC (a VM, a router VM): not a host device; a csumlab helper stands in.
        case virtio
        case tap(TapSettings)
        case bridge
        case vethEnd
        case hostNIC
    }

    /// An interface of a host node.
    public struct Ref: Sendable, Hashable {
        public var node: Int
        public var iface: Int
    }

    public struct Device: Sendable {
        public var id: Int
        /// The simulator's name (`tap1`, `vethA-r`, `vm1:eth0`).
        public var name: String
        public var node: Int
        public var iface: Int?
        public var kind: Kind
        public var mac: [UInt8]
        /// The host interface this device is (a namespace's or a kernel router's interface).
        public var l3: Ref?
        /// A userspace forwarder's AF_PACKET socket on this device.
        public var packetSocket: Ref?
        public var master: Int?
        public var ports: [Int] = []
        /// veth peer, or a virtio NIC's TAP (and the TAP's NIC).
        public var peer: Int?
        /// A TAP whose fd a userspace forwarder reads.
        public var fdUserspace: Ref?
        /// A TAP whose fd a guest NIC uses (the NIC's device id).
        public var fdVM: Int?
    }

    public let topology: Topology
    public private(set) var devices: [Device] = []
    /// For each node, for each interface index, the device that carries it.
    public private(set) var interfaceDevice: [[Int?]]

    public init(_ t: Topology) {
        topology = t
        interfaceDevice = t.nodes.map { [Int?](repeating: nil, count: max($0.interfaces.count, 1)) }
        for (ni, n) in t.nodes.enumerated() {
            switch n.kind {
            case .vm:
                for (ii, i) in n.interfaces.enumerated() { add(ni, ii, "\(n.name):\(i.name)", .virtio) }
            case let .router(r) where r.inVM:
                for (ii, i) in n.interfaces.enumerated() { add(ni, ii, "\(n.name):\(i.name)", .virtio) }
            case let .tap(s):
                add(ni, nil, n.name, .tap(s))
            case .bridge:
                add(ni, nil, n.name, .bridge)
            case .hostNIC:
                add(ni, nil, n.name, .hostNIC)
            case .veth:
                let a = add(ni, 0, n.interfaces.first?.name ?? "\(n.name)a", .vethEnd)
                let b = add(ni, 1, n.interfaces.dropFirst().first?.name ?? "\(n.name)b", .vethEnd)
                devices[a].peer = b
                devices[b].peer = a
            case .netns, .router:
                break
            }
        }
        for l in t.links { connect(l) }
    }

    @discardableResult
    private mutating func add(_ node: Int, _ iface: Int?, _ name: String, _ kind: Kind) -> Int {
        let id = devices.count
        let prefix: [UInt8] = kind == .virtio ? [0x52, 0x54, 0x00] : [0x02, 0xcc, 0x00]
        let mac = prefix + [UInt8(node & 0xFF), UInt8((iface ?? 0xF0) & 0xFF), UInt8(id & 0xFF)]
        var d = Device(id: id, name: name, node: node, iface: iface, kind: kind, mac: mac)
        if kind == .virtio, let i = iface { d.l3 = Ref(node: node, iface: i) }
        devices.append(d)
        interfaceDevice[node][iface ?? 0] = id
        return id
    }

    /// The device an endpoint names (nil for a host's interface, which a device is placed at).
    public func device(for e: Endpoint) -> Int? {
        guard let ni = topology.nodeIndex(named: e.node) else { return nil }
        let n = topology.nodes[ni]
        switch n.kind {
        case .tap, .bridge, .hostNIC:
            return interfaceDevice[ni][0]
        case .veth, .vm:
            guard let ifn = e.interface, let ii = n.interfaceIndex(named: ifn) else { return nil }
            return interfaceDevice[ni][ii]
        case let .router(r) where r.inVM:
            guard let ifn = e.interface, let ii = n.interfaceIndex(named: ifn) else { return nil }
            return interfaceDevice[ni][ii]
        case .netns, .router:
            return nil
        }
    }

    private mutating func connect(_ l: Link) {
        switch (device(for: l.a), device(for: l.b)) {
        case let (a?, b?): join(a, b)
        case let (a?, nil): place(a, at: l.b)
        case let (nil, b?): place(b, at: l.a)
        case (nil, nil): break
        }
    }

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
            devices[b].fdVM = a
        case (.tap, .virtio):
            devices[b].peer = a
            devices[a].fdVM = b
        default:
            break
        }
    }

    private mutating func place(_ d: Int, at e: Endpoint) {
        guard let ni = topology.nodeIndex(named: e.node), let ifn = e.interface,
              let ii = topology.nodes[ni].interfaceIndex(named: ifn) else { return }
        let ref = Ref(node: ni, iface: ii)
        if case let .router(r) = topology.nodes[ni].kind, r.flavour == .userspace {
            if case .tap = devices[d].kind { devices[d].fdUserspace = ref } else { devices[d].packetSocket = ref }
        } else {
            devices[d].l3 = ref
        }
        interfaceDevice[ni][ii] = d
    }

    public func deviceOf(_ r: Ref) -> Int? {
        guard r.node < interfaceDevice.count, r.iface < interfaceDevice[r.node].count else { return nil }
        return interfaceDevice[r.node][r.iface]
    }

    public func device(named name: String) -> Int? { devices.firstIndex { $0.name == name } }

    // MARK: TAP flags

    /// The `TUNSETOFFLOAD` flags of a TAP: explicit in the file, or as QEMU derives them from the
    /// guest's negotiation (only for a backend with a vnet header).
    public func tunOffloads(_ d: Int) -> TunOffloads {
        guard case let .tap(ts) = devices[d].kind else { return [] }
        var guest: VMSettings?
        if let v = devices[d].fdVM {
            switch topology.nodes[devices[v].node].kind {
            case let .vm(s): guest = s
            case let .router(r): guest = r.vm
            default: break
            }
        }
        let qemu = ts.vnetHdr ? guest : nil
        let csum = ts.tunCsum ?? (qemu?.guestCsum ?? false)
        let tso = (qemu?.guestTSO ?? false) && csum
        var o: TunOffloads = []
        if csum { o.insert(.csum) }
        if ts.tunTSO4 ?? tso { o.insert(.tso4) }
        if ts.tunTSO6 ?? tso { o.insert(.tso6) }
        return o
    }

    // MARK: Addresses and routes

    /// The host interface owning an address.
    public func owner(of a: IPAddress) -> Ref? {
        for (ni, n) in topology.nodes.enumerated() where n.isHost {
            for (ii, i) in n.interfaces.enumerated() where i.addresses.contains(where: { $0.address == a }) {
                return Ref(node: ni, iface: ii)
            }
        }
        return nil
    }

    /// `fib_lookup()` as the simulator does it: a connected subnet, else the first interface whose
    /// gateway is on its own subnet.
    public func route(from node: Int, to dst: IPAddress) -> (iface: Int, nextHop: IPAddress)? {
        let n = topology.nodes[node]
        for (ii, i) in n.interfaces.enumerated() where i.addresses.contains(where: { $0.contains(dst) }) {
            return (ii, dst)
        }
        for (ii, i) in n.interfaces.enumerated() {
            let gw = dst.version == .v4 ? i.gateway : i.gateway6
            if let g = gw, i.addresses.contains(where: { $0.contains(g) }) { return (ii, g) }
        }
        return nil
    }

    /// The device whose MAC a frame to `nextHop` carries (the owner's device, or a host NIC for
    /// the remote host beyond it).
    public func targetDevice(for nextHop: IPAddress) -> Int? {
        if let o = owner(of: nextHop) { return deviceOf(o) }
        for d in devices where d.kind == .hostNIC {
            if case let .hostNIC(hs) = topology.nodes[d.node].kind, hs.remoteAddress == nextHop || hs.remoteAddress6 == nextHop {
                return d.id
            }
        }
        return nil
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
}
