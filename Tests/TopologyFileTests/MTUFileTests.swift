import Testing
import Simulation
@testable import TopologyFile

/// The `mtu` key in a file: where it may be written, the kernel's limits (68 to 65535, 65521 for a
/// TAP; 1280 with an IPv6 address), one device set twice, and the writer keeping it.
private let lab = """
csumlab: 1
name: m
nodes:
  vm1:
    kind: vm
    interfaces:
      eth0: {address: 10.0.0.1/24, mtu: 9000}
  tap1: {kind: tap, mtu: 9000}
  br0: {kind: bridge}
  vethA: {kind: veth, ends: {vethA: {mtu: 9000}, vethA-r: {}}}
  ns:
    kind: netns
    interfaces:
      eth0: {address: 10.0.0.2/24, mtu: 9000}
links:
  - endpoints: ["vm1:eth0", "tap1"]
  - endpoints: ["tap1", "br0"]
  - endpoints: ["br0", "vethA:vethA"]
  - endpoints: ["vethA:vethA-r", "ns:eth0"]
flows:
  bulk: {type: tcp, from: vm1, to: ns, payload: 20000}

"""

private func variant(_ a: String, _ b: String) -> String {
    precondition(lab.contains(a), "fixture lacks \(a)")
    return lab.replacingFirst(a, with: b)
}

@Suite struct MTUFileTests {
    @Test func mtuLoadsOnEveryKindThatHasADevice() throws {
        let t = try TopologyFile.parse(lab, file: "lab.yaml").topology
        #expect(t.node(named: "vm1")?.interface(named: "eth0")?.mtu == 9000)
        #expect(t.node(named: "tap1")?.mtu == 9000)
        #expect(t.node(named: "br0")?.mtu == nil)
        #expect(t.node(named: "vethA")?.interface(named: "vethA")?.mtu == 9000)
        #expect(t.node(named: "ns")?.interface(named: "eth0")?.mtu == 9000)
        let net = Network(t)
        // br0 follows its ports (tap1, vethA: both 9000); vethA-r is ns:eth0.
        for d in ["tap1", "br0", "vethA", "vethA-r", "vm1:eth0"] {
            #expect(net.devices[try #require(net.device(named: d))].mtu == 9000, "\(d)")
        }
    }

    @Test func valuesOutsideTheDevicesRangePointAtTheValue() {
        for (a, b, col, expected) in [
            ("10.0.0.1/24, mtu: 9000}", "10.0.0.1/24, mtu: 67}", 41, "from 68 to 65535"),
            ("{vethA: {mtu: 9000}", "{vethA: {mtu: 65536}", 43, "from 68 to 65535"),
            ("tap1: {kind: tap, mtu: 9000}", "tap1: {kind: tap, mtu: 65522}", 26, "from 68 to 65521"),
            ("10.0.0.2/24, mtu: 9000}", "10.0.0.2/24, mtu: jumbo}", 41, "got 'jumbo'"),
        ] {
            let e = errors(variant(a, b))
            #expect(e.count == 1, "\(b): \(e)")
            #expect(e.first?.message.contains(expected) == true, "\(b): \(e)")
            #expect(e.first?.column == col, "\(b): \(e)")
            #expect(e.first?.description.hasPrefix("lab.yaml:") == true)
        }
    }

    @Test func aNamespaceHasNoNodeLevelMTU() {
        let e = errors(variant("    kind: netns\n", "    kind: netns\n    mtu: 1450\n"))
        #expect(e.count == 1)
        #expect(e.first?.line == 13 && e.first?.column == 5)
        #expect(e.first?.message.contains("unknown setting 'mtu' for a netns") == true)
    }

    @Test func oneDeviceSetTwiceDifferentlyIsRefused() {
        let e = errors(variant("vethA-r: {}", "vethA-r: {mtu: 1500}"))
        #expect(e.count == 1, "\(e)")
        // Pointed at the namespace interface's mtu value.
        #expect(e.first?.line == 14 && e.first?.column == 41, "\(e)")
        #expect(e.first?.message.contains("ns:eth0 sets mtu 9000, but the device it is placed at (vethA-r) sets 1500") == true)
        // The same value twice is one MTU.
        #expect(errors(variant("vethA-r: {}", "vethA-r: {mtu: 9000}")).isEmpty)
    }

    @Test func anIPv6AddressNeeds1280() {
        let v6 = variant("eth0: {address: 10.0.0.2/24, mtu: 9000}", "eth0: {address: [10.0.0.2/24, \"fd00::2/64\"], mtu: 1279}")
        let e = errors(v6)
        #expect(e.count == 1, "\(e)")
        #expect(e.first?.line == 14, "\(e)")
        #expect(e.first?.message.contains("IPV6_MIN_MTU") == true)
        // IPv4 alone takes 68; 1280 with IPv6 loads.
        #expect(errors(variant("10.0.0.2/24, mtu: 9000}", "10.0.0.2/24, mtu: 68}")).isEmpty)
        #expect(errors(v6.replacingFirst("mtu: 1279", with: "mtu: 1280")).isEmpty)
    }

    @Test func theWriterKeepsEveryMTU() throws {
        let t = try TopologyFile.parse(lab, file: "lab.yaml").topology
        let text = TopologyWriter.yaml(t)
        #expect(text.contains("tap1: {kind: tap, mtu: 9000}"))
        #expect(text.contains("eth0: {address: \"10.0.0.1/24\", mtu: 9000}") || text.contains("eth0: {address: 10.0.0.1/24, mtu: 9000}"))
        let back = try TopologyFile.parse(text, file: "again.yaml").topology
        #expect(back == t)
    }
}
