import Testing
import Simulation
@testable import KernelLab

/// A host's TCP option settings reach its namespace as sysctls; defaults add none.
@Suite struct TCPOptionPlanTests {
    @Test func settingsBecomeTheNamespacesSysctls() throws {
        var t = try Shipped.topology("mininet-userspace-switch")
        let before = LabPlan(VerifyRunner.onThisKernel(t).0)
        #expect(!before.sysctls.contains { $0.key.hasPrefix("net.ipv4.tcp_") })
        try t.apply(assignment: "h1.tcp-timestamps=off")
        try t.apply(assignment: "h2.sack=off")
        try t.apply(assignment: "h2.window-scaling=on")
        let plan = LabPlan(VerifyRunner.onThisKernel(t).0)
        let h1 = try #require(plan.hostRole(named: "h1")), h2 = try #require(plan.hostRole(named: "h2"))
        #expect(plan.sysctls.contains(LabPlan.Sysctl(role: h1, key: "net.ipv4.tcp_timestamps", value: "0")))
        #expect(plan.sysctls.contains(LabPlan.Sysctl(role: h2, key: "net.ipv4.tcp_sack", value: "0")))
        #expect(plan.sysctls.contains(LabPlan.Sysctl(role: h2, key: "net.ipv4.tcp_window_scaling", value: "1")))
        #expect(!plan.sysctls.contains { $0.role == h1 && $0.key == "net.ipv4.tcp_sack" })
    }
}
