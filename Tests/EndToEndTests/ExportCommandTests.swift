@testable import csumlab
import KernelLab
import ProcessSpawn
import Simulation
import Testing
import TopologyFile
import TraceReport

#if canImport(Glibc)
import Glibc
#endif

let dotPath = ProcessSpawn.Spawn.which("dot")

/// Reads back the DOT this project writes: statements `"a" [attrs];` and `"a" -- "b" [attrs];`
/// with double-quoted ids, written from the DOT grammar for these tests (quoted strings with
/// `\"` and `\\`, attribute lists of `key=value` separated by commas).
struct DotReader {
    var nodes: [String: [String: String]] = [:]
    var edges: [(String, String, [String: String])] = []
    var graphName = ""

    struct Problem: Error, CustomStringConvertible { var description: String }

    init(_ text: String) throws {
        var s = Substring(text)
        func skipSpace() { s = s.drop { $0 == " " || $0 == "\n" || $0 == "\t" } }
        func quoted() throws -> String {
            skipSpace()
            guard s.first == "\"" else { throw Problem(description: "expected a quoted id at \(s.prefix(20))") }
            s = s.dropFirst()
            var out = ""
            while let c = s.first {
                s = s.dropFirst()
                if c == "\"" { return out }
                if c == "\\" {
                    guard let n = s.first else { break }
                    s = s.dropFirst()
                    out.append(n == "n" ? "\n" : n)
                } else {
                    out.append(c)
                }
            }
            throw Problem(description: "unterminated string")
        }
        func word() -> String {
            skipSpace()
            let w = s.prefix { $0.isLetter || $0.isNumber || $0 == "_" || $0 == "." }
            s = s.dropFirst(w.count)
            return String(w)
        }
        func value() throws -> String {
            skipSpace()
            return s.first == "\"" ? try quoted() : word()
        }
        func attributes() throws -> [String: String] {
            skipSpace()
            guard s.first == "[" else { return [:] }
            s = s.dropFirst()
            var out: [String: String] = [:]
            while true {
                skipSpace()
                if s.first == "]" { s = s.dropFirst(); return out }
                let k = word()
                skipSpace()
                guard s.first == "=" else { throw Problem(description: "expected = after \(k)") }
                s = s.dropFirst()
                out[k] = try value()
                skipSpace()
                if s.first == "," { s = s.dropFirst() }
            }
        }
        func semicolon() throws {
            skipSpace()
            guard s.first == ";" else { throw Problem(description: "expected ; at \(s.prefix(20))") }
            s = s.dropFirst()
        }
        guard word() == "graph" else { throw Problem(description: "not an undirected graph") }
        graphName = try quoted()
        skipSpace()
        guard s.first == "{" else { throw Problem(description: "expected {") }
        s = s.dropFirst()
        while true {
            skipSpace()
            if s.first == "}" { s = s.dropFirst(); break }
            if s.first == "\"" {
                let a = try quoted()
                skipSpace()
                if s.hasPrefix("--") {
                    s = s.dropFirst(2)
                    let b = try quoted()
                    edges.append((a, b, try attributes()))
                } else {
                    nodes[a] = try attributes()
                }
            } else {
                _ = word()  // graph / node / edge defaults
                _ = try attributes()
            }
            try semicolon()
        }
        skipSpace()
        guard s.isEmpty else { throw Problem(description: "text after the graph") }
    }
}

/// `csumlab export`: DOT and Mermaid read back structurally (every node and link, names escaped),
/// rendered by Graphviz when it is installed; the script's syntax, names, and a root round trip.
@Suite struct ExportCommandTests {
    static func lab(_ name: String) -> String { packageRoot + "/topologies/" + name + ".yaml" }

    /// A lab whose names use other scripts and marks, and a description with quotes, a
    /// backslash, `#`, `<`, and a newline.
    static func unicodeLab() -> Topology {
        var t = Topology(name: "ラボ-\"1\"", description: "a \"quoted\" \\ lab # <b>\nsecond line")
        t.nodes = [
            Node(name: "虚拟机", kind: .vm(VMSettings()), interfaces: [Interface(name: "eth0")]),
            Node(name: "tap_ü", kind: .tap(TapSettings())),
            Node(name: "мост", kind: .bridge),
            Node(name: "ναι", kind: .netns(Netfilter()), interfaces: [Interface(name: "eth0")]),
            Node(name: "veth-é", kind: .veth),
            Node(name: "router٣", kind: .router(RouterSettings()), interfaces: [Interface(name: "a"), Interface(name: "b")]),
            Node(name: "nic", kind: .hostNIC(HostNICSettings())),
        ]
        t.links = [
            Link(Endpoint(node: "虚拟机", interface: "eth0"), Endpoint(node: "tap_ü")),
            Link(Endpoint(node: "tap_ü"), Endpoint(node: "мост")),
            Link(Endpoint(node: "мост"), Endpoint(node: "veth-é")),
            Link(Endpoint(node: "veth-é"), Endpoint(node: "ναι", interface: "eth0")),
        ]
        return t
    }

