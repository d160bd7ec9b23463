import Testing
import Simulation
import Wire
@testable import TopologyFile

/// The vxlan node in files: each bad value reported at its line and column, and the writer's
/// output loading back to the same topology.
private let lab = """
csumlab: 1
nodes:
  a:
    kind: netns
    interfaces:
      vx: {address: 192.168.9.1/24}
      u: {address: 10.9.0.1/24}
  vxA:
    kind: vxlan
    vni: 42
    local: 10.9.0.1
    remote: 10.9.0.2
    underlay: u
  w: {kind: veth, ends: {w0: {}, w1: {}}}
links:
  - endpoints: ["a:vx", "vxA"]
  - endpoints: ["a:u", "w:w0"]

"""

@Suite struct VxlanFileTests {
    @Test func theLabLoads() throws {
        let t = try TopologyFile.parse(lab, file: "lab.yaml").topology
        guard case let .vxlan(v) = try #require(t.node(named: "vxA")).kind else { Issue.record("not a vxlan"); return }
        #expect(v.vni == 42 && v.local == IPAddress("10.9.0.1") && v.underlay == "u" && v.dstPort == 4789 && v.udpCsum == nil)
    }

    @Test(arguments: [
        ("    vni: 42\n", "    vni: 16777216\n", 10, "'vni' expects a number 0–16777215"),
        ("    local: 10.9.0.1\n", "    local: 10.9.0\n", 11, "'local' expects an IPv4 or IPv6 address"),
        ("    remote: 10.9.0.2\n", "    remote: \"fd00::2\"\n", 12, "'remote' expects an address of the same family as 'local'"),
        ("    local: 10.9.0.1\n", "    local: 10.9.0.7\n", 11, "'local' 10.9.0.7 is not an address of a"),
        ("    underlay: u\n", "    underlay: eth7\n", 13, "'underlay' expects an interface of a"),
        ("    underlay: u\n", "    underlay: u\n    udpcsum: maybe\n", 14, "'udpcsum' expects on, off or auto"),
        ("    remote: 10.9.0.2\n", "", 8, "vxlan 'vxA' needs 'remote'"),
    ])
    func badValuesArePlaced(_ from: String, _ to: String, line: Int, message: String) throws {
        let e = errors(lab.replacingOccurrences(of: from, with: to))
        #expect(e.count == 1, "\(e)")
        let d = try #require(e.first)
        #expect(d.line == line, "\(d)")
        #expect(d.message.hasPrefix(message), "\(d.message)")
    }

    @Test func theWriterRoundTrips() throws {
        var t = try TopologyFile.parse(lab, file: "lab.yaml").topology
        try t.set(node: "vxA", interface: nil, key: "udpcsum", value: "off")
        try t.set(node: "vxA", interface: nil, key: "dstport", value: "8472")
        try t.set(node: "vxA", interface: nil, key: "outer-masquerade", value: "on")
        try t.set(node: "vxA", interface: nil, key: "tx-checksum-ip-generic", value: "off")
        let text = TopologyWriter.yaml(t, expectations: [:])
        let back = try TopologyFile.parse(text, file: "back.yaml").topology
        #expect(back == t)
    }

    @Test func theIPv6SettingsRoundTrip() throws {
        var t = try TopologyFile.parse(lab.replacingOccurrences(of: "10.9.0.1/24}", with: "\"fd00::1/64\"}")
            .replacingOccurrences(of: "local: 10.9.0.1", with: "local: \"fd00::1\"").replacingOccurrences(of: "remote: 10.9.0.2", with: "remote: \"fd00::2\""),
                                       file: "lab.yaml").topology
        try t.set(node: "vxA", interface: nil, key: "udp6zerocsumtx", value: "on")
        try t.set(node: "vxA", interface: nil, key: "udp6zerocsumrx", value: "on")
        let text = TopologyWriter.yaml(t, expectations: [:])
        #expect(text.contains("udp6zerocsumtx: on") && text.contains("udp6zerocsumrx: on"))
        let back = try TopologyFile.parse(text, file: "back.yaml").topology
        #expect(back == t)
        guard case let .vxlan(v) = try #require(back.node(named: "vxA")).kind else { Issue.record("not a vxlan"); return }
        #expect(v.udp6ZeroCsumTx && v.udp6ZeroCsumRx && v.overIPv6)
    }

    /// The tunnel segmentation features (no short names) on a veth end and the vxlan `mtu`.
    @Test func tunnelFeaturesAndTheMTURoundTrip() throws {
        var t = try TopologyFile.parse(lab, file: "lab.yaml").topology
        try t.set(node: "w", interface: "w0", key: "tx-udp_tnl-csum-segmentation", value: "off")
        try t.set(node: "w", interface: "w0", key: "tx-udp_tnl-segmentation", value: "off")
        try t.set(node: "vxA", interface: nil, key: "mtu", value: "1400")
        let text = TopologyWriter.yaml(t, expectations: [:])
        #expect(text.contains("tx-udp_tnl-csum-segmentation: off") && text.contains("mtu: 1400"))
        let back = try TopologyFile.parse(text, file: "back.yaml").topology
        #expect(back == t)
    }

