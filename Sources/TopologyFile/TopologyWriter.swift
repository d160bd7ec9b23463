import Simulation
import Wire

/// Writes a topology back as a topology file, in the layout of the shipped labs: `csumlab: 1`,
/// name, a folded description, `nodes:` with one line per simple device (`tap1: {kind: tap}`)
/// and a block per host, `links:` in the brief `endpoints:` form, then `flows:`. Only settings
/// that differ from their defaults are written, so a lab reads as a person would write it.
///
/// The output loads back to the same model (`TopologyFile.parse(write(t)) == t`, tested for
/// every shipped lab). Yams keeps no comments, so comments of a hand-written file are not
/// carried over; callers that overwrite a file say so first.
public enum TopologyWriter {
    /// Wrap width of the folded description.
    static let width = 96

    public static func yaml(_ t: Topology, expectations: [String: Expectation] = [:]) -> String {
        var out: [String] = ["csumlab: \(TopologyFile.formatVersion)"]
        if !t.name.isEmpty { out.append("name: \(quoted(t.name))") }
        if !t.description.isEmpty { out += description(t.description) }
        if let k = t.kernel { out.append("kernel: \(k.rawValue)") }
        out.append(t.nodes.isEmpty ? "nodes: {}" : "nodes:")
        for n in t.nodes { out += node(n) }
        if !t.links.isEmpty {
            out.append("links:")
            for l in t.links {
                out.append("  - endpoints: [\(doubleQuoted(l.a.description)), \(doubleQuoted(l.b.description))]")
            }
        }
        if !t.flows.isEmpty {
            out.append("flows:")
            for f in t.flows { out += flow(f, expectation: expectations[f.name]) }
        }
        return out.joined(separator: "\n") + "\n"
    }

    // MARK: Description

    /// A folded block (`>-`) when the text survives folding unchanged (one paragraph, single
    /// spaces, no tabs or controls); otherwise a double-quoted scalar, which keeps anything.
    static func description(_ text: String) -> [String] {
        let foldable = !text.isEmpty && !text.contains("  ") && !text.hasPrefix(" ") && !text.hasSuffix(" ")
            && !text.unicodeScalars.contains { $0.value < 0x20 || $0.value == 0x7F }
        guard foldable else { return ["description: \(doubleQuoted(text))"] }
        var lines: [String] = []
        var line = ""
        for word in text.split(separator: " ", omittingEmptySubsequences: false) {
            if line.isEmpty {
                line = String(word)
            } else if line.count + 1 + word.count > width - 2 {
                lines.append(line)
                line = String(word)
            } else {
                line += " " + word
            }
        }
        lines.append(line)
        return ["description: >-"] + lines.map { "  " + $0 }
    }

    // MARK: Nodes

    static func node(_ n: Node) -> [String] {
        // As the shipped labs write them: kind, a router's flavour, the kernel, then the rest.
        var fields: [(String, String)] = [("kind", n.kind.name)]
        var settings = nodeSettings(n)
        if case .router = n.kind, let i = settings.firstIndex(where: { $0.0 == "flavour" }) { fields.append(settings.remove(at: i)) }
        if let k = n.kernel { fields.append(("kernel", k.rawValue)) }
        fields += settings
        fields += features(n.features)
        let name = "  \(quoted(n.name)):"
        switch n.kind {
        case .hostNIC where fields.count > 1, .vxlan:
            // A host NIC with its remote host: a block, as the shipped labs write it.
            return [name] + fields.map { "    \($0.0): \($0.1)" }
        case .tap, .bridge, .hostNIC:
            return [name + " " + inline(fields)]
        case .veth:
            let ends = n.interfaces.map { "\(quoted($0.name)): \(inline(interfaceFields($0)))" }
            return [name + " " + inline(fields + [("ends", "{" + ends.joined(separator: ", ") + "}")])]
        case .vm, .netns, .router:
            var out = [name] + fields.map { "    \($0.0): \($0.1)" }
            out.append(n.interfaces.isEmpty ? "    interfaces: {}" : "    interfaces:")
            for i in n.interfaces {
                out.append("      \(quoted(i.name)): \(inline(interfaceFields(i)))")
            }
            return out
        }
    }

