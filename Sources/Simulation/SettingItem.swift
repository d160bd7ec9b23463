/// One line of the settings menu (`o`): a setting of a node or of one of its interfaces, its
/// current value, what toggling it sets, and why it cannot apply (greyed out) when it cannot.
public struct SettingItem: Sendable, Hashable {
    public var node: String
    public var interface: String?
    public var key: String
    /// Shown value ("on", "off", "auto", "userspace"…).
    public var value: String
    /// What activating the item sets (nil when disabled).
    public var next: String?
    /// Why the setting cannot be changed or has no effect here.
    public var disabled: String?
    /// A dependent change the kernel made (`tx off ⇒ TSO off`).
    public var note: String?

    public var label: String { interface.map { "\($0) \(key)" } ?? key }

    /// The `--set` form of setting it to `v`.
    public func assignment(_ v: String) -> String {
        "\(node)\(interface.map { ".\($0)" } ?? "").\(key)=\(v)"
    }

    /// Every setting of a node the explorer can toggle, interface features first (they are the
    /// usual fix), then node settings. Addresses are not toggles and are left to the file.
    public static func items(for nodeName: String, topology t: Topology, trace: Trace) -> [SettingItem] {
        guard let node = t.node(named: nodeName) else { return [] }
        var out: [SettingItem] = []
        let interfaceKeys = Topology.interfaceSettingNames(node)
        if interfaceKeys.contains(Feature.txChecksumming.rawValue) {
            for i in node.interfaces {
                let device = deviceName(node: node, interface: i.name)
                out += featureItems(node: node.name, interface: i.name, device: device, trace: trace)
            }
        }
        let nodeKeys = Topology.nodeSettingNames(node.kind)
        for key in nodeKeys where Feature(rawValue: key) == nil && key != "mtu" && !["tx", "rx", "sg", "tso", "gso", "gro", "tx-checksum-ip-generic"].contains(key) {
            if let item = nodeItem(node, key: key, topology: t) { out.append(item) }
        }
        if nodeKeys.contains(Feature.txChecksumming.rawValue) {
            out += featureItems(node: node.name, interface: nil, device: node.name, trace: trace)
        }
        // MTUs last: the usual fixes (features, netfilter) keep their places in the menu.
        if nodeKeys.contains("mtu") {
            var choices = mtuChoices
            // A tunnel device: at most its underlay's MTU less the encapsulation (`default`).
            if case .vxlan = node.kind { choices = tunnelMTUChoices }
            out.append(mtuItem(node: node.name, interface: nil, node.mtu, choices: choices))
        }
        if interfaceKeys.contains("mtu") {
            for i in node.interfaces { out.append(mtuItem(node: node.name, interface: i.name, i.mtu)) }
        }
        return out
    }

    /// The name `Trace.devices` gives the device whose features `node[.interface]` sets: a
    /// veth end by its own name, a guest's or router's NIC as `node:if`, a single-device node
    /// (TAP, bridge, host NIC) by the node's name.
    public static func deviceName(node: Node, interface: String?) -> String {
        guard let interface else { return node.name }
        if case .veth = node.kind { return interface }
        return "\(node.name):\(interface)"
    }

    static func featureItems(node: String, interface: String?, device: String, trace: Trace) -> [SettingItem] {
        let d = trace.devices.first { $0.device == device }
        return Feature.allCases.map { f in
            let on = d?.on.contains(f) ?? false
            var item = SettingItem(node: node, interface: interface, key: f.rawValue, value: on ? "on" : "off", next: on ? "off" : "on")
            if let why = d?.fixedOff[f] {
                item.value = "off [fixed]"
                item.next = nil
                item.disabled = why
            }
            if let adj = d?.adjustments.first(where: { $0.feature == f }) {
                item.note = "kernel turned it off: \(adj.reason)"
            }
            return item
        }
    }

    static func bool(_ b: Bool) -> String { b ? "on" : "off" }

    static func cycle<E: RawRepresentable & CaseIterable>(_ v: E) -> String where E.RawValue == String, E: Equatable {
        let all = Array(E.allCases)
        let i = all.firstIndex(of: v) ?? all.startIndex
        return all[(i + 1) % all.count].rawValue
    }

    /// The MSS clamps the menu cycles through (`auto`: what the MTU gives).
    static let mssChoices = ["auto", "1400", "536"]

    /// A host's TCP option: its value with the profile's default filled in.
    static func tcpItem(_ node: Node, key: String, profile: KernelProfile) -> SettingItem {
        let r = node.tcp.resolved(profile)
        func boolItem(_ b: Bool?) -> SettingItem {
            let v = b ?? false
            return SettingItem(node: node.name, interface: nil, key: key, value: bool(v), next: bool(!v))
        }
        switch key {
        case "tcp-timestamps": return boolItem(r.timestamps)
        case "sack": return boolItem(r.sack)
        case "window-scaling": return boolItem(r.windowScaling)
        default:
            let cur = r.mss.map(String.init) ?? "auto"
            let i = mssChoices.firstIndex(of: cur) ?? 0
            return SettingItem(node: node.name, interface: nil, key: key, value: cur, next: mssChoices[(i + 1) % mssChoices.count])
        }
    }

    /// The MTUs the menu cycles through (`default`: 1500, or what the device it is placed at
    /// has): a jumbo-frame underlay, a VXLAN-style overlay (1500 − 50), IPv6's minimum.
    static let mtuChoices = ["default", "9000", "1450", "1280"]

