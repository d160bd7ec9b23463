import Testing
import Simulation
@testable import TopologyFile

/// Loading is linear in the size of the lab (issue 10, item 2: 16,000 nodes took 0.9 s and 64,000
/// took 11 s, from name lookups that scanned every node, per link, setting and flow hop). No
/// timing assertion: the time limit is a watchdog that turns the old quadratic load (minutes for
/// this lab in a debug build) into a failure; the linear load takes a few seconds.
@Suite struct LargeLabTests {
    /// `pairs` netns pairs, each joined by a veth, with a UDP flow between them, and `pairs`
    /// TAP–bridge pairs: 4 nodes, 3 links and 1 flow per pair.
    static func lab(pairs: Int) -> String {
        var nodes = "csumlab: 1\nnodes:\n", links = "links:\n", flows = "flows:\n"
        for i in 0..<pairs {
            let net = "10.\(i / 256).\(i % 256)"
            nodes += "  a\(i): {kind: netns, interfaces: {eth0: {address: \(net).1/30}}}\n"
            nodes += "  b\(i): {kind: netns, interfaces: {eth0: {address: \(net).2/30}}}\n"
            nodes += "  v\(i): {kind: veth, ends: {x\(i): {tx: off}, y\(i): {}}}\n"
            nodes += "  t\(i): {kind: tap, vnet-hdr: on}\n  br\(i): {kind: bridge}\n"
            links += "  - endpoints: [\"a\(i):eth0\", \"v\(i):x\(i)\"]\n  - endpoints: [\"v\(i):y\(i)\", \"b\(i):eth0\"]\n"
            links += "  - endpoints: [\"t\(i)\", \"br\(i)\"]\n"
            flows += "  f\(i): {type: udp, from: a\(i), to: b\(i), payload: 10}\n"
        }
        return nodes + links + flows
    }

    // The limit guards a hang, not a speed: on a loaded 2-core machine the test can wait minutes
    // for a thread of the test pool (CI once failed it at 1 minute while fuzz tests ran).
    @Test(.timeLimit(.minutes(10)))
    func aLargeLabLoadsInLinearWork() throws {
        let pairs = 5000
        let loaded = try TopologyFile.parse(Self.lab(pairs: pairs), file: "large.yaml")
        #expect(loaded.topology.nodes.count == 5 * pairs)
        #expect(loaded.topology.links.count == 3 * pairs)
        #expect(loaded.topology.flows.count == pairs)
        let net = Network(loaded.topology)
        #expect(net.nodeIndex(named: "b\(pairs - 1)") == 5 * (pairs - 1) + 1)
        #expect(net.owner(of: loaded.topology.nodes[1].interfaces[0].addresses[0].address)?.node == 1)
    }

    @Test func duplicateNamesAreStillFound() {
        let text = Self.lab(pairs: 3).replacingOccurrences(of: "  br2: {kind: bridge}\n", with: "  br2: {kind: bridge}\n  a1: {kind: bridge}\n")
        do {
            _ = try TopologyFile.parse(text, file: "dup.yaml")
            Issue.record("duplicates loaded")
        } catch {
            #expect(error.diagnostics.map(\.message) == ["duplicate key 'a1' in this mapping (node, interface and flow names must be unique)"])
        }
    }
}