    static func nodeSettings(_ n: Node) -> [(String, String)] {
        var f: [(String, String)] = []
        func vm(_ v: VMSettings) {
            if !v.guestCsum { f.append(("guest-csum", "off")) }
            if !v.guestTSO { f.append(("guest-tso", "off")) }
        }
        func netfilter(_ nf: Netfilter) {
            if let m = nf.masqueradeOn { f.append(("masquerade", quoted(m))) }
            if nf.conntrack { f.append(("conntrack", "on")) }
            if !nf.conntrackChecksum { f.append(("conntrack-checksum", "off")) }
            if nf.dropInvalid { f.append(("drop-invalid", "on")) }
            if nf.checksumFill != .off { f.append(("checksum-fill", nf.checksumFill.rawValue)) }
            if let o = nf.checksumFillOut { f.append(("checksum-fill-out", quoted(o))) }
            if nf.checksumFillFamily != .ipv4 { f.append(("checksum-fill-family", nf.checksumFillFamily.rawValue)) }
        }
        switch n.kind {
        case let .vm(v):
            vm(v)
        case let .netns(nf):
            netfilter(nf)
        case let .tap(s):
            if !s.vnetHdr { f.append(("vnet-hdr", "off")) }
            for (key, v) in [("tun-csum", s.tunCsum), ("tun-tso4", s.tunTSO4), ("tun-tso6", s.tunTSO6)] {
                if let v { f.append((key, onOff(v))) }
            }
        case .bridge:
            if let b = n.brNetfilter { f.append(("br-netfilter", onOff(b))) }
            if let b = n.promisc { f.append(("promisc", onOff(b))) }
        case .veth:
            break
        case let .router(r):
            f.append(("flavour", r.flavour.rawValue))
            if r.placement != .netns || r.flavour == .userspace { f.append(("place", r.placement.rawValue)) }
            if r.vnetHdrAware || r.flavour == .userspace { f.append(("vnet-hdr", onOff(r.vnetHdrAware))) }
            if r.forwarding != .l3 { f.append(("forwarding", r.forwarding.rawValue)) }
            vm(r.vm)
            netfilter(r.netfilter)
        case let .vxlan(v):
            f.append(("vni", String(v.vni)))
            if let a = v.local { f.append(("local", quoted(a.description))) }
            if let a = v.remote { f.append(("remote", quoted(a.description))) }
            if v.dstPort != VxlanSettings.defaultPort(geneve: v.geneve) { f.append(("dstport", String(v.dstPort))) }
            if let u = v.underlay { f.append(("underlay", quoted(u))) }
            if let b = v.udpCsum { f.append(("udpcsum", onOff(b))) }
            if v.outerMasquerade { f.append(("outer-masquerade", "on")) }
            if v.udp6ZeroCsumTx { f.append(("udp6zerocsumtx", "on")) }
            if v.udp6ZeroCsumRx { f.append(("udp6zerocsumrx", "on")) }
        case let .hostNIC(h):
            for (key, a) in [("remote", h.remoteAddress), ("remote6", h.remoteAddress6),
                             ("remote-gateway", h.remoteGateway), ("remote-gateway6", h.remoteGateway6)] {
                if let a { f.append((key, quoted(a.description))) }
            }
        }
        if let m = n.mtu { f.append(("mtu", String(m))) }
        return f + tcpSettings(n.tcp)
    }

    /// A host's TCP options as the file sets them (only those given).
    static func tcpSettings(_ t: TCPOptionSettings) -> [(String, String)] {
        var f: [(String, String)] = []
        if let b = t.timestamps { f.append(("tcp-timestamps", onOff(b))) }
        if let b = t.sack { f.append(("sack", onOff(b))) }
        if let b = t.windowScaling { f.append(("window-scaling", onOff(b))) }
        if let m = t.mss { f.append(("mss", String(m))) }
        return f
    }

    static func interfaceFields(_ i: Interface) -> [(String, String)] {
        var f: [(String, String)] = []
        switch i.addresses.count {
        case 0: break
        case 1: f.append(("address", quoted(i.addresses[0].description)))
        default: f.append(("address", "[" + i.addresses.map { quoted($0.description) }.joined(separator: ", ") + "]"))
        }
        if let g = i.gateway { f.append(("gateway", quoted(g.description))) }
        if let g = i.gateway6 { f.append(("gateway6", quoted(g.description))) }
        if let m = i.mtu { f.append(("mtu", String(m))) }
        return f + features(i.features)
    }

    /// Requested features by their `ethtool -K` short names, in `Feature` order.
    static func features(_ fs: Features) -> [(String, String)] {
        Feature.allCases.compactMap { f in fs.requested[f].map { (f.shortName, onOff($0)) } }
    }

    // MARK: Flows

