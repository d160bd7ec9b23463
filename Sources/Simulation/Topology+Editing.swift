import Wire

/// What the explorer's editor asks of a topology: apply a `LabEdit`, what an edit removes,
/// which endpoints a link may join, free names and addresses.
extension Topology {
    /// Apply `edit`, or throw and stay unchanged.
    public mutating func apply(_ edit: LabEdit) throws(EditError) {
        try edit.apply(to: &self)
    }

    /// What `edit` removes besides what it names (empty for edits that remove nothing else).
    /// Ask before applying: it is computed against this topology.
    public func removals(of edit: LabEdit) -> LabEdit.Removals {
        switch edit {
        case let .deleteNode(name):
            guard nodeIndex(named: name) != nil else { return LabEdit.Removals() }
            return LabEdit.Removals(
                links: links.filter { $0.a.node == name || $0.b.node == name },
                flows: flows.filter { $0.from == name || $0.to == name || $0.corruptAfter?.node == name || ($0.kind == .frame && $0.frame.tap == name) }.map(\.name))
        case let .deleteInterface(node, name):
            guard let n = self.node(named: node), n.interface(named: name) != nil else { return LabEdit.Removals() }
            let gone = Endpoint(node: node, interface: name)
            return LabEdit.Removals(
                links: links.filter { $0.a == gone || $0.b == gone },
                flows: flows.filter { $0.corruptAfter == gone }.map(\.name),
                masquerade: n.masqueradeOn == name ? [node] : [],
                checksumFill: n.netfilter?.checksumFillOut == name && n.netfilter?.checksumFill != .off ? [node] : [])
        case .addNode, .link, .unlink, .renameNode, .renameInterface, .setAddresses, .setGateway, .addFlow,
             .replaceFlow, .deleteFlow, .setLabKernel, .setNodeKernel, .addInterface, .setDescription, .setName:
            return LabEdit.Removals()
        }
    }

    /// `removals(of:).lines`: one line per thing the edit takes with it, for a confirmation.
    public func consequences(of edit: LabEdit) -> [String] {
        removals(of: edit).lines
    }

    // MARK: Links

    /// Every endpoint a link can name: `node` for a tap, bridge or host-nic, `node:if` for each
    /// interface of the others, in node and interface order.
    public var endpoints: [Endpoint] {
        nodes.flatMap { n -> [Endpoint] in
            LinkRole.isSingleDevice(n.kind)
                ? [Endpoint(node: n.name)]
                : n.interfaces.map { Endpoint(node: n.name, interface: $0.name) }
        }
    }

    /// The endpoints a new link from `from` may go to: the pair may be linked (`LinkRole.pairKind`)
    /// and neither end's slot is taken by an existing link.
    public func linkCandidates(from: Endpoint) -> [Endpoint] {
        let used = usedLinkSlots()
        return endpoints.filter { linkProblem(from, $0, used: used) == nil }
    }

    /// The role of an endpoint, if it names an existing node (and interface, for multi-interface
    /// kinds) in the form the link rules want.
    public func linkRole(of e: Endpoint) -> LinkRole? {
        guard let n = node(named: e.node) else { return nil }
        if LinkRole.isSingleDevice(n.kind) { return e.interface == nil ? LinkRole(n.kind) : nil }
        guard let i = e.interface, n.interface(named: i) != nil else { return nil }
        return LinkRole(n.kind)
    }

    /// Slots taken by the existing links (see `LinkRole.slot`).
    func usedLinkSlots() -> Set<String> {
        var used: Set<String> = []
        for l in links {
            guard let ra = linkRole(of: l.a), let rb = linkRole(of: l.b), LinkRole.pairKind(ra, rb) != nil else { continue }
            if let s = ra.slot(of: l.a, linkedTo: rb) { used.insert(s) }
            if let s = rb.slot(of: l.b, linkedTo: ra) { used.insert(s) }
        }
        return used
    }

