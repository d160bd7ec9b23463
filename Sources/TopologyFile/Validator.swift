import Simulation
import Wire
import Yams

/// Semantic passes over a parsed topology. Each pass collects every problem it finds, pointing
/// at the key or value that causes it.
struct Validator {
    let topology: Topology
    let marks: [String: Mark]
    let file: String
    var diagnostics: [Diagnostic] = []
    /// Node indexes by name, built once: the passes look names up per link and per flow.
    let nodeIndex: [String: Int]

    init(topology: Topology, marks: [String: Mark], file: String) {
        self.topology = topology
        self.marks = marks
        self.file = file
        nodeIndex = topology.nodeIndexesByName()
    }

    func node(named name: String) -> Simulation.Node? {
        nodeIndex[name].map { topology.nodes[$0] }
    }

    mutating func error(_ key: String, _ message: String) {
        let m = marks[key]
        diagnostics.append(Diagnostic(file: file, line: m?.line ?? 1, column: m?.column ?? 1, message: message))
    }

    mutating func run() {
        checkNames()
        checkLinks()
        checkAddresses()
        checkTunnels()
        guard diagnostics.isEmpty else { return }
        // One simulator, and the network it resolves, for every pass that needs the built lab
        // (this runs on every explorer edit).
        let sim = Simulator(topology)
        checkTunOffloads(sim.network)
        if diagnostics.isEmpty { checkMTUs(sim.network) }
        if diagnostics.isEmpty { checkFlows(sim) }
    }

    /// A vxlan node names its VNI's endpoints and its underlay: `local` must be an address of
    /// the namespace it is placed in (for a bridge port, the namespace its bridge is placed in),
    /// `underlay` one of that namespace's interfaces.
    mutating func checkTunnels() {
        for n in topology.nodes {
            guard case let .vxlan(v) = n.kind else { continue }
            // Not linked yet (a node just added): nothing to check until it is placed.
            guard topology.links.contains(where: { $0.a.node == n.name || $0.b.node == n.name }) else { continue }
            for (key, missing) in [("local", v.local == nil), ("remote", v.remote == nil), ("underlay", v.underlay == nil)] where missing {
                error("node:\(n.name)", "vxlan '\(n.name)' needs '\(key)'")
            }
            let placed = topology.links.lazy.compactMap { l -> Endpoint? in
                if l.a.node == n.name { return l.b }
                if l.b.node == n.name { return l.a }
                return nil
            }.first
            guard let at = placed, var host = node(named: at.node) else { continue }
            if case .bridge = host.kind {
                // A bridge port lives in its bridge's namespace: the host the bridge is placed at.
                let bridge = host.name
                let nodes = topology.nodes
                let bridgeHost = topology.links.compactMap { l -> Endpoint? in
                    if l.a.node == bridge, l.b.interface != nil { return l.b }
                    if l.b.node == bridge, l.a.interface != nil { return l.a }
                    return nil
                }.compactMap { e in nodes.first { $0.name == e.node } }.first { $0.isHost }
                guard let h = bridgeHost else {
                    error("node:\(n.name)", "vxlan '\(n.name)' is a port of bridge \(bridge), which is placed in no namespace: link \(bridge) to an interface of the namespace whose 'underlay' and 'local' the tunnel uses")
                    continue
                }
                host = h
            }
            if case let .router(r) = host.kind, r.flavour != .netns {
                error("node:\(n.name)", "vxlan '\(n.name)' is placed in router \(host.name), whose flavour is \(r.flavour.rawValue): a tunnel endpoint in a router VM or a userspace forwarder is not modelled (place it in a netns, or make \(host.name) a netns router)")
                continue
            }
            if let u = v.underlay, host.interface(named: u) == nil {
                error("set:\(n.name):underlay", "'underlay' expects an interface of \(host.name) (\(host.interfaces.map(\.name).joined(separator: ", "))), got '\(u)'")
            }
            if let a = v.local, !host.interfaces.contains(where: { $0.addresses.contains { $0.address == a } }) {
                error("set:\(n.name):local", "'local' \(a) is not an address of \(host.name)")
            }
            if let a = v.local, let b = v.remote, a.version != b.version {
                error("set:\(n.name):remote", "'remote' expects an address of the same family as 'local' (\(a)), got \(b)")
            }
        }
    }

    // MARK: Names and text

