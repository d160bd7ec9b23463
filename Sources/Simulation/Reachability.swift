import Wire

extension Simulator {
    /// Why a flow's packets cannot reach the other end (nil when a path exists both ways). Follows
    /// routing host by host and layer-2 adjacency between them; checksum state plays no part.
    public func reachabilityProblem(_ f: Flow) -> String? {
        reachabilityProblem(f, in: Network(topology))
    }

    /// The same on a network already built from `topology` (to check many flows at the cost of
    /// building it once).
    public func reachabilityProblem(_ f: Flow, in net: Network) -> String? {
        guard let c = net.nodeIndex(named: f.from), let s = net.nodeIndex(named: f.to) else { return nil }
        if f.kind == .dhcp {
            // DISCOVER is a broadcast on the client's first link: the server must be on it.
            guard let cd = net.deviceOf(node: c, iface: 0) else { return "\(f.from) has no linked interface" }
            let ok = topology.nodes[s].interfaces.indices.contains { ii in
                net.deviceOf(node: s, iface: ii).map { net.l2Reaches(from: cd, target: $0) } ?? false
            }
            return ok ? nil : "DHCP server \(f.to) is not on \(f.from)'s link (no relay is modelled)"
        }
        guard let sa = hostAddress(s, f.ipVersion, net), let ca = hostAddress(c, f.ipVersion, net) else {
            return nil  // reported elsewhere as a missing address
        }
        if let p = path(from: c, to: sa, net) { return "\(f.from) → \(f.to): \(p)" }
        if let p = path(from: s, to: ca, net) { return "\(f.to) → \(f.from): \(p)" }
        return nil
    }

    private func hostAddress(_ n: Int, _ v: IPVersion, _ net: Network) -> IPAddress? {
        if case let .hostNIC(h) = topology.nodes[n].kind { return v == .v4 ? h.remoteAddress : h.remoteAddress6 }
        return topology.nodes[n].interfaces.lazy.compactMap { $0.address(v)?.address }.first
    }

    private func path(from start: Int, to dst: IPAddress, _ net: Network) -> String? {
        var at = start
        var device: Int?
        if case .hostNIC = topology.nodes[start].kind {
            // The remote host sends to its gateway through the NIC.
            guard case let .hostNIC(h) = topology.nodes[start].kind else { return nil }
            // Without remote-gateway the destination must be on the remote's own link.
            let gw = (dst.version == .v4 ? h.remoteGateway : h.remoteGateway6) ?? dst
            guard let o = net.owner(of: gw), let d = net.deviceOf(node: o.node, iface: o.iface) else { return "nobody owns \(gw)" }
            guard let nic = net.interfaceDevice[start][0], net.l2Reaches(from: nic, target: d) else {
                return "\(gw) is not reachable from \(topology.nodes[start].name)'s wire"
            }
            at = o.node
            device = d
        }
        for _ in 0..<16 {
            let node = topology.nodes[at]
            if node.interfaces.contains(where: { $0.addresses.contains { $0.address == dst } }) { return nil }
            if at != start || device != nil {
                guard case let .router(r) = node.kind, r.forwarding == .l3 || r.flavour != .userspace else {
                    return "\(node.name) is on the way but does not forward"
                }
            }
            guard let (ii, nh) = net.route(from: at, to: dst) else { return "\(node.name) has no route to \(dst)" }
            guard let out = net.deviceOf(node: at, iface: ii) else { return "\(node.name):\(node.interfaces[ii].name) is not linked to anything" }
            if let o = net.owner(of: nh), let target = net.deviceOf(node: o.node, iface: o.iface) {
                guard net.l2Reaches(from: out, target: target) else {
                    return "\(node.name) sends to next hop \(nh) via \(node.interfaces[ii].name), but no layer-2 path leads there"
                }
                at = o.node
                device = target
                continue
            }
            // A host NIC's remote host.
            for d in net.devices where d.kind == .hostNIC {
                if case let .hostNIC(h) = topology.nodes[d.node].kind, h.remoteAddress == nh || h.remoteAddress6 == nh {
                    return net.l2Reaches(from: out, target: d.id) ? nil : "no layer-2 path from \(node.name) to \(d.name)"
                }
            }
            return "nobody owns next hop \(nh)"
        }
        return "routing loop"
    }
}
