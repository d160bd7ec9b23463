/// The real commands behind one setting: what to type on the host, in a namespace, in a guest,
/// or on the QEMU command line to put a lab into the state a `NODE[.IF].KEY=VALUE` assignment
/// describes. Shared by the explorer's commands view and `csumlab fix`.
public enum HostCommands {
    /// The commands for one `NODE[.IF].KEY=VALUE` assignment.
    public static func lines(for a: String, in t: Topology) -> [String] {
        guard let eq = a.firstIndex(of: "=") else { return [] }
        let lhs = a[..<eq].split(separator: ".").map(String.init)
        let value = String(a[a.index(after: eq)...])
        if lhs == ["kernel"] { return ["run the host on a \(value) kernel (taps, bridges, veths and namespaces follow it)"] }
        guard lhs.count >= 2, let node = t.node(named: lhs[0]) else { return [] }
        let iface = lhs.count == 3 ? lhs[1] : nil
        let key = lhs.last!
        if let f = Feature(named: key) {
            let onOff = Topology.parseBool(value) == false ? "off" : "on"
            let short = f.shortName
            switch node.kind {
            case .vm:
                return ["inside \(node.name): ethtool -K \(iface ?? "eth0") \(short) \(onOff)"]
            case .router:
                return ["inside the router VM \(node.name): ethtool -K \(iface ?? "eth0") \(short) \(onOff)"]
            case .veth:
                let end = iface ?? node.name
                // An end linked to a namespace or netns router is that namespace's interface.
                for l in t.links {
                    for (mine, other) in [(l.a, l.b), (l.b, l.a)] where mine.node == node.name && mine.interface == end {
                        guard let peer = t.node(named: other.node) else { continue }
                        switch peer.kind {
                        case .netns, .router:
                            return ["ip netns exec \(peer.name) ethtool -K \(other.interface ?? end) \(short) \(onOff)"]
                        case .vm, .tap, .bridge, .veth, .hostNIC, .vxlan:
                            break
                        }
                    }
                }
                return ["ethtool -K \(end) \(short) \(onOff)"]
            case .vxlan:
                let ns = t.links.lazy.compactMap { l in l.a.node == node.name ? l.b.node : (l.b.node == node.name ? l.a.node : nil) }.first
                return [(ns.map { "ip netns exec \($0) " } ?? "") + "ethtool -K \(node.name) \(short) \(onOff)"]
            case .netns, .tap, .bridge, .hostNIC:
                return ["ethtool -K \(node.name) \(short) \(onOff)"]
            }
        }
        let on = Topology.parseBool(value) ?? true
        switch (node.kind, key) {
        case (.vm, "guest-csum"), (.router, "guest-csum"):
            return ["QEMU: -device virtio-net-pci,netdev=…,guest_csum=\(on ? "on" : "off")"]
        case (.vm, "guest-tso"), (.router, "guest-tso"):
            let v = on ? "on" : "off"
            return ["QEMU: -device virtio-net-pci,netdev=…,guest_tso4=\(v),guest_tso6=\(v)"]
        case (.vm, "kernel"), (.router, "kernel"):
            return ["boot \(node.name) with a \(value) kernel"]
        case (.tap, "vnet-hdr"):
            return ["QEMU: -netdev tap,id=…,ifname=\(node.name),vnet_hdr=\(on ? "on" : "off")",
                    "(a program: open /dev/net/tun with\(on ? "" : "out") IFF_VNET_HDR)"]
        case (.tap, "tun-csum"), (.tap, "tun-tso4"), (.tap, "tun-tso6"):
            let flag = "TUN_F_" + key.dropFirst(4).uppercased()
            return ["ioctl(fd, TUNSETOFFLOAD, flags \(on ? "|" : "& ~")\(flag)) on \(node.name)'s fd (QEMU does this from the guest's offer)"]
        case (.bridge, "br-netfilter"):
            return brNetfilterLines(node, on: on, in: t)
        case (.bridge, "promisc"):
            let exec = bridgeNamespace(node.name, in: t).map { "ip netns exec \($0) " } ?? ""
            return [exec + "ip link set dev \(node.name) promisc \(on ? "on" : "off")",
                    on ? "(what tcpdump -i \(node.name) does while it runs; tcpdump -p leaves it off)" : "(and capture with tcpdump -p, which does not turn it on)"]
        case (.router, "flavour"):
            switch value {
            case "netns":
                return ["ip netns add \(node.name)",
                        "ip link set <each router end> netns \(node.name)",
                        "ip netns exec \(node.name) sysctl -w net.ipv4.ip_forward=1",
                        "(stop the userspace forwarder: the kernel forwards now)"]
            case "vm":
                return ["run \(node.name) as a Linux guest (QEMU, one virtio-net NIC per TAP) with net.ipv4.ip_forward=1"]
            default:
                return ["run a userspace forwarder on AF_PACKET sockets in \(node.name) (bmv2, Click, a custom router)"]
            }
        case (.router, "vnet-hdr"):
            return ["forwarder: setsockopt(fd, SOL_PACKET, PACKET_VNET_HDR, \(on ? 1 : 0)) on each AF_PACKET socket"]
        case (.router, "place"):
            return ["run the forwarder in a \(value == "vm" ? "VM" : "network namespace")"]
        case let (.vxlan(v), k):
            let ns = t.links.lazy.compactMap { l in l.a.node == node.name ? l.b.node : (l.b.node == node.name ? l.a.node : nil) }.first
            let n = ns.map { "ip netns exec \($0) " } ?? ""
            if k == "outer-masquerade" {
                return ["\(n)iptables -t nat -\(on ? "A" : "D") POSTROUTING -p udp --dport \(v.dstPort) -j MASQUERADE --random-fully"]
            }
            var w = v
            try? w.set(k, value)
            var csum = w.udpCsum.map { $0 ? " udpcsum" : " noudpcsum" } ?? ""
            if w.udp6ZeroCsumTx { csum += " udp6zerocsumtx" }
            if w.udp6ZeroCsumRx { csum += " udp6zerocsumrx" }
            return ["\(n)ip link del \(node.name)",
                    w.geneve ? "\(n)ip link add \(node.name) type geneve id \(w.vni) remote \(w.remote.map { "\($0)" } ?? "…") dstport \(w.dstPort)\(csum)"
                        : "\(n)ip link add \(node.name) type vxlan id \(w.vni) local \(w.local.map { "\($0)" } ?? "…") remote \(w.remote.map { "\($0)" } ?? "…") dstport \(w.dstPort) dev \(w.underlay ?? "…")\(csum)",
                    "(the tunnel's settings, udpcsum among them, cannot be changed on a live device: delete and re-add it, then set its address and bring it up again)"]
        case (.router, "forwarding"):
            return [value == "l2" ? "forward as a switch (no TTL or MAC rewrite)" : "route (TTL − 1, MAC rewrite)"]
        default:
            break
        }
        let ns = "ip netns exec \(node.name) "
        switch key {
        case "masquerade":
            return value == "off" ? ["\(ns)iptables -t nat -D POSTROUTING -o … -j MASQUERADE"]
                                  : ["\(ns)iptables -t nat -A POSTROUTING -o \(value) -j MASQUERADE"]
        case "checksum-fill", "checksum-fill-out", "checksum-fill-family":
            let nf = node.netfilter ?? Netfilter()
            let fill = key == "checksum-fill" ? Netfilter.ChecksumFill(rawValue: value) ?? (on ? .udp : .off) : nf.checksumFill
            let out = key == "checksum-fill-out" ? (value == "any" ? nil : value) : nf.checksumFillOut
            let family = key == "checksum-fill-family" ? Netfilter.ChecksumFillFamily(rawValue: value) ?? nf.checksumFillFamily : nf.checksumFillFamily
            guard fill != .off else { return family.commands.map { "\(ns)\($0) -t mangle -D POSTROUTING … -j CHECKSUM --checksum-fill" } }
            let match = Netfilter.checksumFillMatch(fill, out: out).map { " " + $0 }.joined()
            return family.commands.map { "\(ns)\($0) -t mangle -A POSTROUTING\(match) -j CHECKSUM --checksum-fill" }
        case "conntrack-checksum":
            return ["\(ns)sysctl -w net.netfilter.nf_conntrack_checksum=\(on ? 1 : 0)"]
        case "drop-invalid":
            return ["\(ns)iptables -\(on ? "A" : "D") FORWARD -m conntrack --ctstate INVALID -j DROP"]
        case "conntrack":
            return ["\(ns)iptables -\(on ? "A" : "D") FORWARD -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT   (loads conntrack)"]
        default:
            return []
        }
    }

