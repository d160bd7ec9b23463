import Testing
import Simulation
import Wire
@testable import KernelLab

/// `type: frame` flows in `verify`: the check writes exactly the flow's virtio header and
/// frame into the TAP, and a header the kernel refuses is expected to fail the write.
@Suite struct FrameFlowCheckTests {
    @Test func aFrameFlowWritesExactlyItsHeaderAndBytes() throws {
        let (t, trace, plan) = try Shipped.prepared("frame-injection", flow: "needs-csum-promise")
        let f = try #require(t.flows.first { $0.name == "needs-csum-promise" })
        let c = try LegCheck.make(trace.flows[0].legs[0], plan: plan).get()
        let tap1 = try #require(plan.real("tap1"))
        #expect(c.injection == .tap(role: tap1.role, name: tap1.name))
        #expect(c.writes == [f.frame.vnet.bytes + (try Simulator(t).frameBytes(f))])
        #expect(c.expectedWrite == "ok")
    }

    @Test func aRefusedHeaderIsExpectedToFailTheWrite() throws {
        for name in ["csum-start-past-the-end", "gso-with-wrong-csum-offset"] {
            let (t, trace, plan) = try Shipped.prepared("frame-injection", flow: name)
            let f = try #require(t.flows.first { $0.name == name })
            let c = try LegCheck.make(trace.flows[0].legs[0], plan: plan).get()
            #expect(c.writes == [f.frame.vnet.bytes + (try Simulator(t).frameBytes(f))], "\(name)")
            #expect(c.expectedWrite == "EINVAL" && c.expected.isEmpty, "\(name)")
        }
    }

    @Test func theKernelsWriteErrorIsReducedToItsErrnoName() {
        let e = LabError.agent("csl1-vm1: write: " + LabError.system("write tap1", errno: 22).description)
        #expect(VerifyRunner.errnoName(in: "\(e)") == "EINVAL")
        #expect(VerifyRunner.errnoName(in: "helper: csl1-vm1 exited during write") == nil)
    }
}