    /// vxlan_change_mtu() refuses more than the underlay's MTU less 50: placed at the `mtu` line.
    @Test func anMTUAboveTheUnderlaysIsPlaced() throws {
        let e = errors(lab.replacingOccurrences(of: "    underlay: u\n", with: "    underlay: u\n    mtu: 1451\n"))
        #expect(e.count == 1, "\(e)")
        let d = try #require(e.first)
        #expect(d.line == 14, "\(d)")
        #expect(d.message.contains("1450"), "\(d.message)")
        #expect(errors(lab.replacingOccurrences(of: "    underlay: u\n", with: "    underlay: u\n    mtu: 1450\n")).isEmpty)
    }
}

/// A vxlan node as a bridge port: it lives in the namespace its bridge is placed in, whose
/// interfaces and addresses its `underlay` and `local` name.
private let bridged = """
csumlab: 1
nodes:
  a:
    kind: netns
    interfaces:
      br: {address: 192.168.9.1/24}
      u: {address: 10.9.0.1/24}
  br0: {kind: bridge}
  vxA:
    kind: vxlan
    vni: 42
    local: 10.9.0.1
    remote: 10.9.0.2
    underlay: u
  w: {kind: veth, ends: {w0: {}, w1: {}}}
links:
  - endpoints: ["a:br", "br0"]
  - endpoints: ["br0", "vxA"]
  - endpoints: ["a:u", "w:w0"]

"""

@Suite struct VxlanBridgePortFileTests {
    @Test func aVxlanBridgePortLoadsAndJoinsTheBridge() throws {
        let t = try TopologyFile.parse(bridged, file: "lab.yaml").topology
        let net = Network(t)
        let vx = try #require(net.device(named: "vxA")), br = try #require(net.device(named: "br0"))
        #expect(net.devices[vx].master == br && net.devices[br].ports == [vx])
        #expect(net.tunnelNode(vx) == t.nodeIndex(named: "a"))
    }

    @Test func theUnderlayAndLocalAreTheBridgesNamespaces() throws {
        let e = errors(bridged.replacingOccurrences(of: "    underlay: u\n", with: "    underlay: eth7\n"))
        #expect(e.count == 1 && e.first?.message.hasPrefix("'underlay' expects an interface of a") == true, "\(e)")
        let l = errors(bridged.replacingOccurrences(of: "    local: 10.9.0.1\n", with: "    local: 10.9.0.9\n"))
        #expect(l.count == 1 && l.first?.message.hasPrefix("'local' 10.9.0.9 is not an address of a") == true, "\(l)")
    }

    @Test func aBridgeInNoNamespaceIsRefused() throws {
        let e = errors(bridged.replacingOccurrences(of: "  - endpoints: [\"a:br\", \"br0\"]\n", with: ""))
        #expect(e.count == 1, "\(e)")
        let d = try #require(e.first)
        #expect(d.line == 9, "\(d)")   // the vxlan node
        #expect(d.message.contains("is a port of bridge br0, which is placed in no namespace"), "\(d.message)")
    }

    @Test func theLinkPickerOffersTheBridgeAndOneSlotOnly() throws {
        // The explorer's picker reads the same table as the validator (LinkRole.pairKind).
        let t = try TopologyFile.parse(bridged, file: "lab.yaml").topology
        var unlinked = t
        unlinked.links.removeAll { $0.a.node == "vxA" || $0.b.node == "vxA" }
        #expect(unlinked.linkCandidates(from: Endpoint(node: "vxA", interface: nil)).contains(Endpoint(node: "br0", interface: nil)))
        // A port already: it cannot also be placed at a free namespace interface.
        let spare = try TopologyFile.parse(bridged.replacingOccurrences(of: "      u: {address: 10.9.0.1/24}\n",
                                                                         with: "      u: {address: 10.9.0.1/24}\n      vx: {}\n"), file: "lab.yaml").topology
        var spareUnlinked = spare
        spareUnlinked.links.removeAll { $0.a.node == "vxA" || $0.b.node == "vxA" }
        #expect(spareUnlinked.linkCandidates(from: Endpoint(node: "vxA", interface: nil)).contains(Endpoint(node: "a", interface: "vx")))
        #expect(!spare.linkCandidates(from: Endpoint(node: "vxA", interface: nil)).contains(Endpoint(node: "a", interface: "vx")))
    }

    @Test func renamingTheUnderlayFollowsThroughTheBridge() throws {
        let t = try LabEdit.renameInterface(node: "a", from: "u", to: "eth1").applied(to: TopologyFile.parse(bridged, file: "lab.yaml").topology)
        guard case let .vxlan(v) = try #require(t.node(named: "vxA")).kind else { Issue.record("not a vxlan"); return }
        #expect(v.underlay == "eth1")
    }
}
