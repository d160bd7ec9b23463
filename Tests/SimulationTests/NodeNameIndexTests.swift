import Testing
@testable import Simulation

/// `NodeNameIndex` scans the names of a small lab and hashes those of a large one; both must
/// answer as `Topology.nodeIndexesByName()` does (the first node of a name wins).
@Suite struct NodeNameIndexTests {
    @Test(arguments: [3, NodeNameIndex.scanLimit, NodeNameIndex.scanLimit + 1, 200])
    func answersAsTheDictionaryDoes(count: Int) {
        // Short names (kept inline in a String) and long ones (on the heap), and one repeated.
        var nodes = (0..<count).map { i in
            Node(name: i % 2 == 0 ? "n\(i)" : "a-rather-long-node-name-\(i)", kind: .bridge)
        }
        nodes.append(Node(name: "n0", kind: .bridge))
        let t = Topology(name: "names", nodes: nodes)
        let index = NodeNameIndex(t)
        let reference = t.nodeIndexesByName()
        for n in t.nodes { #expect(index[n.name] == reference[n.name], "\(n.name)") }
        #expect(index["n0"] == 0)
        #expect(index["missing"] == nil)
        #expect(index[""] == nil)
    }
}
