import Simulation
import Wire
import Yams

/// Turns a composed YAML tree into a `Topology`, collecting every error with its mark. Decodes
/// by hand (not `Codable`) so each value keeps its line and column.
struct Parser {
    let file: String
    var diagnostics: [Diagnostic] = []
    /// Where things were written: `node:NAME`, `iface:NODE:IF`, `link:I`, `link:I:E`,
    /// `flow:NAME`, `flow:NAME:KEY`, `set:NODE[:IF]:KEY`, `name`, `description`.
    var marks: [String: Mark] = [:]
    var expectations: [String: Expectation] = [:]

    init(file: String) {
        self.file = file
    }

    mutating func error(_ mark: Mark?, _ message: String) {
        diagnostics.append(Diagnostic(file: file, line: mark?.line ?? 1, column: mark?.column ?? 1, message: message))
    }

    /// Entries of a mapping with string keys, or an error.
    mutating func mapping(_ n: Yams.Node, _ what: String) -> [(key: String, keyMark: Mark?, value: Yams.Node)]? {
        guard case let .mapping(m) = n else {
            error(n.mark, "\(what) must be a mapping (key: value)")
            return nil
        }
        var out: [(String, Mark?, Yams.Node)] = []
        for (k, v) in m {
            guard case let .scalar(s) = k else {
                error(k.mark, "keys in \(what) must be plain names")
                continue
            }
            out.append((s.string, k.mark, v))
        }
        return out.map { (key: $0.0, keyMark: $0.1, value: $0.2) }
    }

    /// A scalar's text (a sequence of scalars is joined with commas: `address: [a, b]`).
    mutating func scalar(_ n: Yams.Node, _ what: String) -> String? {
        switch n {
        case let .scalar(s):
            return s.string
        case let .sequence(seq):
            var parts: [String] = []
            for item in seq {
                guard case let .scalar(s) = item else {
                    error(item.mark, "\(what) must be a value or a list of values")
                    return nil
                }
                parts.append(s.string)
            }
            return parts.joined(separator: ",")
        default:
            error(n.mark, "\(what) must be a value, not a mapping")
            return nil
        }
    }

    func unknown(_ key: String, in what: String, expected: [String]) -> String {
        "unknown key '\(key)' in \(what) (expected one of: \(expected.joined(separator: ", ")))"
    }

    // MARK: Top level

    mutating func topology(_ root: Yams.Node) -> Topology {
        var t = Topology(name: "")
        guard let entries = mapping(root, "the file") else { return t }
        let top = ["csumlab", "name", "description", "kernel", "nodes", "links", "flows"]
        var nodesNode: Yams.Node?, linksNode: Yams.Node?, flowsNode: Yams.Node?
        var sawVersion = false
        for e in entries {
            switch e.key {
            case "csumlab":
                sawVersion = true
                if scalar(e.value, "csumlab") != String(TopologyFile.formatVersion) {
                    error(e.value.mark, "unsupported format version: expected 'csumlab: \(TopologyFile.formatVersion)'")
                }
            case "name":
                t.name = scalar(e.value, "name") ?? ""
                marks["name"] = e.value.mark
            case "description":
                t.description = scalar(e.value, "description") ?? ""
                marks["description"] = e.value.mark
            case "kernel":
                if let v = scalar(e.value, "kernel") {
                    if let k = KernelProfile(rawValue: v) { t.kernel = k } else {
                        error(e.value.mark, "'kernel' expects one of \(KernelProfile.allCases.map(\.rawValue).joined(separator: ", ")), got '\(v)'")
                    }
                }
            case "nodes": nodesNode = e.value
            case "links": linksNode = e.value
            case "flows": flowsNode = e.value
            default: error(e.keyMark, unknown(e.key, in: "the file", expected: top))
            }
        }
        if !sawVersion { error(root.mark, "missing 'csumlab: \(TopologyFile.formatVersion)' (the format version)") }
        if t.name.isEmpty { t.name = baseName(file) }
        if let n = nodesNode { parseNodes(n, into: &t) } else { error(root.mark, "missing 'nodes'") }
        if let l = linksNode { parseLinks(l, into: &t) }
        if let f = flowsNode { parseFlows(f, into: &t) }
        return t
    }

