import Wire

/// Why a setting cannot be applied.
public struct SettingError: Error, Equatable, Sendable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// One table of every setting a user can write in a topology file, pass to `--set`, or toggle in
/// the explorer. Parsing, `--set` and the UI all go through `Topology.set(_:)`, so a setting means
/// the same thing everywhere.
extension Topology {
    public static func parseBool(_ v: String) -> Bool? {
        switch v.lowercased() {
        case "on", "true", "yes", "1": return true
        case "off", "false", "no", "0": return false
        default: return nil
        }
    }

    static func bool(_ v: String, _ key: String) throws(SettingError) -> Bool {
        guard let b = parseBool(v) else { throw SettingError("'\(key)' expects on/off (or true/false), got '\(v)'") }
        return b
    }

    static func choice<E: RawRepresentable & CaseIterable>(_ v: String, _ key: String, _: E.Type) throws(SettingError) -> E where E.RawValue == String {
        guard let e = E(rawValue: v) else {
            throw SettingError("'\(key)' expects one of \(E.allCases.map(\.rawValue).joined(separator: ", ")), got '\(v)'")
        }
        return e
    }

    static func profile(_ v: String) throws(SettingError) -> KernelProfile {
        try choice(v, "kernel", KernelProfile.self)
    }

    static let featureKeys = Feature.allCases.map(\.rawValue) + ["tx", "rx", "sg", "tso", "gso", "gro", "tx-checksum-ip-generic"]
    static let netfilterKeys = ["masquerade", "conntrack", "conntrack-checksum", "drop-invalid", "checksum-fill", "checksum-fill-out", "checksum-fill-family"]
    static let addressKeys = ["address", "gateway", "gateway6"]

    /// Node-level setting names for a kind (excluding `kind`, `interfaces`, `ends`).
    public static func nodeSettingNames(_ kind: NodeKind) -> [String] {
        switch kind {
        case .vm: return ["kernel", "guest-csum", "guest-tso"] + TCPOptionSettings.keys
        // A namespace host does not forward: of the netfilter rules only CHECKSUM --checksum-fill
        // acts on what it sends; conntrack and NAT on a host's own traffic are not modelled.
        case .netns: return ["checksum-fill", "checksum-fill-out", "checksum-fill-family"] + TCPOptionSettings.keys
        case .tap: return ["vnet-hdr", "tun-csum", "tun-tso4", "tun-tso6", "mtu"] + featureKeys
        case .bridge: return ["br-netfilter", "promisc", "mtu"] + featureKeys
        case .veth: return []
        case .router: return ["flavour", "place", "vnet-hdr", "forwarding", "kernel", "guest-csum", "guest-tso"] + netfilterKeys + TCPOptionSettings.keys
        case .hostNIC: return ["remote", "remote6", "remote-gateway", "remote-gateway6", "mtu"] + featureKeys
        case .vxlan: return VxlanSettings.keys + ["mtu"] + featureKeys
        }
    }

    /// Interface-level setting names for a node.
    public static func interfaceSettingNames(_ node: Node) -> [String] {
        switch node.kind {
        case .vm: return addressKeys + ["mtu"] + featureKeys
        case let .router(r) where r.inVM: return addressKeys + ["mtu"] + featureKeys
        case .netns, .router: return addressKeys + ["mtu"]
        case .veth: return ["mtu"] + featureKeys
        case .tap, .bridge, .hostNIC, .vxlan: return []
        }
    }

    /// Apply `value` to `node[.interface].key`.
    public mutating func set(node nodeName: String, interface ifName: String?, key: String, value: String) throws(SettingError) {
        guard let ni = nodeIndex(named: nodeName) else {
            throw SettingError("no node named '\(nodeName)' (nodes: \(nodes.map(\.name).joined(separator: ", ")))")
        }
        try set(nodeAt: ni, interface: ifName, key: key, value: value)
    }

