import Testing
import Simulation
import TestSupport
@testable import TopologyFile

/// `--add-flow`: flows written on the command line in the file's words, read by the same parser
/// and checked with the whole lab, errors located inside the argument.
@Suite struct AddFlowTests {
    static func seed() throws -> LoadedTopology {
        try TopologyFile.load(path: EnvironmentFileTests.packageRoot + "/topologies/seed-bridged.yaml")
    }

    /// The same flow added on the command line and written in the file is the same `Flow`.
    @Test func anAddedFlowEqualsTheSameFlowInTheFile() throws {
        let entry = "probe: {type: frame, tap: tap1, from: vm1, to: vm2, protocol: tcp, checksum: pseudo, vnet: {flags: [needs-csum], csum-start: 34, csum-offset: 16}, expect: completes}"
        let added = try TopologyFile.addFlows(entry, source: "--add-flow", to: try Self.seed())
        let text = try FileText.read(EnvironmentFileTests.packageRoot + "/topologies/seed-bridged.yaml")
        let inFile = try TopologyFile.parse(text + "  " + entry + "\n", file: "x.yaml")
        #expect(added.topology.flows.last?.name == "probe")
        #expect(added.topology.flows == inFile.topology.flows)
        #expect(added.expectations["probe"] == inFile.expectations["probe"])
        #expect(added.topology.flows.count == (try Self.seed()).topology.flows.count + 1)
    }

    @Test func severalFlowsInOneArgument() throws {
        let added = try TopologyFile.addFlows("a: {type: udp, from: vm1, to: vm2, port: 53}\nb: {type: icmp, from: vm2, to: vm1}", source: "--add-flow", to: try Self.seed())
        #expect(added.topology.flows.suffix(2).map(\.name) == ["a", "b"])
        #expect(added.topology.flows.last?.kind == .icmp)
    }

    static func errors(_ text: String) throws -> [Diagnostic] {
        let base = try seed()
        do {
            _ = try TopologyFile.addFlows(text, source: "--add-flow", to: base)
            return []
        } catch {
            return error.diagnostics
        }
    }

    @Test func errorsPointIntoTheArgument() throws {
        let bad = try Self.errors("probe: {type: frame, tap: tap1, from: vm1, to: vm2, vnet: {gso-size: big}}")
        #expect(bad.map(\.description) == ["--add-flow:1:70: error: 'gso-size' expects a number from 0 to 65535, got 'big'"])
        let unknownTap = try Self.errors("probe: {type: frame, tap: tap9, from: vm1, to: vm2}")
        #expect(unknownTap.count == 1 && unknownTap[0].file == "--add-flow" && unknownTap[0].column == 27, "\(unknownTap)")
        #expect(unknownTap.first?.message.contains("tap9") == true)
        let unknownHost = try Self.errors("p: {type: udp, from: vm1,\n    to: vm7}")
        #expect(unknownHost.first?.line == 2 && unknownHost.first?.column == 9, "\(unknownHost)")
    }

    @Test func anExistingNameIsRefused() throws {
        let dup = try Self.errors("ssh: {type: udp, from: vm1, to: vm2}")
        #expect(dup.count == 1 && dup[0].message.contains("already in") && dup[0].column == 1, "\(dup)")
    }

    @Test func somethingOtherThanAMappingIsRefused() throws {
        for text in ["", "[a, b]", "just-a-name"] {
            let e = try Self.errors(text)
            #expect(e.count == 1 && e[0].message.contains("YAML mapping"), "\(text): \(e)")
        }
        #expect(try Self.errors("a: [1, 2]").first?.message.contains("must be a mapping") == true)
    }
}