    func baseName(_ path: String) -> String {
        var s = path.split(separator: "/").last.map(String.init) ?? path
        for ext in [".yaml", ".yml"] where s.hasSuffix(ext) { s.removeLast(ext.count) }
        return s
    }

    // MARK: Nodes

    mutating func parseNodes(_ n: Yams.Node, into t: inout Topology) {
        guard let entries = mapping(n, "'nodes'") else { return }
        var seen = Set<String>()
        for e in entries {
            marks["node:\(e.key)"] = e.keyMark
            guard let fields = mapping(e.value, "node '\(e.key)'") else { continue }
            guard let kindEntry = fields.first(where: { $0.key == "kind" }) else {
                error(e.keyMark, "node '\(e.key)' has no 'kind' (one of: \(NodeKind.allNames.joined(separator: ", ")))")
                continue
            }
            let kindName = scalar(kindEntry.value, "kind") ?? ""
            let kind: NodeKind
            switch kindName {
            case "vm": kind = .vm(VMSettings())
            case "netns": kind = .netns(Netfilter())
            case "tap": kind = .tap(TapSettings())
            case "bridge": kind = .bridge
            case "veth": kind = .veth
            case "router": kind = .router(RouterSettings())
            case "host-nic": kind = .hostNIC(HostNICSettings())
            case "vxlan": kind = .vxlan(VxlanSettings())
            case "geneve": kind = .vxlan(VxlanSettings(geneve: true))
            default:
                error(kindEntry.value.mark, "unknown kind '\(kindName)' (expected one of: \(NodeKind.allNames.joined(separator: ", ")))")
                continue
            }
            var node = Node(name: e.key, kind: kind)
            if case .tap = kind { node.interfaces = [Interface(name: e.key)] }
            if case .bridge = kind { node.interfaces = [Interface(name: e.key)] }
            if case .hostNIC = kind { node.interfaces = [Interface(name: e.key)] }
            if case .vxlan = kind { node.interfaces = [Interface(name: e.key)] }
            // Interfaces first: settings such as `masquerade` refer to them.
            let ifKey: String?
            switch kind {
            case .vm, .netns, .router: ifKey = "interfaces"
            case .veth: ifKey = "ends"
            case .tap, .bridge, .hostNIC, .vxlan: ifKey = nil
            }
            var ifSettings: [(iface: String, key: String, keyMark: Mark?, value: Yams.Node)] = []
            if let ifKey, let ifEntry = fields.first(where: { $0.key == ifKey }) {
                if let ifs = mapping(ifEntry.value, "'\(ifKey)' of '\(e.key)'") {
                    for i in ifs {
                        marks["iface:\(e.key):\(i.key)"] = i.keyMark
                        node.interfaces.append(Interface(name: i.key))
                        if case .scalar(let s) = i.value, ["", "~", "null"].contains(s.string) { continue }
                        guard let settings = mapping(i.value, "interface '\(e.key):\(i.key)'") else { continue }
                        for s in settings { ifSettings.append((i.key, s.key, s.keyMark, s.value)) }
                    }
                }
                if case .veth = kind, node.interfaces.count != 2 {
                    error(ifEntry.keyMark, "veth '\(e.key)' must have exactly two ends, has \(node.interfaces.count)")
                }
            } else if case .veth = kind {
                error(e.keyMark, "veth '\(e.key)' needs 'ends:' with its two interface names")
            }
            guard seen.insert(e.key).inserted else {
                error(e.keyMark, "duplicate node name '\(e.key)'")
                continue
            }
            let ni = t.nodes.count
            t.nodes.append(node)
            let structural = ["kind", ifKey].compactMap { $0 }
            for s in fields where !structural.contains(s.key) {
                if ["interfaces", "ends"].contains(s.key) {
                    error(s.keyMark, "a \(kindName) has no '\(s.key)'")
                    continue
                }
                guard let v = scalar(s.value, "'\(s.key)'") else { continue }
                marks["set:\(e.key):\(s.key)"] = s.value.mark
                do {
                    try t.set(nodeAt: ni, interface: nil, key: s.key, value: v)
                } catch {
                    let isUnknown = !Topology.nodeSettingNames(kind).contains(s.key)
                    self.error(isUnknown ? s.keyMark : s.value.mark, error.message)
                }
            }
            for s in ifSettings {
                guard let v = scalar(s.value, "'\(s.key)'") else { continue }
                marks["set:\(e.key):\(s.iface):\(s.key)"] = s.value.mark
                do {
                    try t.set(nodeAt: ni, interface: s.iface, key: s.key, value: v)
                } catch {
                    let isUnknown = !Topology.interfaceSettingNames(t.nodes[ni]).contains(s.key)
                    self.error(isUnknown ? s.keyMark : s.value.mark, error.message)
                }
            }
        }
    }