    /// Apply `value` to `key` of the node at index `ni` (or of its interface): no lookup by
    /// name, so loading a file with thousands of nodes stays linear.
    public mutating func set(nodeAt ni: Int, interface ifName: String?, key: String, value: String) throws(SettingError) {
        var node = nodes[ni]
        let nodeName = node.name
        if let ifName {
            guard let ii = node.interfaceIndex(named: ifName) else {
                throw SettingError("node '\(nodeName)' has no interface '\(ifName)' (it has: \(node.interfaces.map(\.name).joined(separator: ", ")))")
            }
            var i = node.interfaces[ii]
            let allowed = Self.interfaceSettingNames(node)
            if let f = Feature(named: key), allowed.contains(key) {
                i.features.requested[f] = try Self.bool(value, key)
            } else if key == "mtu", allowed.contains(key) {
                i.mtu = try Self.mtu(value, range: MTURule.range(node.kind))
            } else if allowed.contains(key) {
                try Self.setAddress(&i, key: key, value: value)
            } else if Feature(named: key) != nil, node.isHost {
                throw SettingError("'\(key)' is a feature of the device that carries \(nodeName):\(ifName) (its veth end, TAP or bridge), not of the namespace's interface; set it there")
            } else {
                throw SettingError("unknown interface setting '\(key)' for a \(node.kind.name) (expected one of: \(allowed.joined(separator: ", ")))")
            }
            node.interfaces[ii] = i
            nodes[ni] = node
            return
        }
        let allowed = Self.nodeSettingNames(node.kind)
        guard allowed.contains(key) else {
            var hint = ""
            if Feature(named: key) != nil, !node.interfaces.isEmpty {
                hint = "; features of a \(node.kind.name) belong to its interfaces: \(nodeName).<interface>.\(key)"
            }
            throw SettingError("unknown setting '\(key)' for a \(node.kind.name) (expected one of: \(allowed.isEmpty ? "none" : allowed.joined(separator: ", ")))\(hint)")
        }
        if let f = Feature(named: key) {
            node.features.requested[f] = try Self.bool(value, key)
            nodes[ni] = node
            return
        }
        if TCPOptionSettings.keys.contains(key) {
            try Self.setTCP(&node.tcp, key: key, value: value)
            nodes[ni] = node
            return
        }
        if key == "mtu" {
            node.mtu = try Self.mtu(value, range: MTURule.range(node.kind))
            nodes[ni] = node
            return
        }
        switch node.kind {
        case var .vm(v):
            switch key {
            case "kernel": node.kernel = try Self.profile(value)
            case "guest-csum": v.guestCsum = try Self.bool(value, key)
            default: v.guestTSO = try Self.bool(value, key)
            }
            node.kind = .vm(v)
        case var .netns(nf):
            try Self.setNetfilter(&nf, key: key, value: value, node: node)
            node.kind = .netns(nf)
        case var .tap(t):
            switch key {
            case "vnet-hdr": t.vnetHdr = try Self.bool(value, key)
            case "tun-csum": t.tunCsum = try Self.bool(value, key)
            case "tun-tso4": t.tunTSO4 = try Self.bool(value, key)
            default: t.tunTSO6 = try Self.bool(value, key)
            }
            node.kind = .tap(t)
        case var .router(r):
            switch key {
            case "flavour": r.flavour = try Self.choice(value, key, RouterSettings.Flavour.self)
            case "place": r.placement = try Self.choice(value, key, RouterSettings.Placement.self)
            case "vnet-hdr": r.vnetHdrAware = try Self.bool(value, key)
            case "forwarding": r.forwarding = try Self.choice(value, key, RouterSettings.Forwarding.self)
            case "kernel": node.kernel = try Self.profile(value)
            case "guest-csum": r.vm.guestCsum = try Self.bool(value, key)
            case "guest-tso": r.vm.guestTSO = try Self.bool(value, key)
            default: try Self.setNetfilter(&r.netfilter, key: key, value: value, node: node)
            }
            node.kind = .router(r)
        case var .hostNIC(h):
            guard let a = IPAddress(value) else { throw SettingError("'\(key)' expects an IP address, got '\(value)'") }
            switch key {
            case "remote": h.remoteAddress = a
            case "remote6": h.remoteAddress6 = a
            case "remote-gateway": h.remoteGateway = a
            default: h.remoteGateway6 = a
            }
            node.kind = .hostNIC(h)
        case var .vxlan(v):
            if Feature(named: key) == nil {
                try v.set(key, value)
                node.kind = .vxlan(v)
            }
        case .bridge:
            if key == "br-netfilter" { node.brNetfilter = try Self.bool(value, key) }
            if key == "promisc" { node.promisc = try Self.bool(value, key) }
        case .veth:
            break
        }
        nodes[ni] = node
    }

