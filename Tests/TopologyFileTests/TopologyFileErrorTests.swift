import Testing
import Simulation
import Yams
@testable import TopologyFile

private let good = """
csumlab: 1
name: t
nodes:
  vm1:
    kind: vm
    interfaces:
      eth0: {address: 10.0.0.1/24}
  vm2:
    kind: vm
    interfaces:
      eth0: {address: 10.0.0.2/24}
  tap1: {kind: tap}
  tap2: {kind: tap}
  br0: {kind: bridge}
links:
  - endpoints: ["vm1:eth0", "tap1"]
  - endpoints: ["tap1", "br0"]
  - endpoints: ["br0", "tap2"]
  - endpoints: ["tap2", "vm2:eth0"]
flows:
  ssh: {type: tcp, from: vm1, to: vm2}

"""

/// Replace the first occurrence of `a` with `b` in the good file.
private func variant(_ a: String, _ b: String) -> String {
    precondition(good.contains(a), "test fixture lacks \(a)")
    return good.replacingFirst(a, with: b)
}

extension String {
    func replacingFirst(_ a: String, with b: String) -> String {
        guard let r = range(of: a) else { return self }
        return replacingCharacters(in: r, with: b)
    }
}

@Suite struct TopologyFileErrorTests {
    @Test func goodFileLoads() throws {
        let t = try TopologyFile.parse(good, file: "lab.yaml")
        #expect(t.topology.nodes.count == 5 && t.topology.links.count == 4)
    }

    @Test func unknownKeyPointsAtTheKey() {
        let e = errors(variant("    kind: vm\n    interfaces:\n      eth0: {address: 10.0.0.1/24}", "    kind: vm\n    colour: red\n    interfaces:\n      eth0: {address: 10.0.0.1/24}"))
        #expect(e.count == 1)
        #expect(e.first?.line == 6 && e.first?.column == 5)
        #expect(e.first?.message.contains("unknown setting 'colour'") == true)
        #expect(e.first?.description.hasPrefix("lab.yaml:6:5: error:") == true)
    }

    @Test func badValuePointsAtTheValue() {
        let e = errors(variant("eth0: {address: 10.0.0.1/24}", "eth0: {address: 10.0.0.1/24, tx: maybe}"))
        #expect(e.first?.line == 7)
        #expect(e.first?.message.contains("'tx' expects on/off") == true)
        #expect(e.first?.column == 40)
    }

    /// A bridge's `br-netfilter`: read, written back, and a bad value pointed at.
    @Test func brNetfilterIsABridgeSetting() throws {
        let t = try TopologyFile.parse(variant("br0: {kind: bridge}", "br0: {kind: bridge, br-netfilter: off}"), file: "lab.yaml").topology
        #expect(t.node(named: "br0")?.brNetfilter == false)
        let text = TopologyWriter.yaml(t, expectations: [:])
        #expect(text.contains("br0: {kind: bridge, br-netfilter: off}"))
        #expect(try TopologyFile.parse(text, file: "back.yaml").topology == t)
        let e = errors(variant("br0: {kind: bridge}", "br0: {kind: bridge, br-netfilter: maybe}"))
        #expect(e.first?.line == 14 && e.first?.column == 37)
        #expect(e.first?.message.contains("'br-netfilter' expects on/off") == true)
        let tap = errors(variant("tap1: {kind: tap}", "tap1: {kind: tap, br-netfilter: off}"))
        #expect(tap.first?.message.contains("unknown setting 'br-netfilter' for a tap") == true)
    }

    /// set_offload() refuses TUN_F_TSO4/TSO6 without TUN_F_CSUM; the error points at the TSO value.
    @Test func tsoWithoutCsumOnATapIsRefused() {
        let e = errors(variant("tap2: {kind: tap}", "tap2: {kind: tap, tun-csum: off, tun-tso4: on}"))
        #expect(e.count == 1, "\(e)")
        #expect(e.first?.line == 13 && e.first?.column == 46, "\(e)")
        #expect(e.first?.message.contains("TAP 'tap2': tun-tso4 without TUN_F_CSUM") == true, "\(e)")
        // Following a guest without GUEST_CSUM is the same refusal.
        let guest = errors(variant("tap2: {kind: tap}", "tap2: {kind: tap, tun-tso6: on}").replacingFirst("    kind: vm\n    interfaces:\n      eth0: {address: 10.0.0.2/24}", with: "    kind: vm\n    guest-csum: off\n    interfaces:\n      eth0: {address: 10.0.0.2/24}"))
        #expect(guest.count == 1 && guest.first?.message.contains("follows the guest") == true, "\(guest)")
        #expect(errors(variant("tap2: {kind: tap}", "tap2: {kind: tap, tun-csum: on, tun-tso4: on}")).isEmpty)
        #expect(errors(variant("tap2: {kind: tap}", "tap2: {kind: tap, tun-csum: off, tun-tso4: off}")).isEmpty)
    }