    // MARK: Links

    mutating func parseLinks(_ n: Yams.Node, into t: inout Topology) {
        guard case let .sequence(seq) = n else {
            error(n.mark, "'links' must be a list of '- endpoints: [\"a:eth0\", \"b\"]'")
            return
        }
        for (i, item) in seq.enumerated() {
            marks["link:\(i)"] = item.mark
            guard let fields = mapping(item, "link \(i + 1)") else { continue }
            var endpoints: [Endpoint] = []
            for f in fields {
                guard f.key == "endpoints" else {
                    error(f.keyMark, unknown(f.key, in: "a link", expected: ["endpoints"]))
                    continue
                }
                guard case let .sequence(eps) = f.value, eps.count == 2 else {
                    error(f.value.mark, "'endpoints' must list exactly two endpoints, like [\"vm1:eth0\", \"tap1\"]")
                    continue
                }
                for (j, ep) in eps.enumerated() {
                    marks["link:\(i):\(j)"] = ep.mark
                    guard case let .scalar(s) = ep, let e = Endpoint(s.string) else {
                        error(ep.mark, "an endpoint is 'node' or 'node:interface'")
                        continue
                    }
                    endpoints.append(e)
                }
            }
            if fields.first(where: { $0.key == "endpoints" }) == nil {
                error(item.mark, "a link needs 'endpoints'")
            }
            if endpoints.count == 2 { t.links.append(Link(endpoints[0], endpoints[1])) } else {
                // Keep indices aligned with marks: a placeholder the validator skips.
                t.links.append(Link(Endpoint(node: ""), Endpoint(node: "")))
            }
        }
    }

    // MARK: Flows