    /// A tunnel device's: below the derived default (1450 over a 1500 IPv4 underlay).
    static let tunnelMTUChoices = ["default", "1400", "1280"]

    static func mtuItem(node: String, interface: String?, _ mtu: Int?, choices: [String] = mtuChoices) -> SettingItem {
        let cur = mtu.map(String.init) ?? "default"
        let i = choices.firstIndex(of: cur) ?? -1
        return SettingItem(node: node, interface: interface, key: "mtu", value: cur, next: choices[(i + 1) % choices.count])
    }

    static func nodeItem(_ node: Node, key: String, topology t: Topology) -> SettingItem? {
        func item(_ value: String, _ next: String?, disabled: String? = nil) -> SettingItem {
            SettingItem(node: node.name, interface: nil, key: key, value: value, next: disabled == nil ? next : nil, disabled: disabled)
        }
        func boolItem(_ b: Bool, disabled: String? = nil) -> SettingItem { item(bool(b), bool(!b), disabled: disabled) }
        func optionalBool(_ b: Bool?) -> SettingItem { item(b.map(bool) ?? "auto", bool(!(b ?? true))) }
        func netfilter(_ nf: Netfilter, disabled: String?) -> SettingItem? {
            switch key {
            case "masquerade":
                let choices = ["off"] + node.interfaces.map(\.name)
                let cur = nf.masqueradeOn ?? "off"
                let i = choices.firstIndex(of: cur) ?? 0
                return item(cur, choices[(i + 1) % choices.count], disabled: disabled)
            case "conntrack": return boolItem(nf.conntrack, disabled: disabled)
            case "conntrack-checksum": return boolItem(nf.conntrackChecksum, disabled: disabled)
            case "drop-invalid": return boolItem(nf.dropInvalid, disabled: disabled)
            case "checksum-fill": return item(nf.checksumFill.rawValue, cycle(nf.checksumFill), disabled: disabled)
            case "checksum-fill-family": return item(nf.checksumFillFamily.rawValue, cycle(nf.checksumFillFamily), disabled: disabled)
            case "checksum-fill-out":
                let choices = ["any"] + node.interfaces.map(\.name)
                let cur = nf.checksumFillOut ?? "any"
                let i = choices.firstIndex(of: cur) ?? 0
                return item(cur, choices[(i + 1) % choices.count], disabled: disabled)
            default: return nil
            }
        }
        let kernel = t.profile(of: node)
        if TCPOptionSettings.keys.contains(key) { return tcpItem(node, key: key, profile: kernel) }
        let kernels = KernelProfile.allCases
        let nextKernel = kernels[((kernels.firstIndex(of: kernel) ?? 0) + 1) % kernels.count].rawValue
        switch node.kind {
        case let .vm(v):
            switch key {
            case "kernel": return item(kernel.rawValue, nextKernel)
            case "guest-csum": return boolItem(v.guestCsum)
            case "guest-tso": return boolItem(v.guestTSO)
            default: return nil
            }
        case let .netns(nf):
            return netfilter(nf, disabled: nil)
        case let .tap(s):
            switch key {
            case "vnet-hdr": return boolItem(s.vnetHdr)
            case "tun-csum": return optionalBool(s.tunCsum)
            case "tun-tso4": return optionalBool(s.tunTSO4)
            case "tun-tso6": return optionalBool(s.tunTSO6)
            default: return nil
            }
        case let .router(r):
            let notUserspace = r.flavour == .userspace ? nil : "only for a userspace forwarder (flavour userspace)"
            let notVM = r.inVM ? nil : "only when the router runs in a VM"
            switch key {
            case "flavour": return item(r.flavour.rawValue, cycle(r.flavour))
            case "place": return item(r.placement.rawValue, cycle(r.placement), disabled: notUserspace)
            case "vnet-hdr": return boolItem(r.vnetHdrAware, disabled: notUserspace)
            case "forwarding": return item(r.forwarding.rawValue, cycle(r.forwarding))
            case "kernel": return item(kernel.rawValue, nextKernel, disabled: notVM)
            case "guest-csum": return boolItem(r.vm.guestCsum, disabled: notVM)
            case "guest-tso": return boolItem(r.vm.guestTSO, disabled: notVM)
            default:
                return netfilter(r.netfilter, disabled: r.flavour == .userspace ? "a userspace forwarder does not pass the router's netfilter" : nil)
            }
        case let .vxlan(v):
            switch key {
            case "udpcsum": return optionalBool(v.udpCsum)
            case "outer-masquerade": return boolItem(v.outerMasquerade)
            case "udp6zerocsumtx": return boolItem(v.udp6ZeroCsumTx, disabled: v.overIPv6 || v.geneve ? nil : "applies over an IPv6 underlay")
            case "udp6zerocsumrx": return boolItem(v.udp6ZeroCsumRx, disabled: v.overIPv6 ? nil : "applies over an IPv6 underlay")
            case "vni": return item(String(v.vni), nil)
            case "local": return item(v.local.map { "\($0)" } ?? "-", nil)
            case "remote": return item(v.remote.map { "\($0)" } ?? "-", nil)
            case "dstport": return item(String(v.dstPort), nil)
            case "underlay": return item(v.underlay ?? "-", nil)
            default: return nil
            }
        case .bridge:
            switch key {
            case "br-netfilter": return boolItem(node.brNetfilter ?? true)
            case "promisc": return boolItem(node.promisc ?? false)
            default: return nil
            }
        case .veth, .hostNIC:
            return nil
        }
    }
}
