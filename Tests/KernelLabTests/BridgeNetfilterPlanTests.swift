import Testing
import Simulation
@testable import KernelLab

/// `br-netfilter: off` on the real kernel (session 14): br_nf_pre_routing runs a bridge's frames
/// through the IP hooks when the namespace's `bridge-nf-call-iptables`/`-ip6tables` (1 in every
/// new namespace once br_netfilter is loaded) or the bridge's own `nf_call_iptables` is on, so
/// verify turns the sysctls off where a bridge wants it off and turns each other bridge there on
/// by its own option.
@Suite struct BridgeNetfilterPlanTests {
    private func planned(_ name: String, _ sets: [String]) throws -> LabPlan {
        var t = try Shipped.topology(name)
        for a in sets { try t.apply(assignment: a) }
        return LabPlan(VerifyRunner.onThisKernel(t).0)
    }

    private func netfilterSteps(_ plan: LabPlan) throws -> [String] {
        try plan.buildSteps(effective: [:]).compactMap { step -> String? in
            switch step {
            case let .sysctl(s) where s.key.hasPrefix("net.bridge."): return "\(s.role) \(s.key)=\(s.value)"
            case let .ip(c) where c.argv.contains("nf_call_iptables"): return "\(c.role) " + c.argv.joined(separator: " ")
            default: return nil
            }
        }
    }

    /// A host without br_netfilter (no `/proc/sys/net/bridge`): none of its bridges passes a
    /// frame through the IP hooks, so verify compares every bridge as `br-netfilter: off`, says
    /// so in a note, and writes no sysctl (there is none to write). This host has it built in,
    /// so the comparison itself is not run here.
    @Test func withoutTheModuleEveryBridgeIsComparedOff() throws {
        let t = VerifyRunner.onThisKernel(try Shipped.topology("seed-routed-netns")).0
        let (off, note) = VerifyRunner.withoutBrNetfilter(t)
        let bridges = off.nodes.filter { $0.kind == .bridge }
        #expect(bridges.map(\.name) == ["br1", "br2"])
        #expect(bridges.allSatisfy { $0.brNetfilter == false })
        #expect(note?.contains("br1, br2 pass no bridged frame") == true)
        var plan = LabPlan(off)
        plan.brNetfilterLoaded = false
        #expect(try netfilterSteps(plan).isEmpty)
        // With the module, the same lab turns the sysctls off for them.
        #expect(try !netfilterSteps(LabPlan(off)).isEmpty)
        // A lab without bridges is compared as it is.
        let plain = VerifyRunner.onThisKernel(try Shipped.topology("veth-pre44-corruption")).0
        #expect(VerifyRunner.withoutBrNetfilter(plain).note == nil)
        #expect(VerifyRunner.withoutBrNetfilter(plain).0 == plain)
    }

    @Test func bridgesLeftAloneNeedNothing() throws {
        #expect(try netfilterSteps(planned("seed-routed-netns", [])).isEmpty)
    }