    /// `NameRule` for every node, interface and flow name; `FreeTextRule` for the lab's name and
    /// description. Runs even when parsing found other errors (names are known by then).
    mutating func checkNames() {
        for n in topology.nodes {
            if let p = NameRule.problem(n.name) {
                error("node:\(n.name)", "invalid node name '\(n.name)': \(p); \(NameRule.summary)")
            }
            switch n.kind {
            case .tap, .bridge, .hostNIC, .vxlan: continue   // one interface, named like the node
            case .vm, .netns, .router, .veth: break
            }
            for i in n.interfaces {
                if let p = NameRule.problem(i.name) {
                    error("iface:\(n.name):\(i.name)", "invalid interface name '\(i.name)' in '\(n.name)': \(p); \(NameRule.summary)")
                }
            }
        }
        for f in topology.flows {
            if let p = NameRule.problem(f.name) {
                error("flow:\(f.name)", "invalid flow name '\(f.name)': \(p); \(NameRule.summary)")
            }
        }
        if let p = FreeTextRule.problem(topology.name, multiline: false) {
            error("name", "'name': \(p)")
        }
        if let p = FreeTextRule.problem(topology.description, multiline: true) {
            error("description", "'description': \(p)")
        }
    }

    // MARK: Links

    /// What an endpoint denotes: `Simulation`'s link rules, shared with the explorer's link picker.
    typealias Role = LinkRole

    func role(_ e: Endpoint) -> Role? {
        node(named: e.node).map { LinkRole($0.kind) }
    }

    mutating func checkLinks() {
        // Slot → (first link index, endpoint index) for "linked twice".
        var used: [String: String] = [:]
        for (i, l) in topology.links.enumerated() where !l.a.node.isEmpty {
            var roles: [Role?] = []
            for (j, e) in [l.a, l.b].enumerated() {
                let key = "link:\(i):\(j)"
                guard let n = node(named: e.node) else {
                    error(key, "unknown node '\(e.node)' (nodes: \(topology.nodes.map(\.name).joined(separator: ", ")))")
                    roles.append(nil)
                    continue
                }
                let single = LinkRole.isSingleDevice(n.kind)
                if single, let i = e.interface {
                    error(key, "'\(e.node)' is a single device (\(n.kind.name)): write '\(e.node)', not '\(e.node):\(i)'")
                    roles.append(nil)
                    continue
                }
                if !single {
                    guard let ifn = e.interface else {
                        error(key, "'\(e.node)' is a \(n.kind.name): name the interface, e.g. '\(e.node):\(n.interfaces.first?.name ?? "eth0")'")
                        roles.append(nil)
                        continue
                    }
                    guard n.interface(named: ifn) != nil else {
                        error(key, "node '\(e.node)' has no interface '\(ifn)' (it has: \(n.interfaces.map(\.name).joined(separator: ", ")))")
                        roles.append(nil)
                        continue
                    }
                }
                roles.append(role(e))
            }
            guard let ra = roles[0], let rb = roles[1] else { continue }
            guard pairKind(ra, rb) != nil else {
                error("link:\(i)", "cannot link \(l.a) (\(describe(ra))) with \(l.b) (\(describe(rb))): \(hint(ra, rb))")
                continue
            }
            // Slots each endpoint occupies.
            for (j, (e, r, other)) in [(l.a, ra, rb), (l.b, rb, ra)].enumerated() {
                guard let slot = r.slot(of: e, linkedTo: other) else { continue }
                if let first = used[slot] {
                    let what = r == .tap ? (slot.hasSuffix(":fd") ? "its file-descriptor side (VM or program)" : "its kernel side (bridge or namespace)") : ""
                    error("link:\(i):\(j)", "\(e) is linked twice\(what.isEmpty ? "" : " on " + what)\(first.isEmpty ? "" : " (first at \(first))")")
                } else {
                    used[slot] = marks["link:\(i):\(j)"].map { "line \($0.line)" } ?? ""
                }
            }
        }
    }

    func describe(_ r: Role) -> String { r.phrase }

    func pairKind(_ a: Role, _ b: Role) -> String? { LinkRole.pairKind(a, b) }

    func hint(_ a: Role, _ b: Role) -> String { LinkRole.hint(a, b) }

    // MARK: Addresses

    mutating func checkAddresses() {
        for n in topology.nodes {
            for i in n.interfaces {
                for (gw, key) in [(i.gateway, "gateway"), (i.gateway6, "gateway6")] {
                    guard let g = gw else { continue }
                    if !i.addresses.contains(where: { $0.contains(g) }) {
                        error("set:\(n.name):\(i.name):\(key)", "gateway \(g) is not in a subnet of \(n.name):\(i.name) (\(i.addresses.map(\.description).joined(separator: ", ")))")
                    }
                }
            }
        }
    }

    // MARK: TAP offloads

