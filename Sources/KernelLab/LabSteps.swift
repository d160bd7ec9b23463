import Simulation

/// One thing building a lab does, in the order `VerifyLab.build` does them: what `verify` carries
/// out on the kernel (through `LabBuilder`) and what `csumlab export --format script` writes as
/// shell commands. One list for both, so the script builds the lab `verify` compares against.
public enum LabStep: Sendable, Equatable {
    /// A namespace (with `lo` up; IPv6 disabled unless `ipv6`).
    case namespace(role: String, ipv6: Bool)
    case sysctl(LabPlan.Sysctl)
    case bridge(role: String, name: String, mac: String)
    /// A TAP as QEMU (or a userspace router) opens it; `guestMAC`: the VM NIC behind it, if any.
    case tap(role: String, name: String, vnetHeader: Bool, offloads: TunOffloads, mac: String, guestMAC: String?)
    /// A veth pair: the first end in `roleA`, its peer created in `roleB`.
    case veth(roleA: String, nameA: String, macA: String, roleB: String, nameB: String, macB: String)
    /// Bring a device up, joining `master` (a bridge) first when given.
    case up(role: String, device: String, master: String?)
    /// Set one of csumlab's features: every ethtool feature name behind it (`FeatureNames`).
    case feature(role: String, device: String, Feature, on: Bool)
    /// `ip -n NS ARGV...`
    case ip(LabPlan.Command)
    /// A program in the namespace (`ip netns exec NS ARGV...`): nft, iptables.
    case exec(LabPlan.Command)
    /// A userspace router or router VM stand-in (verify: a helper; script: a comment).
    case router(index: Int, LabPlan.Router)
}

extension LabPlan {
    /// br_netfilter per bridge (`br-netfilter`): it runs a bridge's IPv4/IPv6 frames through the
    /// IP hooks when the namespace's `net.bridge.bridge-nf-call-iptables`/`-ip6tables` (1 in every
    /// new namespace once the module is loaded) or the bridge's own `nf_call_iptables`/
    /// `nf_call_ip6tables` is on (br_nf_pre_routing: `!brnet->call_iptables &&
    /// !br_opt_get(br, BROPT_NF_CALL_IPTABLES)` skips). So in a namespace holding a bridge with
    /// it off, the sysctls go to 0 and each bridge there with it on sets its own option. Nothing
    /// for a lab whose bridges all keep the default, nor on a host without br_netfilter (no
    /// sysctl to write, and no bridge passes anything through it: `brNetfilterLoaded`).
    func bridgeNetfilterSteps() -> [LabStep] {
        guard brNetfilterLoaded else { return [] }
        let g = graph
        let bridges = devices.values.filter { g.devices[$0.graphID].kind == .bridge }.sorted { $0.graphID < $1.graphID }
        func on(_ r: RealDevice) -> Bool { g.topology.nodes[g.devices[r.graphID].node].brNetfilter ?? true }
        var steps: [LabStep] = []
        var roles: [String] = []
        for r in bridges where !on(r) && !roles.contains(r.role) { roles.append(r.role) }
        for role in roles {
            steps.append(.sysctl(Sysctl(role: role, key: "net.bridge.bridge-nf-call-iptables", value: "0")))
            steps.append(.sysctl(Sysctl(role: role, key: "net.bridge.bridge-nf-call-ip6tables", value: "0")))
            for r in bridges where r.role == role && on(r) {
                steps.append(.ip(Command(role: role, argv: ["link", "set", "dev", r.name, "type", "bridge", "nf_call_iptables", "1", "nf_call_ip6tables", "1"])))
            }
        }
        return steps
    }