    @Test func dotHasEveryNodeAndLinkWithNamesIntact() throws {
        for t in [Self.unicodeLab(), try TopologyFile.load(path: Self.lab("nat-masquerade")).topology] {
            let g = try DotReader(GraphExport.render(t, format: .dot))
            #expect(g.graphName == t.name)
            #expect(Set(g.nodes.keys) == Set(t.nodes.map(\.name)))
            for n in t.nodes { #expect(g.nodes[n.name]?["shape"] == GraphExport.dotShape(n.kind)) }
            #expect(Set(t.nodes.map { GraphExport.dotShape($0.kind) }).count == Set(t.nodes.map(\.kind.name)).count, "one shape per kind")
            #expect(g.edges.count == t.links.count)
            for (e, l) in zip(g.edges, t.links) {
                #expect(e.0 == l.a.node && e.1 == l.b.node)
                #expect(e.2["taillabel"] == l.a.interface)
                #expect(e.2["headlabel"] == l.b.interface)
            }
        }
    }

    /// With --flow, a link is coloured by the state after the first leg's last step on one of its
    /// nodes (worked out here from the trace), grey and dashed when the leg did not cross it.
    @Test(arguments: ["seed-routed-userspace", "nofix-tx-off-vm1-only", "conntrack-invalid"])
    func dotColoursLinksByTheFirstLegsState(_ name: String) throws {
        let t = try TopologyFile.load(path: Self.lab(name)).topology
        let flow = try #require(try Simulator(t).run().flows.first)
        let g = try DotReader(GraphExport.render(t, format: .dot, flow: flow))
        let steps = try #require(flow.legs.first).steps
        var coloured = 0
        for e in g.edges {
            var expected: ChecksumCondition?
            for i in steps.indices.dropLast() where Set([steps[i].element, steps[i + 1].element]) == Set([e.0, e.1]) {
                expected = steps[i].condition
            }
            if let c = expected {
                #expect(e.2["label"] == c.rawValue)
                #expect(e.2["color"] == GraphExport.dotColor(c))
                coloured += 1
            } else {
                #expect(e.2["color"] == "gray" && e.2["style"] == "dashed")
            }
        }
        #expect(coloured > 0)
        #expect(Set(ChecksumCondition.allCases.map(GraphExport.dotColor)).count == ChecksumCondition.allCases.count)
    }

    @Test func mermaidHasEveryNodeAndLinkWithNamesIntact() throws {
        let t = Self.unicodeLab()
        let text = GraphExport.render(t, format: .mermaid)
        let lines = text.split(separator: "\n").map(String.init)
        // Front matter, then the graph header.
        #expect(lines.prefix(3).first == "---" && lines[2] == "---")
        #expect(lines[1].hasPrefix("title: \"") && lines[1].hasSuffix("\""))
        #expect(lines[3] == "graph LR")
        func unescape(_ s: String) -> String {
            var out = s
            for (k, v) in [("#quot;", "\""), ("#35;", "#"), ("#lt;", "<"), ("#gt;", ">"), ("#amp;", "&")] { out = out.replacingOccurrences(k, v) }
            return out
        }
        // Node lines: `  nK` + shape + `"label"` + shape; ids are ASCII, labels quoted.
        var labels: [String: String] = [:]
        for l in lines.dropFirst(4) where l.hasPrefix("  n") && !l.contains("---") {
            let body = l.dropFirst(2)
            let id = String(body.prefix { $0.isASCII && ($0.isLetter || $0.isNumber) })
            let q = body.split(separator: "\"", omittingEmptySubsequences: false)
            #expect(q.count == 3, "one quoted label in \(l)")
            labels[id] = unescape(String(q[1]))
        }
        #expect(labels.count == t.nodes.count)
        #expect(Set(labels.values) == Set(t.nodes.map { "\($0.name) (\($0.kind.name))" }))
        let links = lines.filter { $0.contains(" ---") }
        #expect(links.count == t.links.count)
        for (line, l) in zip(links, t.links) {
            let ids = line.split(separator: " ").filter { $0.hasPrefix("n") && $0.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber) } }.map(String.init)
            #expect(ids.count == 2)
            #expect(ids.first.flatMap { labels[$0] }?.hasPrefix(l.a.node + " (") == true)
            #expect(ids.last.flatMap { labels[$0] }?.hasPrefix(l.b.node + " (") == true)
        }
        // Nothing from a name or the description reaches the text unquoted.
        #expect(!text.contains("<b>"))
    }

    @Test func mermaidLinkStylesMatchTheFlow() throws {
        let t = try TopologyFile.load(path: Self.lab("seed-routed-userspace")).topology
        let flow = try #require(try Simulator(t).run().flows.first)
        let text = GraphExport.render(t, format: .mermaid, flow: flow)
        let styles = text.split(separator: "\n").filter { $0.hasPrefix("  linkStyle ") }
        #expect(styles.count == t.links.count)
        for (i, s) in styles.enumerated() { #expect(s.hasPrefix("  linkStyle \(i) stroke:")) }
    }

    @Test func commandLine() throws {
        let e = try #require(try Csumlab.parseAsRoot(["export", "lab.yaml", "--format", "mermaid", "--flow", "ssh"]) as? ExportCommand)
        #expect(e.format == .mermaid && e.options.flow == "ssh")
        #expect(throws: (any Error).self) { try Csumlab.parseAsRoot(["export", "lab.yaml", "--format", "svg"]) }
        #expect(throws: (any Error).self) { try Csumlab.parseAsRoot(["export", "lab.yaml"]) }
        #expect(throws: (any Error).self) { try Csumlab.parseAsRoot(["export", "lab.yaml", "--format", "script", "--prefix", "a b"]) }
        let t = try #require(try Csumlab.parseAsRoot(["trace", "lab.yaml", "--pcapng", "out.pcapng"]) as? TraceCommand)
        #expect(t.pcapng == "out.pcapng")
    }

    @Test func quotingSurvivesHostileText() {
        #expect(GraphExport.dotQuoted("a\"b\\c\nd\u{7}") == "\"a\\\"b\\\\c\\nd\"")
        #expect(GraphExport.mermaidQuoted("a\"b#<c>&\n") == "\"a#quot;b#35;#lt;c#gt;#amp;<br>\"")
        #expect(LabScript.shellQuoted("it's; rm -rf /") == "'it'\\''s; rm -rf /'")
        #expect(LabScript.shellQuoted("d7-vethA-r") == "d7-vethA-r")
    }

    /// Graphviz renders what `csumlab export --format dot` prints, for every shipped lab.
    @Test(.enabled(if: dotPath != nil, "Graphviz dot is not installed: DOT rendering check skipped"))
    func graphvizRendersEveryShippedLab() throws {
        let bin = try #require(csumlabBinary, "csumlab binary not found next to the test bundle")
        let dot = try #require(dotPath)
        for name in ["seed-routed-vm-router", "nat-masquerade", "mininet-userspace-switch", "dhcp-raw-client"] {
            let t = try TopologyFile.load(path: Self.lab(name)).topology
            let flow = try #require(t.flows.first).name
            let out = "/tmp/csumlab-export-\(getpid())-\(name).dot"
            defer { unlink(out); unlink(out + ".svg") }
            let r = ProcessSpawn.Spawn.run(["/bin/sh", "-c", "\"$0\" export \"$1\" --format dot --flow \"$2\" > \"$3\"", bin, Self.lab(name), flow, out], capture: true)
            #expect(r.status == 0)
            let svg = ProcessSpawn.Spawn.run([dot, "-Tsvg", out, "-o", out + ".svg"], capture: true)
            #expect(svg.status == 0, "dot -Tsvg failed for \(name)")
            #expect((readText(out + ".svg") ?? "").contains("<svg"))
        }
    }

    /// The script parses (`sh -n`) for every shipped lab and names exactly the plan's namespaces
    /// and devices.
    @Test func scriptForEveryShippedLabParsesAndUsesTheVerifyNames() throws {
        let bin = try #require(csumlabBinary, "csumlab binary not found next to the test bundle")
        for name in ["seed-routed-netns", "seed-routed-vm-router", "nat-masquerade", "dhcp-checksum-fill", "ipv6-routed-netns", "seed-routed-userspace"] {
            let r = ProcessSpawn.Spawn.run([bin, "export", Self.lab(name), "--format", "script"], capture: true)
            #expect(r.status == 0)
            let path = "/tmp/csumlab-script-\(getpid())-\(name).sh"
            defer { unlink(path) }
            #expect(ProcessSpawn.Spawn.run(["/bin/sh", "-c", "printf '%s' \"$1\" > \"$0\" && sh -n \"$0\"", path, r.output]).status == 0, "sh -n \(name)")
            let plan = LabPlan(try TopologyFile.load(path: Self.lab(name)).topology)
            for ns in plan.namespaces {
                #expect(r.output.contains("ip netns add csumlab-\(ns.role)\n"))
                #expect(r.output.contains("ip netns del csumlab-\(ns.role) "))
            }
            for d in plan.devices.values {
                #expect(r.output.contains(" \(d.name) ") || r.output.contains(" \(d.name)\n"), "\(name): \(d.name)")
                #expect(KernelNames.isKernelSafeDeviceName(d.name))
            }
            for c in plan.netfilter { #expect(r.output.contains(LabScript.shellQuoted(c.argv.last ?? ""))) }
        }
    }

    @Test func scriptAppliesSetToggles() throws {
        let bin = try #require(csumlabBinary, "csumlab binary not found next to the test bundle")
        let plain = ProcessSpawn.Spawn.run([bin, "export", Self.lab("seed-routed-netns"), "--format", "script"], capture: true).output
        let off = ProcessSpawn.Spawn.run([bin, "export", Self.lab("seed-routed-netns"), "--format", "script", "--set", "vethA.vethA.tx=off"], capture: true).output
        #expect(!plain.contains("offload csumlab-hub d6-vethA tx-checksum-ip-generic off\n"))
        #expect(off.contains("offload csumlab-hub d6-vethA tx-checksum-ip-generic off\n"))
        let vm = ProcessSpawn.Spawn.run([bin, "export", Self.lab("seed-routed-vm-router-no-guest-csum"), "--format", "script"], capture: true).output
        #expect(vm.contains("vnet_hdr=on"))
        #expect(vm.contains("-device virtio-net-pci,netdev=net0,"))
        #expect(vm.contains("guest_csum=off"))
    }

    /// As root: `up` builds the seed lab's namespaces and devices; `down` leaves `ip -o link` and
    /// `ip netns list` as they were.
    @Test(.enabled(if: geteuid() == 0, "needs root (network namespaces): script round trip skipped"))
    func scriptBuildsAndTearsDownAsRoot() throws {
        let bin = try #require(csumlabBinary, "csumlab binary not found next to the test bundle")
        let prefix = "cslt\(getpid())-"
        let script = ProcessSpawn.Spawn.run([bin, "export", Self.lab("seed-routed-netns"), "--format", "script", "--prefix", prefix], capture: true)
        #expect(script.status == 0)
        let path = "/tmp/csumlab-roundtrip-\(getpid()).sh"
        defer { unlink(path) }
        #expect(ProcessSpawn.Spawn.run(["/bin/sh", "-c", "printf '%s' \"$1\" > \"$0\"", path, script.output]).status == 0)
        func links() -> [String] {
            ProcessSpawn.Spawn.run(["ip", "-o", "link"], capture: true).output.split(separator: "\n").map { l in
                // `N: name: <flags> …`: the name, without counters that change.
                String(l.split(separator: ":").dropFirst().first ?? "")
            }.sorted()
        }
        func namespaces() -> [String] { ProcessSpawn.Spawn.run(["ip", "netns", "list"], capture: true).output.split(separator: "\n").map(String.init).sorted() }
        let (linksBefore, nsBefore) = (links(), namespaces())
        defer { _ = ProcessSpawn.Spawn.run(["/bin/sh", path, "down"]) }
        #expect(ProcessSpawn.Spawn.run(["/bin/sh", path, "up"]).status == 0)
        let plan = LabPlan(try TopologyFile.load(path: Self.lab("seed-routed-netns")).topology)
        let nsUp = namespaces().joined(separator: "\n")
        for ns in plan.namespaces { #expect(nsUp.contains(prefix + ns.role)) }
        for d in plan.devices.values {
            #expect(ProcessSpawn.Spawn.run(["ip", "-n", prefix + d.role, "link", "show", "dev", d.name]).status == 0, "\(d.name) in \(d.role)")
        }
        #expect(ProcessSpawn.Spawn.run(["/bin/sh", path, "down"]).status == 0)
        // Only what this script made is compared: root tests that run verify at the same time
        // (their own run prefixes) add and remove namespaces and links of their own meanwhile.
        let names = Set(plan.devices.values.map(\.name))
        #expect(Set(links()).subtracting(linksBefore).isDisjoint(with: names), "a device of the script is left in the root namespace")
        #expect(namespaces().filter { $0.hasPrefix(prefix) }.isEmpty, "a namespace of the script is left")
        #expect(nsBefore.filter { $0.hasPrefix(prefix) }.isEmpty)
    }
}

extension String {
    func replacingOccurrences(_ target: String, _ replacement: String) -> String {
        split(separator: target, omittingEmptySubsequences: false).joined(separator: replacement)
    }
}