    @Test func aBridgeWithItOffTurnsTheSysctlsOffAndTheOtherBridgeOnByItsOption() throws {
        let plan = try planned("seed-routed-netns", ["br1.br-netfilter=off"])
        let br1 = try #require(plan.real("br1")), br2 = try #require(plan.real("br2"))
        #expect(br1.role == br2.role)
        #expect(try netfilterSteps(plan) == [
            "\(br1.role) net.bridge.bridge-nf-call-iptables=0",
            "\(br1.role) net.bridge.bridge-nf-call-ip6tables=0",
            "\(br2.role) link set dev \(br2.name) type bridge nf_call_iptables 1 nf_call_ip6tables 1",
        ])
    }

    /// The TAP-written TSO frame of mtu-overlay-1450, cut at vethS (no TSO) after br0 without
    /// br_netfilter: verify expects two frames at vethS-s, the last segment (kept apart by its
    /// owner) first, then the other three merged — what the kernel delivered: 872 then 4260
    /// bytes (14 + 20 + 32 + 806, and 3 × 1398 payload bytes behind one header; verify's TPACKET
    /// ring on 6.18.44, 438 compared, 0 mismatched).
    @Test func verifyExpectsTheLastSegmentFirstAndApart() throws {
        var t = try Shipped.topology("mtu-overlay-1450")
        for a in ["vethS.vethS-s.gro=on", "vethS.vethS.tso=off", "br0.br-netfilter=off"] { try t.apply(assignment: a) }
        let t6 = VerifyRunner.onThisKernel(t).0
        let data = try #require(try Simulator(t6).run(flow: "bulk").flows[0].legs.first { $0.name == "data vm1→server" })
        let plan = LabPlan(t6)
        _ = try LegCheck.make(data, plan: plan).get()
        let peer = try #require(plan.real("vethS-s"))
        let atPeer = try #require(Capture.implied(by: data.steps, plan: plan).first { $0.device == peer.name && !$0.outgoing })
        #expect(atPeer.expected.map(\.frame.count) == [872, 4260])
    }

    /// A namespace's TCP through a veth and a bridge without br_netfilter, cut at a veth without
    /// TSO whose peer has GRO on: nothing orphans verify's AF_PACKET stand-in (a veth's receive
    /// keeps the owner), so its last segment stays apart. verify simulates the stand-in
    /// (`VerifyRunner.simulate`) and expects that: the last segment first, then the merged rest,
    /// at vethS-s — while the stack's own TCP (tcp_wfree, what `csumlab trace` shows) all merge.
    @Test func aNamespacesTCPThroughABridgeWithoutItIsCheckedAsVerifyWritesIt() throws {
        let t = try TestLabs.namespaceBridgeVethGRO(["br0.br-netfilter=off"])
        let t6 = VerifyRunner.onThisKernel(t).0
        let plan = LabPlan(t6)
        let data = try #require(try VerifyRunner.simulate(t6, flow: "bulk").flows[0].legs.first { $0.name == "data client→server" })
        _ = try LegCheck.make(data, plan: plan).get()
        let peer = try #require(plan.real("vethS-s"))
        let atPeer = try #require(Capture.implied(by: data.steps, plan: plan).first { $0.device == peer.name && !$0.outgoing })
        #expect(atPeer.expected.count == 2)
        #expect(atPeer.expected.map(\.frame.count).first.map { $0 < atPeer.expected[1].frame.count } == true)
        // The stack's own segments all merge: one frame.
        let own = try #require(try Simulator(t6).run(flow: "bulk").flows[0].legs.first { $0.name == "data client→server" })
        #expect(Capture.implied(by: own.steps, plan: plan).first { $0.device == peer.name && !$0.outgoing }?.expected.count == 1)
    }

    /// vxlan-gro-after-decap: a namespace's TCP cut on its own device, through a bridge without
    /// br_netfilter, into a tunnel; decapsulated and merged by vxB's GRO, cut again at vethS and
    /// merged by vethS-s's. The tunnel's outer receive (ip_rcv_core) orphaned verify's AF_PACKET
    /// stand-in as it did the stack's skb, and the segments vethS cuts are not tunnelled: the
    /// leg is compared (measured on 6.18: 324 compared, 0 mismatched). Before, the segments cut
    /// after the whole-skb decapsulation counted as tunnelled (the underlay GRO rule fired), and
    /// without that, the owner rule did (it knew no tunnel receive).
    @Test func segmentsCutAfterADecapsulationAreCompared() throws {
        let (_, trace, plan) = try Shipped.prepared("vxlan-gro-after-decap")
        let data = try #require(trace.flows[0].legs.first { $0.name == "data client→server" })
        #expect(data.steps.contains { $0.event.kind == .vxlanOuterReceive })
        #expect(data.steps.filter { $0.event.kind == .vethXmit && $0.interface == "vethS" && $0.segment != nil }.count >= 2)
        _ = try LegCheck.make(data, plan: plan).get()
    }
}
