#if canImport(Glibc)
import Glibc
#endif
import Testing
import Simulation
@testable import KernelLab

/// A GENEVE lab on a kernel without the driver: every leg is reported not checkable with the
/// reason, nothing is built and the file does not fail the run; with the driver the file is
/// verified like any other (the probe says nil).
@Suite struct GeneveVerifyTests {
    @Test func theProbeNamesTheMissingDriver() {
        let why = VerifyRunner.genevePresence(status: 2, stderr: "Error: Unknown device type.\n")
        #expect(why?.hasPrefix("CONFIG_GENEVE unset") == true)
        #expect(why?.contains("Error: Unknown device type.") == true)
        #expect(VerifyRunner.genevePresence(status: 0, stderr: "") == nil)
    }

    @Test func everyLegIsNotCheckableWithoutTheDriver() throws {
        let t = try Shipped.topology("geneve-zero-csum-router-masquerade")
        let runner = VerifyRunner(prefix: RunPrefix(pid: getpid()), executable: "/nonexistent", agentArguments: [])
        runner.geneveProbe = .some("CONFIG_GENEVE unset (test)")
        let r = runner.run(topology: t, file: "geneve.yaml", flow: nil)
        let legs = try Simulator(t).run().flows.flatMap(\.legs)
        #expect(r.legs.count == legs.count && legs.count == 6)
        #expect(r.legs.allSatisfy { $0.notCheckable == "CONFIG_GENEVE unset (test)" })
        #expect(r.compared == 0 && r.error == nil && r.unavailable == "CONFIG_GENEVE unset (test)")
        #expect(r.passed)
        #expect(VerifyReport.counts(r).contains("not checkable: CONFIG_GENEVE unset (test)"))
        #expect(VerifyReport.summary([r]).contains("not checkable"))
    }

    @Test func theGeneveCommandIsIproute2s() throws {
        let (_, _, plan) = try Shipped.prepared("geneve-zero-csum-router-masquerade")
        let adds = try plan.buildSteps(effective: [:]).compactMap { step -> LabPlan.Command? in
            if case let .ip(c) = step, c.argv.contains("geneve") { return c }
            return nil
        }
        #expect(adds.count == 2)
        for c in adds {
            #expect(!c.argv.contains("local") && !c.argv.contains("dev") && !c.argv.contains("vxlan"))
            #expect(c.argv.contains("6081") && c.argv.contains("7"))
        }
    }
}