    static func setNetfilter(_ nf: inout Netfilter, key: String, value: String, node: Node) throws(SettingError) {
        switch key {
        case "masquerade":
            if let b = parseBool(value), !b { nf.masqueradeOn = nil; return }
            guard node.interface(named: value) != nil else {
                throw SettingError("'masquerade' expects one of \(node.name)'s interfaces (\(node.interfaces.map(\.name).joined(separator: ", "))) or off, got '\(value)'")
            }
            nf.masqueradeOn = value
        case "conntrack": nf.conntrack = try bool(value, key)
        case "conntrack-checksum": nf.conntrackChecksum = try bool(value, key)
        case "drop-invalid": nf.dropInvalid = try bool(value, key)
        case "checksum-fill-out":
            if value == "any" { nf.checksumFillOut = nil; return }
            guard node.interface(named: value) != nil else {
                throw SettingError("'checksum-fill-out' expects one of \(node.name)'s interfaces (\(node.interfaces.map(\.name).joined(separator: ", "))) or any, got '\(value)'")
            }
            nf.checksumFillOut = value
        case "checksum-fill-family": nf.checksumFillFamily = try choice(value, key, Netfilter.ChecksumFillFamily.self)
        default:
            if let b = parseBool(value) { nf.checksumFill = b ? .udp : .off; return }
            nf.checksumFill = try choice(value, key, Netfilter.ChecksumFill.self)
        }
    }

    static func setTCP(_ t: inout TCPOptionSettings, key: String, value: String) throws(SettingError) {
        switch key {
        case "tcp-timestamps": t.timestamps = try bool(value, key)
        case "sack": t.sack = try bool(value, key)
        case "window-scaling": t.windowScaling = try bool(value, key)
        default:
            let r = TCPOptionSettings.mssRange
            if value == "auto" { t.mss = nil; return }
            guard let n = Int(value), r.contains(n) else {
                throw SettingError("'mss' expects a number of bytes from \(r.lowerBound) to \(r.upperBound) (TCP_MAXSEG) or auto, got '\(value)'")
            }
            t.mss = n
        }
    }

    /// An MTU in bytes within the device's `min_mtu...max_mtu`, or `default` (nil).
    static func mtu(_ value: String, range r: ClosedRange<Int>) throws(SettingError) -> Int? {
        if value == "default" { return nil }
        guard let n = Int(value), r.contains(n) else {
            throw SettingError("'mtu' expects a number of bytes from \(r.lowerBound) to \(r.upperBound) (the device's min_mtu and max_mtu) or default, got '\(value)'")
        }
        return n
    }

    static func setAddress(_ i: inout Interface, key: String, value: String) throws(SettingError) {
        switch key {
        case "address":
            var nets: [IPNetwork] = []
            for part in value.split(separator: ",") {
                let t = String(part).trimmingCharacters(in: " ")
                guard t.contains("/"), let n = IPNetwork(t) else {
                    throw SettingError("'address' expects an address with prefix like 10.0.1.2/24 or fd00::2/64, got '\(t)'")
                }
                nets.append(n)
            }
            i.addresses = nets
        case "gateway":
            guard let a = IPAddress(value), a.version == .v4 else { throw SettingError("'gateway' expects an IPv4 address, got '\(value)'") }
            i.gateway = a
        default:
            guard let a = IPAddress(value), a.version == .v6 else { throw SettingError("'gateway6' expects an IPv6 address, got '\(value)'") }
            i.gateway6 = a
        }
    }

    /// Apply a `--set` argument: `NODE[.IF].SETTING=VALUE`.
    public mutating func apply(assignment: String) throws(SettingError) {
        guard let eq = assignment.firstIndex(of: "=") else {
            throw SettingError("'\(assignment)': expected NODE[.INTERFACE].SETTING=VALUE")
        }
        let lhs = assignment[..<eq].split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        let value = String(assignment[assignment.index(after: eq)...])
        switch lhs.count {
        case 1 where lhs[0] == "kernel":
            kernel = try Self.profile(value)
        case 2:
            try set(node: lhs[0], interface: nil, key: lhs[1], value: value)
        case 3:
            try set(node: lhs[0], interface: lhs[1], key: lhs[2], value: value)
        default:
            throw SettingError("'\(assignment)': expected NODE[.INTERFACE].SETTING=VALUE")
        }
    }

    /// Set the default profile of every node without its own (`--kernel`).
    public mutating func setDefaultKernel(_ k: KernelProfile) {
        kernel = k
    }
}

extension String {
    func trimmingCharacters(in set: Character) -> String {
        var s = Substring(self)
        while s.first == set { s = s.dropFirst() }
        while s.last == set { s = s.dropLast() }
        return String(s)
    }
}
