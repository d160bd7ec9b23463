#if canImport(Glibc)
import Glibc
#endif
import Testing
import Simulation
@testable import KernelLab

/// `verify` gives every device whose MTU the file sets that MTU (`ip link set dev X mtu N`),
/// before ports join their bridges; a lab without `mtu` gets no such command.
@Suite struct MTUPlanTests {
    func mtuCommands(_ plan: LabPlan) throws -> [LabPlan.Command] {
        try plan.buildSteps(effective: [:]).compactMap { step in
            if case let .ip(c) = step, c.argv.count == 6, c.argv[0] == "link", c.argv[4] == "mtu" { return c }
            return nil
        }
    }

    @Test func everyDeviceTheFileSetsGetsItsMTU() throws {
        let (_, _, plan) = try Shipped.prepared("mtu-jumbo-router")
        let cmds = try mtuCommands(plan)
        var want: [LabPlan.Command] = []
        // tap1, tap3, br1 and vethA set their own; vethA-r is the router's eth0 (9000). tap4,
        // vethB, vethB-r, br2, tap2 keep the default and get no command.
        for name in ["tap1", "tap3", "br1", "vethA", "vethA-r"] {
            let r = try #require(plan.real(name), "\(name)")
            want.append(LabPlan.Command(role: r.role, argv: ["link", "set", "dev", r.name, "mtu", "9000"]))
        }
        #expect(Set(cmds.map(\.argv)) == Set(want.map(\.argv)))
        #expect(cmds.count == want.count)
        for c in want { #expect(cmds.contains(c), "\(c)") }
    }

    @Test func theMTUIsSetBeforeThePortJoinsItsBridge() throws {
        let (_, _, plan) = try Shipped.prepared("mtu-jumbo-router")
        let steps = try plan.buildSteps(effective: [:])
        let tap4 = try #require(plan.real("tap4")), tap1 = try #require(plan.real("tap1"))
        let setTap1 = try #require(steps.firstIndex { if case let .ip(c) = $0 { return c.argv.contains(tap1.name) && c.argv.contains("mtu") }; return false })
        let joinTap1 = try #require(steps.firstIndex { if case let .up(_, d, m) = $0 { return d == tap1.name && m != nil }; return false })
        #expect(setTap1 < joinTap1)
        #expect(!steps.contains { if case let .ip(c) = $0 { return c.argv.contains(tap4.name) && c.argv.contains("mtu") }; return false })
    }

    @Test func aLabWithoutMTUGetsNoMTUCommand() throws {
        for name in ["seed-routed-netns", "tso-to-tap-without-tso", "veth-pre44-corruption"] {
            let (_, _, plan) = try Shipped.prepared(name)
            #expect(try mtuCommands(plan).isEmpty, "\(name)")
        }
    }

    @Test func aHostNICsWireEndCarriesItsMTU() throws {
        var t = try Shipped.topology("veth-pre44-corruption")
        let nic = try #require(t.nodes.first { if case .hostNIC = $0.kind { return true }; return false })
        try t.apply(assignment: "\(nic.name).mtu=9000")
        let plan = LabPlan(VerifyRunner.onThisKernel(t).0)
        let cmds = try mtuCommands(plan)
        let d = try #require(plan.graph.device(named: nic.name))
        let near = try #require(plan.devices[d]), wire = try #require(plan.wires[d])
        #expect(cmds.contains(LabPlan.Command(role: near.role, argv: ["link", "set", "dev", near.name, "mtu", "9000"])))
        #expect(cmds.contains(LabPlan.Command(role: wire.role, argv: ["link", "set", "dev", wire.name, "mtu", "9000"])))
    }
}

/// `csumlab verify` on the shipped MTU labs: the kernel, given the file's MTUs, drops and cuts
/// exactly where the simulation does (root, in CI).
@Suite(.serialized) struct MTULabRootTests {
    @Test(.enabled(if: VerifyCleanupTests.enabled, VerifyCleanupTests.requirement("needs root, /dev/net/tun, network namespaces and a built csumlab")),
          arguments: ["mtu-jumbo-router", "mtu-overlay-1450", "mtu-tap-writes"])
    func verifyPasses(name: String) throws {
        let (status, report, pid) = try VerifyCleanupTests.runVerify(Shipped.root + "/topologies/" + name + ".yaml")
        #expect(status == 0, "\(report.suffix(3000))")
        #expect(report.contains("not checkable 0, mismatched 0  → pass"), "\(report.suffix(3000))")
        #expect(Namespaces.list(prefix: RunPrefix(pid: pid)).isEmpty, "the run left its lab behind")
    }
}