    /// Why `a` and `b` cannot be linked, or nil when they can.
    func linkProblem(_ a: Endpoint, _ b: Endpoint, used: Set<String>? = nil) -> String? {
        for e in [a, b] {
            guard let n = node(named: e.node) else { return "no node named '\(e.node)'" }
            if LinkRole.isSingleDevice(n.kind) {
                if let i = e.interface { return "'\(e.node)' is a single device (\(n.kind.name)): link '\(e.node)', not '\(e.node):\(i)'" }
            } else {
                guard let i = e.interface else { return "'\(e.node)' is a \(n.kind.name): name the interface, e.g. '\(e.node):\(n.interfaces.first?.name ?? "eth0")'" }
                if n.interface(named: i) == nil {
                    return "'\(e.node)' has no interface '\(i)' (it has: \(n.interfaces.map(\.name).joined(separator: ", ")))"
                }
            }
        }
        if links.contains(where: { LabEdit.same($0, Link(a, b)) }) { return "\(a) and \(b) are linked already" }
        guard let ra = linkRole(of: a), let rb = linkRole(of: b) else { return "cannot link \(a) with \(b)" }
        guard LinkRole.pairKind(ra, rb) != nil else {
            return "cannot link \(a) (\(ra.phrase)) with \(b) (\(rb.phrase)): \(LinkRole.hint(ra, rb))"
        }
        let used = used ?? usedLinkSlots()
        for (e, r, other) in [(a, ra, rb), (b, rb, ra)] {
            guard let s = r.slot(of: e, linkedTo: other), used.contains(s) else { continue }
            switch r {
            case .tap: return "\(e) is linked already on \(s.hasSuffix(":fd") ? "its file-descriptor side (VM or program)" : "its kernel side (bridge or namespace)")"
            case .bridge: return "\(e) has a namespace interface already"
            case .virtio, .vethEnd, .hostNIC, .vxlan, .l3, .socket: return "\(e) is linked already"
            }
        }
        return nil
    }

    // MARK: Free names and addresses

    /// Names a new node or veth end must not take: every node name and every veth end name
    /// (a veth end is a host device named by its interface name, as taps and bridges are by
    /// their node name).
    public var takenNames: Set<String> {
        var s = Set(nodes.map(\.name))
        for n in nodes {
            if case .veth = n.kind { s.formUnion(n.interfaces.map(\.name)) }
        }
        return s
    }

    /// The first of `prefix1`, `prefix2`, … that is neither a node name nor a veth end name, and
    /// for which `prefixN + suffix` is free for every suffix in `alsoFree` too (a veth template
    /// takes `vethN` and `vethN-r`).
    public func freeName(_ prefix: String, alsoFree suffixes: [String] = []) -> String {
        let taken = takenNames
        var k = 1
        while true {
            let name = "\(prefix)\(k)"
            if !taken.contains(name), suffixes.allSatisfy({ !taken.contains(name + $0) }) { return name }
            k += 1
        }
    }

    /// Every address the lab uses: interface addresses, gateways, host-nic remotes.
    public var usedAddresses: Set<IPAddress> {
        var s: Set<IPAddress> = []
        for n in nodes {
            for i in n.interfaces {
                s.formUnion(i.addresses.map(\.address))
                if let g = i.gateway { s.insert(g) }
                if let g = i.gateway6 { s.insert(g) }
            }
            if case let .hostNIC(h) = n.kind {
                for a in [h.remoteAddress, h.remoteAddress6, h.remoteGateway, h.remoteGateway6] {
                    if let a { s.insert(a) }
                }
            }
        }
        return s
    }

    /// The first `10.0.N.0/24` (N = 1…255) that overlaps no subnet or address of the lab.
    public func freeSubnet() -> IPNetwork? {
        let nets = nodes.flatMap { $0.interfaces.flatMap(\.addresses) }
        let used = usedAddresses
        for n in 1...255 {
            let c = IPNetwork(address: IPAddress(bytes: [10, 0, UInt8(n), 0]), prefix: 24)
            if nets.contains(where: { c.contains($0.address) || $0.contains(c.address) }) { continue }
            if used.contains(where: { c.contains($0) }) { continue }
            return c
        }
        return nil
    }

    /// The first host address of `net` (from its base + 1; an IPv4 broadcast address is never
    /// given) that the lab does not use, looking at most 65536 addresses far; nil when none is.
    public func freeAddress(in net: IPNetwork) -> IPAddress? {
        let used = usedAddresses
        let bits = net.address.bytes.count * 8
        let hostBits = max(0, bits - net.prefix)
        var base = net.address.bytes
        for bit in 0..<hostBits {
            let b = bits - 1 - bit
            base[b / 8] &= ~(UInt8(0x80) >> UInt8(b % 8))
        }
        // An IPv4 subnet of 4 or more addresses keeps its last for broadcast; a /31 has none.
        let limit = hostBits >= 17 ? 65536 : (1 << hostBits) - (net.address.version == .v4 && hostBits >= 2 ? 1 : 0)
        guard limit > 1 else { return nil }
        for k in 1..<limit {
            var bytes = base
            var carry = k
            var i = bytes.count - 1
            while carry > 0, i >= 0 {
                let sum = Int(bytes[i]) + (carry & 0xFF)
                bytes[i] = UInt8(sum & 0xFF)
                carry = (carry >> 8) + (sum >> 8)
                i -= 1
            }
            let a = IPAddress(bytes: bytes)
            if !used.contains(a) { return a }
        }
        return nil
    }
}