    /// `br-netfilter` on one bridge. The sysctls are per namespace (since 5.3) and cover every
    /// bridge in it; a bridge's own `nf_call_iptables` turns it back on for that bridge alone
    /// (br_nf_pre_routing skips only when both are off) — what verify does too
    /// (`LabPlan.bridgeNetfilterSteps`).
    static func brNetfilterLines(_ bridge: Node, on: Bool, in t: Topology) -> [String] {
        let ns = bridgeNamespace(bridge.name, in: t)
        let exec = ns.map { "ip netns exec \($0) " } ?? ""
        let others = t.nodes.filter { n in
            guard case .bridge = n.kind, n.name != bridge.name else { return false }
            return bridgeNamespace(n.name, in: t) == ns
        }
        func option(_ name: String, _ v: Int) -> String { exec + "ip link set dev \(name) type bridge nf_call_iptables \(v) nf_call_ip6tables \(v)" }
        let sysctl = { (v: Int) in exec + "sysctl -w net.bridge.bridge-nf-call-iptables=\(v) net.bridge.bridge-nf-call-ip6tables=\(v)" }
        var lines: [String] = []
        if on {
            let keptOff = others.filter { $0.brNetfilter == false }.map(\.name)
            lines.append("modprobe br_netfilter   (on the host: the module serves every namespace)")
            if keptOff.isEmpty {
                lines += [sysctl(1), "(or this bridge alone: \(option(bridge.name, 1)))"]
            } else {
                lines.append(option(bridge.name, 1) + "   (the namespace's sysctls stay 0: \(keptOff.joined(separator: ", ")) keep\(keptOff.count == 1 ? "s" : "") it off)")
            }
        } else {
            lines += [sysctl(0) + "   (every bridge of the namespace; or do not load br_netfilter)", option(bridge.name, 0)]
            for o in others where o.brNetfilter != false { lines.append(option(o.name, 1) + "   (\(o.name) keeps it)") }
            lines.append("(iptables/nftables rules then no longer see \(bridge.name)'s bridged traffic: Docker's and kube-proxy's rules rely on them)")
        }
        if t.hostKernel != .linux6 {
            lines.append("(before 5.3 the bridge-nf-call sysctls are the host's, one for every namespace: \(t.hostKernel.rawValue) has no per-namespace copy)")
        }
        return lines
    }

    /// The namespace a bridge is placed in: the netns or router whose interface it is linked
    /// to (nil: the host's own).
    static func bridgeNamespace(_ bridge: String, in t: Topology) -> String? {
        for l in t.links {
            for (mine, other) in [(l.a, l.b), (l.b, l.a)] where mine.node == bridge {
                guard let n = t.node(named: other.node) else { continue }
                switch n.kind {
                case .netns, .router: return n.name
                case .vm, .tap, .bridge, .veth, .hostNIC, .vxlan: continue
                }
            }
        }
        return nil
    }
}