    static func flow(_ f: Flow, expectation: Expectation?) -> [String] {
        var fields: [(String, String)] = [("type", f.kind.rawValue), ("from", quoted(f.from)), ("to", quoted(f.to))]
        if f.ipVersion == .v6 { fields.append(("ip", "6")) }
        let defaultPort = Flow(name: "", kind: f.kind, from: "", to: "").port
        if f.kind == .tcp || f.kind == .udp || f.kind == .frame || f.port != defaultPort { fields.append(("port", String(f.port))) }
        if f.payloadGiven { fields.append(("payload", String(f.payload))) }
        if let m = f.mss { fields.append(("mss", String(m))) }
        if f.sender != .offloaded { fields.append(("sender", f.sender.rawValue)) }
        // A DHCP flow says which client it models (the shipped labs always do); others only when set.
        if f.kind == .dhcp || f.dhcpClient != .raw { fields.append(("client", f.dhcpClient.rawValue)) }
        if let c = f.corruptAfter { fields.append(("corrupt-after", quoted(c.description))) }
        if f.corruptByte != 0 || f.corruptAfter != nil { fields.append(("corrupt-byte", String(f.corruptByte))) }
        if f.kind == .frame { fields += frameFields(f.frame) }
        if let e = expectation {
            if let leg = e.leg {
                fields.append(("expect", "{verdict: \(e.verdict.rawValue), leg: \(quoted(leg))}"))
            } else {
                fields.append(("expect", e.verdict.rawValue))
            }
        }
        return ["  \(quoted(f.name)):"] + fields.map { "    \($0.0): \($0.1)" }
    }

    /// A frame flow's TAP, frame and virtio header (`hex` instead of the built frame's keys when given).
    static func frameFields(_ j: FrameInjection) -> [(String, String)] {
        var fields: [(String, String)] = [("tap", quoted(j.tap))]
        if let b = j.bytes {
            fields.append(("hex", FrameNames.hex(b)))
        } else {
            fields.append(("protocol", j.proto == .tcp ? "tcp" : "udp"))
            if j.sourcePort != FrameInjection().sourcePort { fields.append(("source-port", String(j.sourcePort))) }
            fields.append(("checksum", j.checksum.rawValue))
        }
        let h = j.vnet
        var v: [(String, String)] = []
        if h.flags != 0 { v.append(("flags", FrameNames.flagList(h.flags))) }
        if h.gsoType & 0x7F != 0 { v.append(("gso-type", FrameNames.gsoName(h.gsoType))) }
        if h.gsoType & 0x80 != 0 { v.append(("ecn", "true")) }
        if h.gsoSize != 0 { v.append(("gso-size", String(h.gsoSize))) }
        if h.hdrLen != 0 { v.append(("hdr-len", String(h.hdrLen))) }
        if h.csumStart != 0 || h.csumOffset != 0 { v += [("csum-start", String(h.csumStart)), ("csum-offset", String(h.csumOffset))] }
        fields.append(("vnet", inline(v)))
        return fields
    }

    // MARK: Scalars

    static func inline(_ fields: [(String, String)]) -> String {
        "{" + fields.map { "\($0.0): \($0.1)" }.joined(separator: ", ") + "}"
    }

    static func onOff(_ b: Bool) -> String { b ? "on" : "off" }

    /// Words YAML 1.1 or 1.2 readers turn into booleans, nulls or numbers.
    static let reserved: Set<String> = ["true", "false", "yes", "no", "on", "off", "y", "n", "null", "~"]

    /// A plain scalar when it is one unambiguously (letters, digits, `-`, `_`, `.`, `/`; not a
    /// number, a boolean or null word, nor starting with `-` or `.`), else double-quoted.
    /// IPv6 addresses hold `:` and are quoted.
    static func quoted(_ s: String) -> String {
        let plainChars = !s.isEmpty && s.unicodeScalars.allSatisfy { c in
            c.properties.isAlphabetic || ("0"..."9").contains(c) || c == "-" || c == "_" || c == "." || c == "/"
        }
        let first = s.unicodeScalars.first
        let looksNumeric = Int(s) != nil || Double(s) != nil
        if plainChars, !reserved.contains(s.lowercased()), !looksNumeric, first != "-", first != "." {
            return s
        }
        return doubleQuoted(s)
    }

    static func doubleQuoted(_ s: String) -> String {
        var out = "\""
        for c in s.unicodeScalars {
            switch c {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            default:
                if c.value < 0x20 || c.value == 0x7F || (0x80...0x9F).contains(c.value) {
                    let hex = String(c.value, radix: 16)
                    out += "\\x" + (hex.count < 2 ? "0" + hex : hex)
                } else {
                    out.unicodeScalars.append(c)
                }
            }
        }
        return out + "\""
    }
}