    /// `TUNSETOFFLOAD` takes TUN_F_TSO4/TSO6 only together with TUN_F_CSUM: `set_offload()`
    /// (drivers/net/tun.c, 4.4 and 6.x) reads the TSO bits inside its `TUN_F_CSUM` branch and
    /// returns -EINVAL for any bit left over. QEMU never asks for it; a file can, and `verify`
    /// could not build such a TAP, so it is an error here, at the TSO value that asks for it.
    mutating func checkTunOffloads(_ net: Network) {
        for d in net.devices {
            guard case let .tap(ts) = d.kind, net.refusesTunOffloads(d.id) else { continue }
            let f = net.tunFlags(d.id, ts)
            let name = topology.nodes[d.node].name
            let asked = [(f.tso4, "tun-tso4", ts.tunTSO4), (f.tso6, "tun-tso6", ts.tunTSO6)].filter { $0.0 }
            let key = asked.first { $0.2 != nil }?.1 ?? asked[0].1
            let csumWhy = ts.tunCsum == false ? "tun-csum is off" : "tun-csum follows the guest, which has guest-csum off"
            error("set:\(name):\(key)", "TAP '\(name)': \(asked.map(\.1).joined(separator: " and ")) without TUN_F_CSUM (\(csumWhy)): the kernel refuses the TUNSETOFFLOAD (set_offload() returns EINVAL); turn tun-csum on or \(asked.map { "\($0.1) off" }.joined(separator: " and "))")
        }
    }

    // MARK: MTU

    /// `mtu` set twice for one device, or an IPv6 address on a device below 1280.
    mutating func checkMTUs(_ net: Network) {
        for p in net.mtuProblems() {
            let key = p.interface.map { "set:\(p.node):\($0):\(p.key)" } ?? "set:\(p.node):\(p.key)"
            error(marks[key] != nil ? key : p.interface.map { "iface:\(p.node):\($0)" } ?? "node:\(p.node)", p.message)
        }
    }

    // MARK: Flows

    mutating func checkFlows(_ sim: Simulator) {
        let net = sim.network
        for f in topology.flows {
            var ok = true
            for (key, name) in [("from", f.from), ("to", f.to)] {
                guard let n = node(named: name) else {
                    error("flow:\(f.name):\(key)", "unknown host '\(name)'")
                    ok = false
                    continue
                }
                if !n.isHost {
                    error("flow:\(f.name):\(key)", "'\(name)' is a \(n.kind.name), not a host: a flow runs between vm, netns, router or host-nic nodes")
                    ok = false
                    continue
                }
                let hasAddress: Bool
                if case let .hostNIC(h) = n.kind {
                    hasAddress = (f.ipVersion == .v4 ? h.remoteAddress : h.remoteAddress6) != nil
                } else {
                    hasAddress = n.interfaces.contains { $0.address(f.ipVersion) != nil }
                }
                if !hasAddress {
                    error("flow:\(f.name):\(key)", "'\(name)' has no IPv\(f.ipVersion.rawValue) address\(n.kind.name == "host-nic" ? " (set 'remote')" : "")")
                    ok = false
                }
            }
            if f.from == f.to {
                error("flow:\(f.name):to", "a flow needs two different hosts")
                ok = false
            }
            if let c = f.corruptAfter {
                if let n = node(named: c.node) {
                    if let i = c.interface, n.interface(named: i) == nil {
                        error("flow:\(f.name):corrupt-after", "node '\(c.node)' has no interface '\(i)'")
                    }
                } else {
                    error("flow:\(f.name):corrupt-after", "unknown node '\(c.node)'")
                }
            }
            if f.kind == .dhcp && f.ipVersion == .v6 {
                error("flow:\(f.name):ip", "DHCP flows are IPv4 (DHCPv6 is not modelled)")
                ok = false
            }
            if f.kind == .frame {
                if ok { checkFrame(f, sim) }
                continue
            }
            if ok, let problem = sim.reachabilityProblem(f, in: net) {
                error("flow:\(f.name)", "flow '\(f.name)' cannot reach its endpoint: \(problem)")
            }
        }
    }

    /// A frame flow: its TAP, and whether its frame can be built and written.
    mutating func checkFrame(_ f: Flow, _ sim: Simulator) {
        guard let tap = node(named: f.frame.tap) else {
            return error("flow:\(f.name):tap", "unknown TAP '\(f.frame.tap)'")
        }
        guard case .tap = tap.kind else {
            return error("flow:\(f.name):tap", "'\(f.frame.tap)' is a \(tap.kind.name), not a TAP")
        }
        if let p = sim.frameProblem(f) { error("flow:\(f.name)", "frame flow '\(f.name)': \(p)") }
    }
}
