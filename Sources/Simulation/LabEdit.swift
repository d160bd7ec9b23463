import Wire

/// One structural edit of a lab, as the explorer offers it: add, delete, link, rename, address,
/// flows, kernels, text. Settings toggles are not here: they stay `--set` assignments applied with
/// `Topology.apply(assignment:)`; `carry(assignment:)` keeps them pointing at the right names
/// across a rename.
///
/// `apply(to:)` checks what the edit itself needs (names exist, new names pass `NameRule` and
/// are unused, a link obeys `LinkRole`'s rules) and changes a copy, so a refused edit leaves the
/// topology as it was. What the whole lab must satisfy (addresses, reachable flows) is the
/// validator's (`TopologyFile.validate`): the caller runs it on the result.
public enum LabEdit: Sendable, Hashable {
    /// Append a node. A tap, bridge or host-nic without interfaces gets its one interface named
    /// like the node.
    case addNode(Node)
    /// Delete a node with its links, the flows that start or end at it and the flows corrupted
    /// after it (`Topology.removals(of:)` lists them).
    case deleteNode(String)
    case link(Link)
    /// Remove the link between the two endpoints, in either order.
    case unlink(Link)
    /// Rename a node; links, flows (`from`, `to`, `corrupt-after`) follow.
    case renameNode(from: String, to: String)
    /// Rename an interface of a vm, netns, router or veth; links, `corrupt-after` and the
    /// node's MASQUERADE rule follow.
    case renameInterface(node: String, from: String, to: String)
    case setAddresses(node: String, interface: String, [IPNetwork])
    case setGateway(node: String, interface: String, IPVersion, IPAddress?)
    case addFlow(Flow)
    /// Replace the flow named `name` in place (its name may change: see `flowRename`).
    case replaceFlow(name: String, Flow)
    case deleteFlow(String)
    case setLabKernel(KernelProfile?)
    /// A vm's or router's own profile; nil runs the lab's.
    case setNodeKernel(node: String, KernelProfile?)
    /// Add an interface to a vm, netns or router.
    case addInterface(node: String, Interface)
    /// Delete an interface of a vm, netns or router with its links, the flows corrupted after it
    /// and a MASQUERADE rule on it.
    case deleteInterface(node: String, name: String)
    case setDescription(String)
    case setName(String)

    /// What an edit removes besides what it names: the confirmation a delete shows first.
    public struct Removals: Sendable, Hashable {
        public var links: [Link] = []
        /// Names of the flows that go.
        public var flows: [String] = []
        /// Nodes whose MASQUERADE rule named the deleted interface (it is turned off).
        public var masquerade: [String] = []
        /// Nodes whose CHECKSUM rule was scoped to the deleted interface (`-o`; it is turned off).
        public var checksumFill: [String] = []

        public init(links: [Link] = [], flows: [String] = [], masquerade: [String] = [], checksumFill: [String] = []) {
            self.links = links
            self.flows = flows
            self.masquerade = masquerade
            self.checksumFill = checksumFill
        }

        public var isEmpty: Bool { links.isEmpty && flows.isEmpty && masquerade.isEmpty && checksumFill.isEmpty }

        /// One line per thing that goes: "link vm1:eth0 – tap1", "flow ssh", "masquerade on router".
        public var lines: [String] {
            links.map { "link \($0.a) – \($0.b)" } + flows.map { "flow \($0)" } + masquerade.map { "masquerade on \($0)" }
                + checksumFill.map { "checksum-fill on \($0)" }
        }

        /// "2 links, 1 flow" (empty when nothing goes).
        public var counts: String {
            func n(_ c: Int, _ word: String) -> String? { c == 0 ? nil : "\(c) \(word)\(c == 1 ? "" : "s")" }
            return [n(links.count, "link"), n(flows.count, "flow"), masquerade.isEmpty ? nil : "masquerade rule",
                    checksumFill.isEmpty ? nil : "checksum-fill rule"]
                .compactMap { $0 }.joined(separator: ", ")
        }
    }

    // MARK: Applying

