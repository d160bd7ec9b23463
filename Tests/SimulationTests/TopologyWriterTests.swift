import Testing
import Simulation
import TopologyFile

/// `TopologyWriter` writes a lab that loads back to the same model, so saving (`fix --write`,
/// the explorer's `w`) never changes what a lab means.
@Suite struct TopologyWriterTests {
    @Test(arguments: shippedTopologyPaths())
    func shippedLabRoundTrips(path: String) throws {
        let loaded = try TopologyFile.load(path: path)
        let text = TopologyWriter.yaml(loaded.topology, expectations: loaded.expectations)
        let again = try TopologyFile.parse(text, file: path)
        #expect(again.topology == loaded.topology, "\(path):\n\(text)")
        #expect(again.expectations == loaded.expectations)
        // Writing is a fixed point: the written file writes itself again.
        #expect(TopologyWriter.yaml(again.topology, expectations: again.expectations) == text)
    }

    @Test func settingsChangedFromTheCommandLineAreWritten() throws {
        var t = try loadShipped("seed-routed-userspace").topology
        for s in ["vethA.vethA.tx=off", "router.vnet-hdr=on", "tap1.tun-csum=off", "vm1.guest-tso=off",
                  "router.checksum-fill=all", "br1.sg=off", "vm2.eth0.rx=off", "br2.promisc=on"] {
            try t.apply(assignment: s)
        }
        let text = TopologyWriter.yaml(t)
        #expect(try TopologyFile.parse(text, file: "x.yaml").topology == t)
        #expect(text.contains("vethA: {tx: off}"))
        #expect(text.contains("vnet-hdr: on"))
        #expect(text.contains("promisc: on"))
    }

    @Test func awkwardTextIsQuoted() throws {
        var t = try loadShipped("seed-bridged").topology
        t.description = "two  spaces, a \"quote\", a backslash \\ and\na second line"
        t.name = "on"
        t.flows[0].name = "123"
        let text = TopologyWriter.yaml(t)
        let again = try TopologyFile.parse(text, file: "x.yaml").topology
        #expect(again.description == t.description)
        #expect(again.name == "on")
        #expect(again.flows[0].name == "123")
    }

    @Test func longDescriptionIsFoldedAndKept() throws {
        var t = try loadShipped("seed-bridged").topology
        t.description = Array(repeating: "CHECKSUM_PARTIAL promise kept by the bridge;", count: 12).joined(separator: " ")
        let text = TopologyWriter.yaml(t)
        #expect(text.contains("description: >-\n"))
        #expect(text.split(separator: "\n").allSatisfy { $0.count <= 96 })
        #expect(try TopologyFile.parse(text, file: "x.yaml").topology.description == t.description)
    }
}