    /// The steps that build this lab. `effective`: the simulator's effective features by device
    /// name (a host NIC's rx-checksumming is emulated by GRO on its near end).
    public func buildSteps(effective: [String: Set<Feature>]) throws(LabError) -> [LabStep] {
        let g = graph
        var steps: [LabStep] = []
        for ns in namespaces { steps.append(.namespace(role: ns.role, ipv6: ns.ipv6)) }
        for s in sysctls { steps.append(.sysctl(s)) }
        let real = devices.values.sorted { $0.graphID < $1.graphID }
        for r in real {
            let d = g.devices[r.graphID]
            switch d.kind {
            case .bridge:
                steps.append(.bridge(role: r.role, name: r.name, mac: r.mac))
            case let .tap(ts):
                let guest = d.fdVM.map { MAC.format(g.devices[$0].mac) }
                steps.append(.tap(role: r.role, name: r.name, vnetHeader: ts.vnetHdr, offloads: g.tunOffloads(r.graphID), mac: r.mac, guestMAC: guest))
            case .vethEnd:
                // Create each pair once, from its first end.
                guard let p = d.peer, p > d.id, let peer = devices[p] else { continue }
                steps.append(.veth(roleA: r.role, nameA: r.name, macA: r.mac, roleB: peer.role, nameB: peer.name, macB: peer.mac))
            case .hostNIC:
                guard let w = wires[r.graphID] else { continue }
                steps.append(.veth(roleA: r.role, nameA: r.name, macA: r.mac, roleB: w.role, nameB: w.name, macB: w.mac))
                steps.append(.up(role: w.role, device: w.name, master: nil))
            case .virtio, .vxlan:
                continue
            }
        }
        steps += bridgeNetfilterSteps()
        // A promiscuous bridge (`promisc: on`): as `tcpdump -i BR` without `-p` leaves it.
        for r in real where g.devices[r.graphID].kind == .bridge && g.topology.nodes[g.devices[r.graphID].node].promisc == true {
            steps.append(.ip(Command(role: r.role, argv: ["link", "set", "dev", r.name, "promisc", "on"])))
        }
        // MTUs the file sets, before ports join their bridges (a bridge set explicitly keeps
        // its MTU; one left alone follows its smallest port, br_mtu_auto_adjust). A host NIC's
        // wire end carries the remote host's side of the same link.
        for r in real where !g.devices[r.graphID].isTunnel {
            guard let mtu = g.configuredMTU(r.graphID) else { continue }
            steps.append(.ip(Command(role: r.role, argv: ["link", "set", "dev", r.name, "mtu", String(mtu)])))
            if let w = wires[r.graphID] { steps.append(.ip(Command(role: w.role, argv: ["link", "set", "dev", w.name, "mtu", String(mtu)]))) }
        }
        // VXLAN devices, once their underlay exists (`ip link add … type vxlan …`).
        for r in real {
            guard case let .vxlan(v) = g.devices[r.graphID].kind else { continue }
            steps.append(.ip(try vxlanCommand(r, v)))
        }
        for r in real {
            let d = g.devices[r.graphID]
            let master = d.master.flatMap { devices[$0] }
            if let m = master, m.role != r.role { throw .agent("\(r.simName) and its bridge \(m.simName) ended up in different namespaces") }
            steps.append(.up(role: r.role, device: r.name, master: master?.name))
        }
        // The file's offload requests, after ports joined their bridges (br_features_recompute).
        for r in real {
            let d = g.devices[r.graphID]
            let node = g.topology.nodes[d.node]
            var requested: [Feature: Bool] = [:]
            switch d.kind {
            case .vethEnd: requested = d.iface.map { $0 < node.interfaces.count ? node.interfaces[$0].features.requested : [:] } ?? [:]
            case .tap, .bridge, .vxlan: requested = node.features.requested
            case .hostNIC:
                // Emulation: GRO validation on the near end stands in for the NIC's rx checksum;
                // the far end must not offer TSO, or veth skips the NAPI/GRO path.
                let rx = effective[d.name]?.contains(.rxChecksumming) ?? true
                steps.append(.feature(role: r.role, device: r.name, .gro, on: rx))
                if let w = wires[r.graphID] { steps.append(.feature(role: w.role, device: w.name, .tso, on: false)) }
                // The NIC's transmit side (tx-checksumming, SG, TSO, GSO, tunnel GSO) is the near end's own.
                for f in [Feature.txChecksumming, .scatterGather, .tso, .gso, .udpTunnelSegmentation, .udpTunnelCsumSegmentation] {
                    if let on = node.features.requested[f] { steps.append(.feature(role: r.role, device: r.name, f, on: on)) }
                }
                continue
            case .virtio: continue
            }
            for f in Feature.allCases { if let on = requested[f] { steps.append(.feature(role: r.role, device: r.name, f, on: on)) } }
        }
        for c in addresses { steps.append(.ip(c)) }
        for c in routes { steps.append(.ip(c)) }
        for c in neighbours { steps.append(.ip(c)) }
        for c in netfilter { steps.append(.exec(c)) }
        for s in conntrackSysctls { steps.append(.sysctl(s)) }
        for (i, r) in routers.enumerated() { steps.append(.router(index: i, r)) }
        return steps
    }
}

extension LabPlan {
    /// `ip -n NS link add name NAME address MAC type vxlan id VNI local A remote B dstport P dev
    /// UNDERLAY [udpcsum|noudpcsum]`: without either keyword the kernel default applies, as in
    /// the file (iproute2 then sends no IFLA_VXLAN_UDP_CSUM). `nolearning`, as flannel creates
    /// its device: the model sends to `remote` always; a learning device would send the replies
    /// to the source of the last outer packet, the NAT router's address (measured 6.18).
    func vxlanCommand(_ r: RealDevice, _ v: VxlanSettings) throws(LabError) -> Command {
        let g = graph
        let d = g.devices[r.graphID]
        guard let home = g.tunnelNode(d.id), let local = v.local, let remote = v.remote, let u = v.underlay,
              let ui = topology.nodes[home].interfaceIndex(named: u),
              let ud = g.deviceOf(LabGraph.Ref(node: home, iface: ui)), let underlay = devices[ud] else {
            throw .agent("\(r.simName): a vxlan device needs its namespace, local, remote and underlay")
        }
        // GENEVE (iproute2 6.1) takes no local address, device or learning flag.
        var argv = v.geneve
            ? ["link", "add", "name", r.name, "address", r.mac, "type", "geneve", "id", "\(v.vni)", "remote", "\(remote)", "dstport", "\(v.dstPort)"]
            : ["link", "add", "name", r.name, "address", r.mac, "type", "vxlan", "id", "\(v.vni)", "local", "\(local)", "remote", "\(remote)",
               "dstport", "\(v.dstPort)", "dev", underlay.name, "nolearning"]
        // An explicit MTU goes with the creation, before `type` (the device does not exist
        // earlier); without one the kernel derives it from the underlay (vxlan_config_apply()).
        if let mtu = g.configuredMTU(r.graphID) { argv.insert(contentsOf: ["mtu", String(mtu)], at: 6) }
        if let c = v.udpCsum { argv.append(c ? "udpcsum" : "noudpcsum") }
        if v.udp6ZeroCsumTx { argv.append("udp6zerocsumtx") }
        if v.udp6ZeroCsumRx { argv.append("udp6zerocsumrx") }
        return Command(role: r.role, argv: argv)
    }
}