    /// Apply the edit to `t`, or throw and leave `t` unchanged.
    public func apply(to t: inout Topology) throws(EditError) {
        var u = t
        try applyInPlace(&u)
        t = u
    }

    /// The edited topology, or the reason it cannot be made.
    public func applied(to t: Topology) throws(EditError) -> Topology {
        var u = t
        try applyInPlace(&u)
        return u
    }

    private func applyInPlace(_ t: inout Topology) throws(EditError) {
        switch self {
        case var .addNode(n):
            try Self.checkName(n.name, "node")
            if t.nodeIndex(named: n.name) != nil { throw EditError("a node named '\(n.name)' already exists") }
            if LinkRole.isSingleDevice(n.kind) {
                if n.interfaces.isEmpty { n.interfaces = [Interface(name: n.name)] }
                guard n.interfaces.count == 1, n.interfaces[0].name == n.name else {
                    throw EditError("a \(n.kind.name) has one interface, named like the node ('\(n.name)')")
                }
            } else {
                if case .veth = n.kind, n.interfaces.count != 2 {
                    throw EditError("veth '\(n.name)' must have exactly two ends, has \(n.interfaces.count)")
                }
                var seen: Set<String> = []
                for i in n.interfaces {
                    try Self.checkName(i.name, "interface")
                    if !seen.insert(i.name).inserted { throw EditError("'\(n.name)' has two interfaces named '\(i.name)'") }
                }
                if let m = n.masqueradeOn, !seen.contains(m) {
                    throw EditError("'masquerade' names '\(m)', which is not an interface of '\(n.name)'")
                }
                if let o = n.netfilter?.checksumFillOut, !seen.contains(o) {
                    throw EditError("'checksum-fill-out' names '\(o)', which is not an interface of '\(n.name)'")
                }
            }
            t.nodes.append(n)

        case let .deleteNode(name):
            let ni = try Self.index(of: name, in: t)
            let r = t.removals(of: self)
            t.nodes.remove(at: ni)
            t.links.removeAll { $0.a.node == name || $0.b.node == name }
            t.flows.removeAll { r.flows.contains($0.name) }

        case let .link(l):
            if let p = t.linkProblem(l.a, l.b) { throw EditError(p) }
            t.links.append(l)

        case let .unlink(l):
            guard let li = t.links.firstIndex(where: { Self.same($0, l) }) else {
                throw EditError("no link between \(l.a) and \(l.b)")
            }
            t.links.remove(at: li)

        case let .renameNode(from, to):
            let ni = try Self.index(of: from, in: t)
            if from == to { return }
            try Self.checkName(to, "node")
            if t.nodeIndex(named: to) != nil { throw EditError("a node named '\(to)' already exists") }
            t.nodes[ni].name = to
            if LinkRole.isSingleDevice(t.nodes[ni].kind) {
                for ii in t.nodes[ni].interfaces.indices where t.nodes[ni].interfaces[ii].name == from {
                    t.nodes[ni].interfaces[ii].name = to
                }
            }
            for li in t.links.indices {
                if t.links[li].a.node == from { t.links[li].a.node = to }
                if t.links[li].b.node == from { t.links[li].b.node = to }
            }
            for fi in t.flows.indices {
                if t.flows[fi].from == from { t.flows[fi].from = to }
                if t.flows[fi].to == from { t.flows[fi].to = to }
                if t.flows[fi].corruptAfter?.node == from { t.flows[fi].corruptAfter?.node = to }
                if t.flows[fi].frame.tap == from { t.flows[fi].frame.tap = to }
            }

        case let .renameInterface(node, from, to):
            let ni = try Self.index(of: node, in: t)
            let n = t.nodes[ni]
            if LinkRole.isSingleDevice(n.kind) {
                throw EditError("a \(n.kind.name) has one interface, named like the node: rename the node instead")
            }
            let ii = try Self.interfaceIndex(from, of: n)
            if from == to { return }
            try Self.checkName(to, "interface")
            if n.interface(named: to) != nil { throw EditError("'\(node)' already has an interface named '\(to)'") }
            t.nodes[ni].interfaces[ii].name = to
            let old = Endpoint(node: node, interface: from), new = Endpoint(node: node, interface: to)
            for li in t.links.indices {
                if t.links[li].a == old { t.links[li].a = new }
                if t.links[li].b == old { t.links[li].b = new }
            }
            for fi in t.flows.indices where t.flows[fi].corruptAfter == old { t.flows[fi].corruptAfter = new }
            t.nodes[ni].updateMasquerade { $0 == from ? to : $0 }
            t.updateVxlanUnderlays(of: node) { $0 == from ? to : $0 }

        case let .setAddresses(node, interface, nets):
            let (ni, ii) = try Self.addressable(node, interface, in: t)
            t.nodes[ni].interfaces[ii].addresses = nets

        case let .setGateway(node, interface, version, gateway):
            let (ni, ii) = try Self.addressable(node, interface, in: t)
            if let g = gateway, g.version != version {
                throw EditError("'\(version == .v4 ? "gateway" : "gateway6")' expects an IPv\(version.rawValue) address, got '\(g)'")
            }
            if version == .v4 { t.nodes[ni].interfaces[ii].gateway = gateway } else { t.nodes[ni].interfaces[ii].gateway6 = gateway }

        case let .addFlow(f):
            try Self.checkName(f.name, "flow")
            if t.flows.contains(where: { $0.name == f.name }) { throw EditError("a flow named '\(f.name)' already exists") }
            t.flows.append(f)

        case let .replaceFlow(name, f):
            guard let fi = t.flows.firstIndex(where: { $0.name == name }) else { throw EditError("no flow named '\(name)'") }
            if f.name != name {
                try Self.checkName(f.name, "flow")
                if t.flows.contains(where: { $0.name == f.name }) { throw EditError("a flow named '\(f.name)' already exists") }
            }
            t.flows[fi] = f

        case let .deleteFlow(name):
            guard let fi = t.flows.firstIndex(where: { $0.name == name }) else { throw EditError("no flow named '\(name)'") }
            t.flows.remove(at: fi)

        case let .setLabKernel(k):
            t.kernel = k

        case let .setNodeKernel(node, k):
            let ni = try Self.index(of: node, in: t)
            switch t.nodes[ni].kind {
            case .vm, .router: t.nodes[ni].kernel = k
            case .netns, .tap, .bridge, .veth, .hostNIC, .vxlan:
                throw EditError("a \(t.nodes[ni].kind.name) runs the lab's kernel: only vm and router nodes have a profile of their own")
            }

        case let .addInterface(node, i):
            let ni = try Self.index(of: node, in: t)
            try Self.checkInterfaceList(t.nodes[ni])
            try Self.checkName(i.name, "interface")
            if t.nodes[ni].interface(named: i.name) != nil { throw EditError("'\(node)' already has an interface named '\(i.name)'") }
            t.nodes[ni].interfaces.append(i)

        case let .deleteInterface(node, name):
            let ni = try Self.index(of: node, in: t)
            try Self.checkInterfaceList(t.nodes[ni])
            let ii = try Self.interfaceIndex(name, of: t.nodes[ni])
            let r = t.removals(of: self)
            t.nodes[ni].interfaces.remove(at: ii)
            let gone = Endpoint(node: node, interface: name)
            t.links.removeAll { $0.a == gone || $0.b == gone }
            t.flows.removeAll { r.flows.contains($0.name) }
            t.nodes[ni].updateMasquerade { $0 == name ? nil : $0 }
            t.updateVxlanUnderlays(of: node) { $0 == name ? nil : $0 }

        case let .setDescription(s):
            if let p = FreeTextRule.problem(s, multiline: true) { throw EditError("description: \(p)") }
            t.description = s

        case let .setName(s):
            if let p = FreeTextRule.problem(s, multiline: false) { throw EditError("lab name: \(p)") }
            t.name = s
        }
    }

