import Testing
import Simulation
import TopologyFile

/// Every shipped topology validates and produces the verdict it states. The expectation comes
/// from the file (written from the kernel reference and real-kernel measurements), never from
/// the simulator's own output.
@Suite struct ShippedTopologyTests {
    @Test func thereAreEnoughTopologies() {
        #expect(shippedTopologyPaths().count >= 14)
    }

    @Test(arguments: shippedTopologyPaths())
    func verdictMatchesExpectation(path: String) throws {
        let loaded = try TopologyFile.load(path: path)
        #expect(!loaded.topology.description.isEmpty, "\(path) must say what it shows")
        let trace = try Simulator(loaded.topology).run()
        for f in trace.flows {
            guard let exp = loaded.expectations[f.flow] else {
                Issue.record("\(path): flow \(f.flow) states no expectation")
                continue
            }
            switch exp.verdict {
            case .completes:
                #expect(f.verdict.completes && !f.verdict.corruptedData, "\(path) \(f.flow): \(f.verdict.summary)")
            case .corrupted:
                #expect(f.verdict.completes && f.verdict.corruptedData, "\(path) \(f.flow): \(f.verdict.summary)")
            case .fails:
                #expect(!f.verdict.completes, "\(path) \(f.flow): \(f.verdict.summary)")
                if let l = exp.leg { #expect(f.verdict.failedLeg == l, "\(path) \(f.flow): \(f.verdict.summary)") }
            }
        }
    }

    /// The netns-router seed works on every profile (the popular answer says otherwise).
    @Test(arguments: KernelProfile.allCases)
    func netnsRouterWorksOnEveryProfile(profile: KernelProfile) throws {
        var t = try loadShipped("seed-routed-netns").topology
        t.kernel = profile
        for i in t.nodes.indices { t.nodes[i].kernel = profile }
        let tr = try run(t)
        #expect(tr.flows.allSatisfy { $0.verdict.completes })
    }

    /// "tx off in one VM only fails; in both works; on both host-side veths works" — the
    /// measured QEMU results, reproduced through `--set` on the userspace-router lab.
    @Test func txOffPlacementMatchesMeasurements() throws {
        let base = try loadShipped("seed-routed-userspace").topology
        func ssh(_ sets: [String]) throws -> FlowVerdict { try run(with(base, sets), flow: "ssh").flows[0].verdict }
        #expect(try !ssh([]).completes)
        #expect(try ssh(["vm1.eth0.tx=off"]).failedLeg == "SYN-ACK")
        #expect(try ssh(["vm1.eth0.tx=off", "vm2.eth0.tx=off"]).completes)
        #expect(try ssh(["vethA.vethA.tx=off", "vethB.vethB.tx=off"]).completes)
        #expect(try !ssh(["vethA.vethA.tx=off"]).completes)
        #expect(try ssh(["router.vnet-hdr=on"]).completes)
        #expect(try ssh(["router.flavour=netns"]).completes)
        #expect(try !ssh(["br1.tx=off", "br2.tx=off"]).completes)
    }
}
