import Simulation

/// A shell script that builds a lab's kernel side on a real Linux host and tears it down again:
/// the steps `csumlab verify` takes (`LabPlan.buildSteps`, same namespaces, kernel names, MACs,
/// addresses, routes, neighbours, netfilter rules and offload settings), written as `ip`,
/// `ethtool`, `nft`/`iptables` and `sysctl` commands. What commands cannot build — QEMU guests
/// and userspace forwarders — is written as comments: the exact QEMU options and what the
/// forwarder does. Pure: renders text, runs nothing.
///
/// Everything happens inside namespaces named `prefix + role`; the host namespace is not touched.
/// TAPs are persistent (`ip tuntap add … vnet_hdr`), so they stand without a reader; QEMU sets
/// their TUNSETOFFLOAD flags when it attaches (the guest's negotiated features).
public enum LabScript {
    public static let defaultPrefix = "csumlab-"

    /// The script for `plan`. `effective`: the simulator's effective features by device name.
    public static func render(_ plan: LabPlan, effective: [String: Set<Feature>], prefix: String = defaultPrefix) throws(LabError) -> String {
        let steps = try plan.buildSteps(effective: effective)
        let t = plan.topology
        func ns(_ role: String) -> String { prefix + role }
        var up: [String] = []
        var taps: [(role: String, name: String)] = []
        for step in steps {
            switch step {
            case let .namespace(role, ipv6):
                up.append("ip netns add \(ns(role))")
                up.append("ip -n \(ns(role)) link set dev lo up")
                if !ipv6 {
                    up.append(exec(ns(role), ["sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1"]))
                    up.append(exec(ns(role), ["sysctl", "-qw", "net.ipv6.conf.default.disable_ipv6=1"]))
                }
            case let .sysctl(s):
                up.append(exec(ns(s.role), ["sysctl", "-qw", "\(s.key)=\(s.value)"]))
            case let .bridge(role, name, mac):
                up.append(ip(ns(role), LabBuilder.bridgeArgs(name, mac: mac)))
            case let .tap(role, name, vnetHeader, offloads, mac, guestMAC):
                taps.append((role, name))
                var c = "# TAP \(plan.shown(role: role, device: name))"
                if let g = guestMAC { c += " for the guest NIC \(g)" }
                c += ": QEMU sets TUNSETOFFLOAD \(offloads.names.isEmpty ? "0" : offloads.names.joined(separator: "|")) when it attaches"
                up.append(c)
                up.append(ip(ns(role), ["tuntap", "add", "dev", name, "mode", "tap"] + (vnetHeader ? ["vnet_hdr"] : [])))
                up.append(ip(ns(role), ["link", "set", "dev", name, "address", mac]))
            case let .veth(roleA, nameA, macA, roleB, nameB, macB):
                up.append(ip(ns(roleA), LabBuilder.vethArgs(nameA, macA: macA, nameB, macB: macB, peerNamespace: ns(roleB))))
            case let .up(role, device, master):
                if let m = master { up.append(ip(ns(role), ["link", "set", "dev", device, "master", m])) }
                up.append(ip(ns(role), ["link", "set", "dev", device, "up"]))
            case let .feature(role, device, f, on):
                up.append("offload \(ns(role)) \(device) " + FeatureNames.ethtool(f).map { "\($0) \(on ? "on" : "off")" }.joined(separator: " "))
            case let .ip(c):
                up.append(ip(ns(c.role), c.argv))
            case let .exec(c):
                up.append(exec(ns(c.role), c.argv))
            case let .router(_, r):
                up += routerComment(r, namespace: ns(r.role))
            }
        }
        // As verify does after reading the kernel's result: the model's effective features where
        // the kernel lets them change (a fixed feature keeps its value; `offload` says so).
        let settle = plan.devices.values.sorted { $0.graphID < $1.graphID }.filter { plan.graph.devices[$0.graphID].kind != .hostNIC }
        if !settle.isEmpty {
            up.append("# The simulator's effective features on every device (verify settles them the same way).")
            for r in settle {
                let on = effective[r.simName] ?? []
                up.append("offload \(ns(r.role)) \(r.name) " + Feature.allCases.flatMap { f in FeatureNames.ethtool(f).map { "\($0) \(on.contains(f) ? "on" : "off")" } }.joined(separator: " "))
            }
        }

        var out = """
        #!/bin/sh
        # csumlab export --format script: \(oneLine(t.name))
        # Builds this lab's kernel side on a real Linux host (as root; needs ip, ethtool, sysctl,
        # nft and iptables, and br_netfilter loaded for a lab with bridges) inside network
        # namespaces named \(prefix)*; the host's own namespace is not touched.
        # `sh THIS up` builds, `sh THIS down` removes everything `up` made.
        # Names are the ones `csumlab verify` uses (KernelNames): n<i>-<node> namespaces for hosts
        # and routers, hub for bridges, TAPs and host-side veth ends, d<id>-<name> devices.

        """
        for ns0 in plan.namespaces {
            out += "#   \(ns(ns0.role))" + (ns0.node.map { " = node \(oneLine($0))" } ?? (ns0.role == LabPlan.hub ? " = bridges, TAPs, host-side veth ends" : "")) + "\n"
        }
        for d in plan.devices.values.sorted(by: { $0.graphID < $1.graphID }) {
            out += "#   \(ns(d.role)) \(d.name) = \(oneLine(d.simName))\n"
        }
        for (node, why) in plan.unsupported.sorted(by: { $0.key < $1.key }) {
            out += "# Not reproduced: \(oneLine(node)): \(oneLine(why))\n"
        }
        for n in plan.notes { out += "# Note: \(oneLine(n))\n" }
        out += """
        set -e

        # offload NAMESPACE DEVICE FEATURE on|off...: ethtool -K; a feature the driver keeps fixed is reported, not fatal.
        offload() {
            ns=$1; dev=$2; shift 2
            ip netns exec "$ns" ethtool -K "$dev" "$@" >/dev/null 2>&1 || echo "note: $ns $dev: ethtool -K $* did not change every feature (fixed by the driver)" >&2
        }

        up() {

        """
        // The model's bridges pass bridged IPv4/IPv6 through br_netfilter unless a bridge says
        // `br-netfilter: off` (and the sysctls that turn it off exist only with the module).
        if plan.devices.values.contains(where: { plan.graph.devices[$0.graphID].kind == .bridge }) {
            out += "    [ -e /proc/sys/net/bridge/bridge-nf-call-iptables ] || { echo \"br_netfilter is not loaded: modprobe br_netfilter (the lab's bridges pass IPv4/IPv6 through it, as on the verify kernel)\" >&2; exit 1; }\n"
        }
        out += up.map { "    " + $0 + "\n" }.joined()
        out += "}\n\n"
        out += vmComments(plan, prefix: prefix)
        out += "down() {\n"
        for tap in taps.reversed() {
            out += "    " + ip(ns(tap.role), ["tuntap", "del", "dev", tap.name, "mode", "tap"]) + " 2>/dev/null || true\n"
        }
        for n in plan.namespaces.reversed() {
            out += "    ip netns del \(ns(n.role)) 2>/dev/null || true\n"
        }
        out += "}\n\n"
        out += """
        case "${1:-up}" in
            up) up ;;
            down) down ;;
            *) echo "usage: $0 up|down" >&2; exit 64 ;;
        esac

        """
        return out
    }