    static func checkName(_ name: String, _ what: String) throws(EditError) {
        if let p = NameRule.problem(name) { throw EditError("invalid \(what) name '\(name)': \(p)") }
    }

    static func index(of name: String, in t: Topology) throws(EditError) -> Int {
        guard let ni = t.nodeIndex(named: name) else { throw EditError("no node named '\(name)'") }
        return ni
    }

    static func interfaceIndex(_ name: String, of n: Node) throws(EditError) -> Int {
        guard let ii = n.interfaceIndex(named: name) else {
            throw EditError("'\(n.name)' has no interface '\(name)' (it has: \(n.interfaces.map(\.name).joined(separator: ", ")))")
        }
        return ii
    }

    /// Interfaces can be added to and deleted from vm, netns and router nodes only.
    public static func checkInterfaceList(_ n: Node) throws(EditError) {
        switch n.kind {
        case .vm, .netns, .router: return
        case .veth: throw EditError("a veth pair has exactly two ends: rename them, or delete the pair")
        case .tap, .bridge, .hostNIC, .vxlan: throw EditError("a \(n.kind.name) has one interface, named like the node")
        }
    }

    /// The node and interface indexes of an interface that carries addresses.
    static func addressable(_ node: String, _ interface: String, in t: Topology) throws(EditError) -> (Int, Int) {
        let ni = try index(of: node, in: t)
        switch t.nodes[ni].kind {
        case .vm, .netns, .router: break
        case .tap, .bridge, .veth, .hostNIC, .vxlan:
            throw EditError("a \(t.nodes[ni].kind.name) has no addresses: they belong to the vm, netns or router interface it carries")
        }
        return (ni, try interfaceIndex(interface, of: t.nodes[ni]))
    }