    @Test func unknownKind() {
        let e = errors(variant("tap1: {kind: tap}", "tap1: {kind: tapp}"))
        #expect(e.first?.message.contains("unknown kind 'tapp'") == true)
        #expect(e.first?.line == 12)
    }

    @Test func linkToMissingNodeAndInterface() {
        let e = errors(variant("[\"vm1:eth0\", \"tap1\"]", "[\"vm1:eth9\", \"tapX\"]"))
        #expect(e.contains { $0.message.contains("node 'vm1' has no interface 'eth9'") && $0.line == 16 })
        #expect(e.contains { $0.message.contains("unknown node 'tapX'") && $0.line == 16 })
        #expect(e.count >= 2)
    }

    @Test func interfaceLinkedTwice() {
        let e = errors(variant("  - endpoints: [\"tap2\", \"vm2:eth0\"]", "  - endpoints: [\"tap2\", \"vm2:eth0\"]\n  - endpoints: [\"vm2:eth0\", \"tap1\"]"))
        #expect(e.contains { $0.message.contains("vm2:eth0 is linked twice") && $0.line == 20 })
        #expect(e.contains { $0.message.contains("tap1 is linked twice") })
    }

    @Test func duplicateNodeName() {
        let e = errors(variant("  tap2: {kind: tap}", "  tap2: {kind: tap}\n  tap2: {kind: bridge}"))
        #expect(e.first?.message.contains("duplicate") == true)
        #expect(e.first?.line ?? 0 >= 12)
    }

    @Test func unreachableFlow() {
        let e = errors(variant("eth0: {address: 10.0.0.2/24}", "eth0: {address: 10.9.0.2/24}"))
        #expect(e.contains { $0.message.contains("cannot reach") && $0.line == 21 })
    }

    @Test func impossibleLink() {
        let e = errors(variant("[\"tap1\", \"br0\"]", "[\"tap1\", \"vm2:eth0\"]"))
        #expect(e.contains { $0.message.contains("linked twice") || $0.message.contains("cannot link") })
        let e2 = errors(variant("[\"br0\", \"tap2\"]", "[\"br0\", \"br0\"]"))
        #expect(e2.contains { $0.message.contains("cannot link") && $0.message.contains("veth") })
    }

    @Test func yamlSyntaxErrorHasPosition() {
        let e = errors("csumlab: 1\nnodes:\n  vm1: {kind: vm\n")
        #expect(e.count == 1)
        #expect(e.first?.message.hasPrefix("YAML syntax") == true)
        #expect(e.first?.line ?? 0 >= 3)
    }

    @Test func everyErrorAtOnce() {
        var text = variant("tap1: {kind: tap}", "tap1: {kind: tap, vnet-hdr: perhaps}")
        text = text.replacingFirst("br0: {kind: bridge}", with: "br0: {kind: bridge, speed: 10}")
        text = text.replacingFirst("{type: tcp, from: vm1, to: vm2}", with: "{type: sctp, from: vm1, to: vm2}")
        let e = errors(text)
        #expect(e.count == 3)
        #expect(e.map(\.line) == e.map(\.line).sorted())
    }

    @Test func gatewayOutsideSubnet() {
        let e = errors(variant("eth0: {address: 10.0.0.1/24}", "eth0: {address: 10.0.0.1/24, gateway: 10.1.0.1}"))
        #expect(e.contains { $0.message.contains("gateway 10.1.0.1 is not in a subnet") && $0.line == 7 })
    }

    @Test func featureOnANamespaceInterfaceSaysWhereItBelongs() {
        let text = """
        csumlab: 1
        nodes:
          h1:
            kind: netns
            interfaces:
              eth0: {address: 10.0.0.1/24, tx: off}

        """
        let e = errors(text)
        #expect(e.contains { $0.message.contains("feature of the device") })
    }

    @Test func missingVersionAndNodes() {
        let e = errors("name: x\n")
        #expect(e.contains { $0.message.contains("csumlab: 1") })
        #expect(e.contains { $0.message.contains("missing 'nodes'") })
    }

