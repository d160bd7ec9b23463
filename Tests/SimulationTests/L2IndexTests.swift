import Testing
@testable import Simulation
import TopologyFile
import TestSupport

/// `Network`'s layer-2 index answers "does a frame from A reach B (without passing W)" in
/// constant time; the answers must be those of a walk over the same neighbour relation, which
/// is what the simulator asked before the index existed.
@Suite struct L2IndexTests {
    /// Every (from, target, avoiding) triple of a network, index against walk.
    static func mismatches(_ net: Network) -> [String] {
        var out: [String] = []
        let n = net.devices.count
        for a in 0..<n {
            for b in 0..<n {
                if net.l2Reaches(from: a, target: b) != net.l2ReachesByWalking(from: a, target: b) {
                    out.append("\(net.devices[a].name) → \(net.devices[b].name)")
                }
                for w in 0..<n where a != b {
                    if net.l2Reaches(from: a, target: b, avoiding: w) != net.l2ReachesByWalking(from: a, target: b, avoiding: w) {
                        out.append("\(net.devices[a].name) → \(net.devices[b].name) avoiding \(net.devices[w].name)")
                    }
                }
            }
        }
        return out
    }

    @Test(arguments: shippedTopologyPaths())
    func shippedLabsAnswerAsTheWalk(path: String) throws {
        let t = try TopologyFile.load(path: path).topology
        let bad = Self.mismatches(Network(t))
        #expect(bad.isEmpty, "\(path): \(bad.prefix(5))")
    }

    @Test func chainOfBridgesAnswersAsTheWalk() {
        let bad = Self.mismatches(Network(SampleTopology.tapBridgeChain(16)))
        #expect(bad.isEmpty, "\(bad.prefix(5))")
    }

    /// Random undirected graphs (self-loops, repeated edges, several pieces, cycles): the index
    /// against a plain search with one vertex removed.
    @Test func randomGraphsAnswerAsASearch() {
        var rng = SplitMix(state: 0x5eed_12)
        for round in 0..<200 {
            let n = 1 + Int(rng.next() % 10)
            var adj = [[Int]](repeating: [], count: n)
            let edges = Int(rng.next() % UInt64(2 * n + 1))
            for _ in 0..<edges {
                let a = Int(rng.next() % UInt64(n)), b = Int(rng.next() % UInt64(n))
                adj[a].append(b)
                if a != b { adj[b].append(a) } else if rng.next() % 2 == 0 { adj[a].append(a) }
            }
            for i in adj.indices { adj[i].shuffle(using: &rng) }
            guard let index = L2Index(neighbours: adj) else {
                Issue.record("round \(round): a symmetric relation was refused")
                continue
            }
            func search(_ a: Int, _ b: Int, avoiding w: Int?) -> Bool {
                var seen = Set<Int>(w.map { [$0] } ?? [])
                var stack = [a]
                while let d = stack.popLast() {
                    if d == b { return true }
                    if !seen.insert(d).inserted { continue }
                    stack += adj[d].filter { !seen.contains($0) }
                }
                return false
            }
            for a in 0..<n {
                for b in 0..<n {
                    #expect((a == b || index.connected(a, b)) == search(a, b, avoiding: nil), "round \(round): \(adj) \(a)→\(b)")
                    for w in 0..<n where a != b {
                        #expect(index.connected(a, b, avoiding: w) == search(a, b, avoiding: w), "round \(round): \(adj) \(a)→\(b) without \(w)")
                    }
                }
            }
        }
    }

    @Test func anAsymmetricRelationHasNoIndex() {
        #expect(L2Index(neighbours: [[1], []]) == nil)
        #expect(L2Index(neighbours: [[1], [0]]) != nil)
    }
}


/// `Feature` compares and hashes by its case's place in `allCases`, which must be that place.
@Suite struct FeatureOrderTests {
    @Test func ordinalIsThePlaceInAllCases() {
        #expect(Feature.allCases.map(\.ordinal) == Array(Feature.allCases.indices))
        #expect(Feature.allCases.sorted() == Feature.allCases)
        #expect(Set(Feature.allCases).count == Feature.allCases.count)
    }
}