    /// `ip -n NS ARGS...`, quoted for the shell.
    static func ip(_ ns: String, _ argv: [String]) -> String {
        (["ip", "-n", ns] + argv).map(shellQuoted).joined(separator: " ")
    }

    /// `ip netns exec NS ARGS...`, quoted for the shell.
    static func exec(_ ns: String, _ argv: [String]) -> String {
        (["ip", "netns", "exec", ns] + argv).map(shellQuoted).joined(separator: " ")
    }

    /// A word as the shell reads it back: bare when it holds only safe characters, else in
    /// single quotes (a `'` inside written as `'\''`).
    public static func shellQuoted(_ w: String) -> String {
        let safe = !w.isEmpty && w.unicodeScalars.allSatisfy { $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || "-_./:=,+@%".unicodeScalars.contains($0)) }
        if safe { return w }
        return "'" + w.replacingAll("'", with: "'\\''") + "'"
    }

    /// Text from the file on one comment line: control characters (a newline would end the
    /// comment and make the rest a command) shown as `?`.
    static func oneLine(_ s: String) -> String {
        String(String.UnicodeScalarView(s.unicodeScalars.map { $0.properties.generalCategory == .control ? "?" : $0 }))
    }

    /// What a userspace router or router VM stand-in does, as comments.
    static func routerComment(_ r: LabPlan.Router, namespace: String) -> [String] {
        var out = ["# \(oneLine(r.node)): a userspace forwarder runs here (in \(namespace)); commands cannot build it. It:"]
        switch r.mode {
        case .l3: out.append("#   routes by destination address: frames to its port's MAC, TTL − 1, IP header checksum updated, new MACs;")
        case .l2: out.append("#   copies every frame unchanged to its other ports (a switch);")
        }
        switch r.header {
        case .drop: out.append("#   is not vnet-header aware: reads bare bytes and writes frames with no header (or a zero one), so a PARTIAL checksum leaves unfinished;")
        case .keep: out.append("#   keeps the virtio_net_hdr it reads (PACKET_VNET_HDR on AF_PACKET ports, IFF_VNET_HDR on TAPs) and writes it with the frame;")
        case .guest: out.append("#   is a Linux router guest: its virtio-net keeps NEEDS_CSUM and GSO and never sends DATA_VALID;")
        }
        for p in r.ports {
            out.append("#   port \(p.name): \(p.kind == "tap" ? "TAP fd" : "AF_PACKET socket")\(p.vnetHeader ? " with vnet header" : ""), MAC \(p.mac)")
        }
        for rt in r.routes {
            out.append("#   route \(rt.destination) → port \(rt.port), next hop \(rt.nextHopMAC)")
        }
        return out
    }

    /// The QEMU command line parts for each VM (and router VM) NIC, as comments.
    static func vmComments(_ plan: LabPlan, prefix: String) -> String {
        let g = plan.graph
        var out = ""
        for (ni, n) in plan.topology.nodes.enumerated() {
            let settings: VMSettings
            switch n.kind {
            case let .vm(v): settings = v
            case let .router(r):
                guard r.inVM else { continue }
                settings = r.vm
            case .netns, .tap, .bridge, .veth, .hostNIC, .vxlan: continue
            }
            out += "# VM \(oneLine(n.name)) (\(oneLine(n.kind.name)), kernel \(plan.topology.profile(of: n).rawValue)): start it with QEMU in the TAPs' namespace, e.g.\n"
            var args: [String] = []
            var guest: [String] = []
            for (ii, i) in n.interfaces.enumerated() {
                guard let d = g.deviceOf(node: ni, iface: ii), g.devices[d].kind == .virtio, let t = g.devices[d].peer,
                      let tap = plan.devices[t], case let .tap(ts) = g.devices[t].kind else { continue }
                let on = { (b: Bool) in b ? "on" : "off" }
                let tso = settings.guestCsum && settings.guestTSO
                args.append("-netdev tap,id=net\(ii),ifname=\(tap.name),script=no,downscript=no,vnet_hdr=\(on(ts.vnetHdr))")
                args.append("-device virtio-net-pci,netdev=net\(ii),mac=\(MAC.format(g.devices[d].mac)),csum=on,guest_csum=\(on(settings.guestCsum)),guest_tso4=\(on(tso)),guest_tso6=\(on(tso))")
                for a in i.addresses { guest.append("ip addr add \(a) dev \(oneLine(i.name))") }
                if let gw = i.gateway { guest.append("ip route replace default via \(gw)") }
                if let gw = i.gateway6 { guest.append("ip -6 route replace default via \(gw)") }
                for (f, v) in i.features.requested.sorted(by: { $0.key.rawValue < $1.key.rawValue }) {
                    guest.append("ethtool -K \(oneLine(i.name)) \(f.shortName) \(v ? "on" : "off")")
                }
            }
            let ns = plan.taps(ofVM: n.name).first.map { prefix + $0.role } ?? prefix + LabPlan.hub
            out += "#   ip netns exec \(ns) qemu-system-x86_64 -enable-kvm -m 1024 -nographic DISK \\\n"
            out += args.map { "#     \($0)" }.joined(separator: " \\\n") + "\n"
            if !guest.isEmpty {
                out += "#   inside the guest:\n" + guest.map { "#     \($0)\n" }.joined()
            }
            if case .router = n.kind {
                out += "#     sysctl -w net.ipv4.ip_forward=1\n"
            }
        }
        return out.isEmpty ? "" : out + "\n"
    }
}