    @Test func setAssignments() throws {
        var t = try TopologyFile.parse(good, file: "lab.yaml").topology
        try t.apply(assignment: "vm1.eth0.tx=off")
        try t.apply(assignment: "tap1.tun-csum=off")
        try t.apply(assignment: "kernel=linux-4.4")
        #expect(t.kernel == .linux44)
        #expect(t.node(named: "vm1")?.interfaces[0].features.requested[.txChecksumming] == false)
        #expect(throws: SettingError.self) { try t.apply(assignment: "vm1.eth0.bogus=1") }
        #expect(throws: SettingError.self) { try t.apply(assignment: "nosuch.tx=off") }
        #expect(throws: SettingError.self) { try t.apply(assignment: "vm1.tx") }
    }

    @Test func atomicWriteReplacesWholeFile() throws {
        let path = "/tmp/csumlab-atomic-\(getpidSafe()).yaml"
        try FileText.writeAtomically("first\n", to: path)
        try FileText.writeAtomically("second\n", to: path)
        #expect(try FileText.read(path) == "second\n")
    }
}

#if canImport(Glibc)
import Glibc
func getpidSafe() -> Int32 { getpid() }
#endif

/// Item 5 of issue 10: a YAML reader error is reported once, at its own line and column, and
/// nothing echoed from the file reaches the terminal raw.
@Suite struct YAMLLocationTests {
    static let controlInKey = "csumlab: 1\nname: x\nnodes: {}\nddd\u{1}: 4\n"

    @Test func readerErrorFromYamsIsLocatedOnce() throws {
        do {
            _ = try Yams.compose(yaml: Self.controlInKey)
            Issue.record("Yams accepted a control character")
        } catch let e as YamlError {
            let d = TopologyFile.yamlDiagnostic(e, text: Self.controlInKey, file: "f.yaml")
            #expect(d.line == 4 && d.column == 4)
            #expect(d.description == "f.yaml:4:4: error: YAML: control characters are not allowed (U+1)")
        }
    }

    @Test func controlCharacterIsReportedWhereItIs() {
        let e = errors(Self.controlInKey)
        #expect(e.map(\.description) == ["lab.yaml:4:4: error: control character U+0001 is not allowed in a YAML file (write it as an escape in a double-quoted string, if it is wanted at all)"])
    }

    @Test func syntaxErrorHasOneLocation() {
        let e = errors("csumlab: 1\nnodes:\n  a: [x\n  b: y\n")
        #expect(e.count == 1)
        #expect(e.first.map { !$0.message.contains("line 4, column") && !$0.message.contains("\n") } == true)
    }

    @Test func positionCountsYAMLLineBreaks() {
        #expect(TopologyFile.position(ofCharacter: 0, in: "abc") == (1, 1))
        #expect(TopologyFile.position(ofCharacter: 5, in: "ab\r\ncd\u{2028}é") == (2, 3))
        #expect(TopologyFile.position(ofCharacter: 7, in: "ab\r\ncd\u{2028}é") == (3, 2))
        #expect(TopologyFile.position(ofCharacter: 4, in: "a\rb\nc") == (3, 1))
    }

    @Test func namesInMessagesAreEscaped() {
        let e = errors("csumlab: 1\nnodes:\n  \"a\\e]0;PWNED\\a\\e[2J\": {}\n")
        #expect(!e.isEmpty)
        for d in e {
            #expect(!d.description.unicodeScalars.contains { $0.value < 0x20 || $0.value == 0x7F })
        }
        #expect(e.contains { $0.description.contains("a\\e]0;PWNED\\a\\e[2J") })
        #expect(Diagnostic(file: "x\u{1B}.yaml", line: 1, column: 1, message: "m").description == "x\\e.yaml:1:1: error: m")
    }

    @Test func endlessFileStopsAtTheCap() throws {
        #expect(throws: FileText.IOError.self) { try FileText.read("/dev/zero", maxBytes: 1000) }
        do {
            _ = try FileText.read("/dev/zero", maxBytes: 1000)
        } catch {
            #expect(error.tooLarge)
        }
        do {
            _ = try TopologyFile.load(path: "/dev/zero")
            Issue.record("/dev/zero loaded")
        } catch {
            #expect(error.diagnostics.map(\.description) == ["/dev/zero:1:1: error: \(YAMLGate.sizeMessage)"])
        }
    }
}

@Suite struct YAMLEndOfTextTests {
    /// libyaml reports an unterminated last line at the line after it; the diagnostic stays in
    /// the text, at the end of the last line (found by the fuzz test).
    @Test func errorAtTheEndOfTheTextIsOnItsLastLine() {
        let e = errors("csumlab: 1\nnodes: {a: [x")
        #expect(e.map { [$0.line, $0.column] } == [[2, 14]])   // after "nodes: {a: [x"
        let e2 = errors("csumlab: 1\nnodes:\n  bad")
        #expect(e2.first.map { $0.line <= 3 } == true)
    }
}