    mutating func parseFlows(_ n: Yams.Node, into t: inout Topology, what: String = "'flows'") {
        guard let entries = mapping(n, what) else { return }
        let keys = ["type", "from", "to", "ip", "port", "payload", "mss", "sender", "client", "corrupt-after", "corrupt-byte", "expect"] + FrameNames.flowKeys
        var seen = Set<String>()
        for e in entries {
            marks["flow:\(e.key)"] = e.keyMark
            guard let fields = mapping(e.value, "flow '\(e.key)'") else { continue }
            var kind: Flow.Kind?
            var from = "", to = ""
            for f in fields where f.key == "type" {
                let v = scalar(f.value, "type") ?? ""
                kind = Flow.Kind(rawValue: v)
                if kind == nil {
                    error(f.value.mark, "'type' expects one of \(Flow.Kind.allCases.map(\.rawValue).joined(separator: ", ")), got '\(v)'")
                }
            }
            if fields.first(where: { $0.key == "type" }) == nil {
                error(e.keyMark, "flow '\(e.key)' has no 'type' (one of: \(Flow.Kind.allCases.map(\.rawValue).joined(separator: ", ")))")
            }
            for f in fields where f.key == "from" || f.key == "to" {
                marks["flow:\(e.key):\(f.key)"] = f.value.mark
                let v = scalar(f.value, f.key) ?? ""
                if f.key == "from" { from = v } else { to = v }
            }
            if from.isEmpty { error(e.keyMark, "flow '\(e.key)' has no 'from'") }
            if to.isEmpty { error(e.keyMark, "flow '\(e.key)' has no 'to'") }
            var flow = Flow(name: e.key, kind: kind ?? .tcp, from: from, to: to)
            for f in fields {
                marks["flow:\(e.key):\(f.key)"] = f.value.mark
                switch f.key {
                case "type", "from", "to": break
                case "ip":
                    let v = scalar(f.value, "ip")
                    if v == "4" { flow.ipVersion = .v4 } else if v == "6" { flow.ipVersion = .v6 } else {
                        error(f.value.mark, "'ip' expects 4 or 6")
                    }
                case "port":
                    if let v = scalar(f.value, "port"), let p = UInt16(v), p > 0 { flow.port = p } else {
                        error(f.value.mark, "'port' expects a number from 1 to 65535")
                    }
                case "payload":
                    if let v = scalar(f.value, "payload"), let p = Int(v), (0...65000).contains(p) { flow.payload = p } else {
                        error(f.value.mark, "'payload' expects a byte count from 0 to 65000")
                    }
                case "mss":
                    if let v = scalar(f.value, "mss"), let m = Int(v), (88...9000).contains(m) { flow.mss = m } else {
                        error(f.value.mark, "'mss' expects a segment size from 88 to 9000 bytes")
                    }
                case "sender":
                    let v = scalar(f.value, "sender") ?? ""
                    if let m = Flow.SenderMode(rawValue: v) { flow.sender = m } else {
                        error(f.value.mark, "'sender' expects one of \(Flow.SenderMode.allCases.map(\.rawValue).joined(separator: ", ")), got '\(v)'")
                    }
                case "client":
                    let v = scalar(f.value, "client") ?? ""
                    if let m = Flow.DHCPClient(rawValue: v) { flow.dhcpClient = m } else {
                        error(f.value.mark, "'client' expects one of \(Flow.DHCPClient.allCases.map(\.rawValue).joined(separator: ", ")), got '\(v)'")
                    }
                case "corrupt-after":
                    if let v = scalar(f.value, "corrupt-after"), let ep = Endpoint(v) { flow.corruptAfter = ep } else {
                        error(f.value.mark, "'corrupt-after' expects 'node' or 'node:interface'")
                    }
                case "corrupt-byte":
                    if let v = scalar(f.value, "corrupt-byte"), let b = Int(v), b >= 0 { flow.corruptByte = b } else {
                        error(f.value.mark, "'corrupt-byte' expects a payload byte index (0 or more)")
                    }
                case "expect":
                    parseExpect(f.value, flow: e.key)
                case _ where FrameNames.flowKeys.contains(f.key):
                    if flow.kind != .frame { error(f.keyMark, "'\(f.key)' belongs to a 'type: frame' flow") }
                    _ = parseFrameKey(f.key, f.value, into: &flow)
                default:
                    error(f.keyMark, unknown(f.key, in: "a flow", expected: keys))
                }
            }
            if flow.kind == .frame && flow.frame.tap.isEmpty { error(e.keyMark, "frame flow '\(e.key)' has no 'tap' (the TAP whose fd writes it)") }
            if !seen.insert(e.key).inserted { error(e.keyMark, "duplicate flow name '\(e.key)'") }
            t.flows.append(flow)
        }
    }

    mutating func parseExpect(_ n: Yams.Node, flow: String) {
        let verdicts = Expectation.Verdict.allCases.map(\.rawValue).joined(separator: ", ")
        if case let .scalar(s) = n {
            guard let v = Expectation.Verdict(rawValue: s.string) else {
                return error(n.mark, "'expect' expects one of \(verdicts), or {verdict: fails, leg: NAME}")
            }
            expectations[flow] = Expectation(verdict: v)
            return
        }
        guard let fields = mapping(n, "'expect'") else { return }
        var exp = Expectation(verdict: .completes)
        var saw = false
        for f in fields {
            switch f.key {
            case "verdict":
                let v = scalar(f.value, "verdict") ?? ""
                if let x = Expectation.Verdict(rawValue: v) { exp.verdict = x; saw = true } else {
                    error(f.value.mark, "'verdict' expects one of \(verdicts), got '\(v)'")
                }
            case "leg":
                exp.leg = scalar(f.value, "leg")
                if let leg = exp.leg, let p = FreeTextRule.problem(leg, multiline: false) { error(f.value.mark, "'leg': \(p)") }
            default:
                error(f.keyMark, unknown(f.key, in: "'expect'", expected: ["verdict", "leg"]))
            }
        }
        if !saw { error(n.mark, "'expect' needs a 'verdict'") }
        expectations[flow] = exp
    }
}