    /// The same link, in either order.
    static func same(_ x: Link, _ y: Link) -> Bool {
        (x.a == y.a && x.b == y.b) || (x.a == y.b && x.b == y.a)
    }

    // MARK: Words

    /// One line for the status bar, in terms of `t`, the topology before the edit: "add bridge
    /// br3", "delete vm2 (2 links, 1 flow)", "rename vm1 → web". Names are not escaped.
    public func summary(in t: Topology) -> String {
        switch self {
        case let .addNode(n): return "add \(n.kindLabel) \(n.name)"
        case let .deleteNode(name):
            let c = t.removals(of: self).counts
            return "delete \(name)" + (c.isEmpty ? "" : " (\(c))")
        case let .link(l): return "link \(l.a) – \(l.b)"
        case let .unlink(l): return "unlink \(l.a) – \(l.b)"
        case let .renameNode(from, to): return "rename \(from) → \(to)"
        case let .renameInterface(node, from, to): return "rename \(node):\(from) → \(node):\(to)"
        case let .setAddresses(node, interface, nets):
            return nets.isEmpty ? "\(node):\(interface) no address" : "\(node):\(interface) address \(nets.map(\.description).joined(separator: ", "))"
        case let .setGateway(node, interface, version, g):
            let key = version == .v4 ? "gateway" : "gateway6"
            return g.map { "\(node):\(interface) \(key) \($0)" } ?? "\(node):\(interface) no \(key)"
        case let .addFlow(f): return "add flow \(f.name)"
        case let .replaceFlow(name, f): return name == f.name ? "edit flow \(name)" : "edit flow \(name) → \(f.name)"
        case let .deleteFlow(name): return "delete flow \(name)"
        case let .setLabKernel(k): return "lab kernel \(k?.rawValue ?? "default (\(KernelProfile.default.rawValue))")"
        case let .setNodeKernel(node, k): return "\(node) kernel \(k?.rawValue ?? "as the lab")"
        case let .addInterface(node, i): return "add interface \(node):\(i.name)"
        case let .deleteInterface(node, name):
            let c = t.removals(of: self).counts
            return "delete interface \(node):\(name)" + (c.isEmpty ? "" : " (\(c))")
        case .setDescription: return "edit description"
        case let .setName(s): return "rename lab → \(s)"
        }
    }

    /// For a `replaceFlow` that renames its flow: the old and new names, so what is keyed by
    /// flow name outside the topology (a file's expectations) can follow.
    public var flowRename: (from: String, to: String)? {
        if case let .replaceFlow(name, f) = self, name != f.name { return (name, f.name) }
        return nil
    }

    // MARK: Expectations across edits

