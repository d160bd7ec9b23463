import Testing
@testable import Simulation
import TestSupport
import TopologyFile

/// The search's proof (a set is decided without a walk when one of its changes cannot reach the
/// flow that failed without it) against the same search walking every set.
@Suite struct FixSearchProofTests {
    /// Every shipped lab, up to two changes (three on a small lab): a lab that already works
    /// searches nothing.
    @Test(arguments: shippedTopologyPaths())
    func proofChangesNoResult(path: String) throws {
        let name = String(path.split(separator: "/").last!.dropLast(5))
        let maxChanges = name == "seed-routed-userspace" || name == "dhcp-raw-client" ? 3 : 2
        let t = try TopologyFile.load(path: path).topology
        let s = try FixSearch(t, problems: FixSearchTests.problems)
        let proved = try #require(s.run(maxChanges: maxChanges, proveFailures: true))
        let walked = try #require(s.run(maxChanges: maxChanges, proveFailures: false))
        #expect(walked.decided == 0)
        #expect(FixSearchTests.sets(proved) == FixSearchTests.sets(walked), "\(name)")
        #expect(proved.searchedUpTo == walked.searchedUpTo, "\(name)")
        #expect(proved.bestPartial?.changes == walked.bestPartial?.changes, "\(name)")
        #expect(proved.bestPartial?.works == walked.bestPartial?.works, "\(name)")
        // Every set the plain search walked is walked or decided by the proof, never lost.
        #expect(proved.evaluated + proved.decided == walked.evaluated, "\(name)")
        if name == "mtu-jumbo-router" { #expect(proved.decided > 0, "the proof decided nothing: this test checks nothing of it") }
    }
}

/// Why the search leaves tunnel segmentation out of labs without a tunnel: turning it off on
/// every device of such a lab changes nothing any flow meets.
@Suite struct TunnelFeatureScopeTests {
    @Test(arguments: shippedTopologyPaths())
    func tunnelSegmentationChangesNothingWithoutATunnel(path: String) throws {
        let base = try TopologyFile.load(path: path).topology
        guard !base.nodes.contains(where: { if case .vxlan = $0.kind { return true }; return false }) else { return }
        let trace = try Simulator(base).run()
        var t = base
        var changed = 0
        for n in base.nodes {
            for item in SettingItem.items(for: n.name, topology: base, trace: trace) where item.disabled == nil && item.value != "off" {
                guard let f = Feature(rawValue: item.key), f == .udpTunnelSegmentation || f == .udpTunnelCsumSegmentation else { continue }
                try t.set(node: item.node, interface: item.interface, key: f.shortName, value: "off")
                changed += 1
            }
        }
        let after = try Simulator(t).run()
        #expect(after.flows == trace.flows, "\(path)")
        if path.hasSuffix("/seed-routed-userspace.yaml") { #expect(changed > 0, "nothing was turned off: this test checks nothing") }
    }
}
