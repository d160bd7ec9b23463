import Testing
import Simulation
import TopologyFile
import Wire

/// A step keeps its bytes and metadata and works out its checksum facts when read (`Step.facts`
/// at once, or each property alone). The golden traces pin the values — they were recorded when
/// a walk computed every fact as it went — and this checks that the two ways of reading agree
/// on every step of every shipped lab, tunnelled and fragmented frames included.
@Suite struct StepFactsTests {
    @Test(arguments: shippedTopologyPaths())
    func factsAtOnceEqualFactsOneByOne(path: String) throws {
        let trace = try Simulator(TopologyFile.load(path: path).topology).run()
        var checked = 0, mismatched: [String] = []
        for f in trace.flows {
            for leg in f.legs {
                for (i, st) in leg.steps.enumerated() {
                    let x = st.facts
                    let same = x.l4Field == st.l4Field && x.l4Correct == st.l4Correct && x.l4PseudoSum == st.l4PseudoSum
                        && x.bytesValid == st.bytesValid && x.receiverWouldAccept == st.receiverWouldAccept
                        && x.condition == st.condition && x.ttl == st.ttl && x.source == st.source && x.destination == st.destination
                        && x.ipFragments == st.ipFragments && x.inner == st.inner
                    if !same { mismatched.append("\(f.flow) \(leg.name) step \(i + 1)") }
                    checked += 1
                }
            }
        }
        #expect(checked > 0)
        #expect(mismatched.isEmpty, "\(mismatched.prefix(5))")
    }

    /// The changed bytes come from the frame before the step: a step that rewrote the TTL and
    /// the IPv4 header checksum (a router's forward) lists exactly the bytes that differ.
    @Test func changedBytesAreTheBytesThatDiffer() throws {
        let trace = try Simulator(TopologyFile.load(path: repoRoot + "/topologies/seed-routed-netns.yaml").topology).run()
        var previous: [UInt8]?
        var sawChange = false
        for st in trace.flows[0].legs[0].steps {
            if let p = previous, p.count == st.frame.count {
                let expected = (0..<p.count).filter { p[$0] != st.frame[$0] }
                #expect(st.changedBytes == expected)
                sawChange = sawChange || !expected.isEmpty
            }
            previous = st.frame
        }
        #expect(sawChange)
    }
}