    /// A leg name (a flow's `failedLeg`, or a file's expected `leg`) as it reads after this edit:
    /// a TCP flow's data legs name their hosts ("data vm1→vm2"), so a node rename renames them.
    /// Other names and other edits leave it unchanged.
    public func carry(leg: String) -> String {
        guard case let .renameNode(from, to) = self, leg.hasPrefix("data ") else { return leg }
        let hosts = leg.dropFirst("data ".count).split(separator: "→", omittingEmptySubsequences: false).map(String.init)
        guard hosts.count == 2, hosts.contains(from) else { return leg }
        return "data " + hosts.map { $0 == from ? to : $0 }.joined(separator: "→")
    }

    // MARK: Toggles across edits

    /// A `--set` assignment (`node.key=v`, `node.if.key=v`, `kernel=v`) as it reads after this
    /// edit: renamed when the edit renames the node or interface it names (including the value of
    /// `masquerade=IF`), nil when the edit deletes what it names, unchanged otherwise.
    public func carry(assignment: String) -> String? {
        guard let eq = assignment.firstIndex(of: "=") else { return assignment }
        var lhs = assignment[..<eq].split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        var value = String(assignment[assignment.index(after: eq)...])
        guard lhs.count == 2 || lhs.count == 3 else { return assignment }
        let masquerade = lhs.count == 2 && lhs[1] == "masquerade"
        switch self {
        case let .renameNode(from, to):
            guard lhs[0] == from else { return assignment }
            lhs[0] = to
        case let .renameInterface(node, from, to):
            guard lhs[0] == node else { return assignment }
            if lhs.count == 3, lhs[1] == from {
                lhs[1] = to
            } else if masquerade, value == from {
                value = to
            } else {
                return assignment
            }
        case let .deleteNode(name):
            return lhs[0] == name ? nil : assignment
        case let .deleteInterface(node, name):
            guard lhs[0] == node else { return assignment }
            if lhs.count == 3, lhs[1] == name { return nil }
            if masquerade, value == name { return nil }
            return assignment
        case .addNode, .link, .unlink, .setAddresses, .setGateway, .addFlow, .replaceFlow, .deleteFlow,
             .setLabKernel, .setNodeKernel, .addInterface, .setDescription, .setName:
            return assignment
        }
        return lhs.joined(separator: ".") + "=" + value
    }
}

extension Node {
    /// The kind as a menu or status line names it: "vm", "router (userspace in a vm)".
    public var kindLabel: String {
        guard case let .router(r) = kind else { return kind.name }
        switch r.flavour {
        case .netns: return "router (netns)"
        case .vm: return "router (vm)"
        case .userspace: return r.placement == .vm ? "router (userspace in a vm)" : "router (userspace in a netns)"
        }
    }

    /// Rewrite the interface a netns's or router's MASQUERADE rule and CHECKSUM rule (`-o`)
    /// name; nil removes the rule.
    mutating func updateMasquerade(_ f: (String) -> String?) {
        func update(_ nf: inout Netfilter) {
            if let m = nf.masqueradeOn { nf.masqueradeOn = f(m) }
            if let o = nf.checksumFillOut {
                nf.checksumFillOut = f(o)
                if nf.checksumFillOut == nil { nf.checksumFill = .off }
            }
        }
        switch kind {
        case var .netns(nf):
            update(&nf)
            kind = .netns(nf)
        case var .router(r):
            update(&r.netfilter)
            kind = .router(r)
        case .vm, .tap, .bridge, .veth, .hostNIC, .vxlan:
            return
        }
    }

    /// The node's netfilter rules (a netns host or a router), else nil.
    public var netfilter: Netfilter? {
        switch kind {
        case let .netns(nf): return nf
        case let .router(r): return r.netfilter
        case .vm, .tap, .bridge, .veth, .hostNIC, .vxlan: return nil
        }
    }

    /// The MASQUERADE rule's interface, if any.
    var masqueradeOn: String? {
        switch kind {
        case let .netns(nf): return nf.masqueradeOn
        case let .router(r): return r.netfilter.masqueradeOn
        case .vm, .tap, .bridge, .veth, .hostNIC, .vxlan: return nil
        }
    }
}
