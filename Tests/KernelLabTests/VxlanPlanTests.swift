import Testing
import Simulation
@testable import KernelLab

/// `verify` creates each vxlan device as the model behaves: `nolearning` (the model sends to
/// `remote` always). A learning device sends the replies to the source address of the last outer
/// packet — behind an underlay router's MASQUERADE, the router (measured on 6.18: the reply legs of
/// vxlan-router-masquerade never arrived, `bridge fdb` showed the inner MAC at the router).
@Suite struct VxlanPlanTests {
    @Test func vxlanDevicesAreCreatedWithoutLearning() throws {
        let (_, _, plan) = try Shipped.prepared("vxlan-router-masquerade")
        let adds = try plan.buildSteps(effective: [:]).compactMap { step -> LabPlan.Command? in
            if case let .ip(c) = step, c.argv.contains("vxlan") { return c }
            return nil
        }
        #expect(adds.count == 2)
        for c in adds {
            #expect(c.argv.last == "nolearning", "\(c.argv)")
            #expect(!c.argv.contains("udpcsum") && !c.argv.contains("noudpcsum"))
        }
    }

    @Test func theIPv6ZeroChecksumKeywordsAreTheFiles() throws {
        let (_, _, plan) = try Shipped.prepared("vxlan-ipv6-zero-csum")
        let adds = try plan.buildSteps(effective: [:]).compactMap { step -> LabPlan.Command? in
            if case let .ip(c) = step, c.argv.contains("vxlan") { return c }
            return nil
        }
        let vxA = try #require(plan.real("vxA")), vxB = try #require(plan.real("vxB"))
        let a = try #require(adds.first { $0.argv.contains(vxA.name) }), b = try #require(adds.first { $0.argv.contains(vxB.name) })
        #expect(a.argv.contains("udp6zerocsumtx") && !a.argv.contains("udp6zerocsumrx"))
        #expect(!b.argv.contains("udp6zerocsumtx") && !b.argv.contains("udp6zerocsumrx"))
        #expect(a.argv.contains("fd00::1") && a.argv.contains("fd00::2"))
    }

    /// The tunnel segmentation features are set by their ethtool names on the real veth end, and
    /// an explicit vxlan `mtu` goes with `ip link add` (before `type`).
    @Test func tunnelFeaturesAndTheMTUReachTheKernel() throws {
        let (t, _, _) = try Shipped.prepared("vxlan-tunnel-segmentation")
        var u = t
        try u.apply(assignment: "vxA.mtu=1400")
        let plan = LabPlan(u)
        let steps = try plan.buildSteps(effective: [:])
        let wireC = try #require(plan.real("wireC"))
        #expect(steps.contains { if case let .feature(_, d, f, on) = $0 { return d == wireC.name && f == .udpTunnelCsumSegmentation && !on }; return false })
        #expect(FeatureNames.ethtool(.udpTunnelCsumSegmentation) == ["tx-udp_tnl-csum-segmentation"])
        let vxA = try #require(plan.real("vxA"))
        let add = try #require(steps.compactMap { s -> LabPlan.Command? in if case let .ip(c) = s, c.argv.contains(vxA.name), c.argv.contains("vxlan") { return c }; return nil }.first)
        let m = try #require(add.argv.firstIndex(of: "mtu"))
        #expect(add.argv[m + 1] == "1400" && m < add.argv.firstIndex(of: "type")!)
        // Without `mtu` the kernel derives it: nothing is passed.
        let vxC = try #require(plan.real("vxC"))
        #expect(!steps.contains { if case let .ip(c) = $0 { return c.argv.contains(vxC.name) && c.argv.contains("mtu") }; return false })
    }

    /// kube-proxy's outer MASQUERADE over an IPv6 underlay is an ip6tables rule.
    @Test func theIPv6OuterMasqueradeIsAnIp6tablesRule() throws {
        let (_, _, plan) = try Shipped.prepared("vxlan-ipv6-outer-masquerade")
        let rules = plan.netfilter.filter { $0.argv.contains("MASQUERADE") }
        #expect(rules.count == 1 && rules.first?.argv.first == "ip6tables", "\(rules.map(\.argv))")
        let (_, _, v4) = try Shipped.prepared("vxlan-outer-masquerade")
        #expect(v4.netfilter.filter { $0.argv.contains("MASQUERADE") }.first?.argv.first == "iptables")
    }
}

/// What verify expects at the receiving vxlan device is what leaves its GRO: the merged
/// super-frame (CSUMNOTREADY, one frame with the whole payload) when GRO is on, the segments
/// (CSUM_VALID: the outer check's csum_valid) when it is off. Measured on 6.18 with a ring on vx0
/// (assets/measurements/vxlan/gro.sh); a plain socket on the underlay clones and hides the merge.
@Suite struct VxlanGROPlanTests {
    private func receiverAtVxB(_ lab: String) throws -> [Observation] {
        let (_, trace, plan) = try Shipped.prepared(lab, flow: "request")
        let data = try #require(trace.flows[0].legs.first { $0.name == "data nodeA→nodeB" })
        let c = try LegCheck.make(data, plan: plan).get()
        let vxB = try #require(plan.real("vxB"))
        // The points are the underlay end and the vxlan device; inner frames (EtherType at 12,
        // IPv4, TCP) are the vxlan device's.
        #expect(c.points.contains(.packet(role: vxB.role, device: vxB.name)))
        return c.expected.filter { $0.frame.count > 23 && $0.frame[12] == 0x08 && $0.frame[13] == 0x00 && $0.frame[23] == 6 }
    }

    @Test func groOnExpectsOneMergedFrame() throws {
        let got = try receiverAtVxB("vxlan-gro-merge")
        #expect(got.count == 1)
        #expect(got.first?.status == .notReady)
        #expect(got.first.map { Int($0.frame[16]) << 8 | Int($0.frame[17]) } == got.first.map { $0.frame.count - 14 })
        #expect((got.first?.frame.count ?? 0) > 4000)
    }

    @Test func groOffExpectsTheSegments() throws {
        let got = try receiverAtVxB("vxlan-gro-off")
        #expect(got.count == 3)
        #expect(got.allSatisfy { $0.status == .valid && $0.frame.count <= 1464 })
    }
}

/// On this kernel (root, netns): the rings let vxB's GRO run, so verify sees the merged frame and
/// agrees with the model. With plain sockets the same run saw the three segments and failed
/// (15 observables, assets/kernel-reference-notes.md "Tunnel GRO").
@Suite struct VxlanGROVerifyTests {
    @Test(.enabled(if: VerifyCleanupTests.enabled, VerifyCleanupTests.requirement("needs root, network namespaces and a built csumlab")))
    func theMergedSuperFrameIsObservedAndMatches() throws {
        let r = try VerifyCleanupTests.runVerify(Shipped.root + "/topologies/vxlan-gro-merge.yaml")
        #expect(r.status == 0, "\(r.report.suffix(2000))")
        #expect(r.report.contains("mismatched 0  → pass"))
        // The data leg's first frame at vxB: 4066 bytes (14 + 20 + 32 + 4000), CSUMNOTREADY.
        #expect(r.report.contains("bytes from offset 12        4066 bytes                     4066 bytes"))
    }
}

/// A vxlan device as a bridge port (vxlan-bridge-port): verify creates it in the namespace its
/// bridge is placed in, over that namespace's underlay, and enslaves it (`ip link set dev VX
/// master BR`) like any other port.
@Suite struct VxlanBridgePortPlanTests {
    @Test func theDeviceLivesWithItsBridgeAndJoinsIt() throws {
        let (_, _, plan) = try Shipped.prepared("vxlan-bridge-port")
        let steps = try plan.buildSteps(effective: [:])
        for (vx, br, host) in [("vxA", "br1", "host1"), ("vxB", "br2", "host2")] {
            let v = try #require(plan.real(vx)), b = try #require(plan.real(br))
            #expect(v.role == plan.hostRole(named: host) && b.role == v.role)
            let add = steps.compactMap { step -> LabPlan.Command? in
                if case let .ip(c) = step, c.argv.contains("vxlan"), c.argv.contains(v.name) { return c }
                return nil
            }
            let underlay = try #require(plan.interfaces(ofHost: host).first { $0.simName == "wire\(vx == "vxA" ? "A" : "B")" })
            #expect(add.count == 1 && add.first.map { a in a.argv.firstIndex(of: "dev").map { a.argv[$0 + 1] } } == underlay.name)
            #expect(add.first?.argv.contains("noudpcsum") == true)
            let joined = steps.contains { step in
                if case let .up(role, device, master) = step { return role == v.role && device == v.name && master == b.name }
                return false
            }
            #expect(joined)
        }
    }
}

@Suite struct VxlanBridgePortVerifyTests {
    @Test(.enabled(if: VerifyCleanupTests.enabled, VerifyCleanupTests.requirement("needs root, network namespaces and a built csumlab")))
    func theFarTAPGetsTheMergedGSOFrameAsModelled() throws {
        let r = try VerifyCleanupTests.runVerify(Shipped.root + "/topologies/vxlan-bridge-port.yaml")
        #expect(r.status == 0, "\(r.report.suffix(2000))")
        #expect(r.report.contains("TCPV4/1398/66"))
        #expect(r.report.contains("mismatched 0"))
    }
}

/// A vxlan device inside a VM (vxlan-in-vm): the lab has no guest kernel, so verify creates no
/// device for it and says so; vxB on the host side is created as usual.
@Suite struct VxlanInVMPlanTests {
    @Test func theGuestsTunnelDeviceIsNotCreated() throws {
        let (_, _, plan) = try Shipped.prepared("vxlan-in-vm")
        #expect(plan.real("vxA") == nil)
        #expect(plan.notes.contains { $0.hasPrefix("vxA lives inside vm1") })
        let adds = try plan.buildSteps(effective: [:]).compactMap { step -> LabPlan.Command? in
            if case let .ip(c) = step, c.argv.contains("vxlan") { return c }
            return nil
        }
        let vxB = try #require(plan.real("vxB"))
        #expect(adds.count == 1 && adds.first?.argv.contains(vxB.name) == true)
        #expect(plan.taps(ofVM: "vm1").count == 1)
    }

    @Test(.enabled(if: VerifyCleanupTests.enabled, VerifyCleanupTests.requirement("needs root, network namespaces and a built csumlab")))
    func theHostSideMatches() throws {
        let r = try VerifyCleanupTests.runVerify(Shipped.root + "/topologies/vxlan-in-vm.yaml")
        #expect(r.status == 0, "\(r.report.suffix(2000))")
        #expect(r.report.contains("mismatched 0"))
    }
}

/// Why `LegCheck.make` refuses a leg (the test fails when it does not).
private func notCheckable(_ leg: LegTrace, _ plan: LabPlan) throws -> NotCheckableLeg {
    guard case let .failure(e) = LegCheck.make(leg, plan: plan) else {
        throw NotCheckableLeg("\(leg.name) was checkable; it should not be")
    }
    return e
}

/// Several tunnelled TCP segments sent by a veth end without TSO to a peer with GRO on take the
/// peer's NAPI path, whose UDP tunnel GRO (udp_gro_receive → vxlan_gro_receive →
/// tcp4_gro_receive) merges them on the underlay (`Elements/UnderlayGRO.swift`). Measured on 6.18
/// (random campaign 2026-12-06, vxlan-gro-merge with `wire.wireB.gro=on`): of three segments
/// verify's AF_PACKET writer sent, the first two arrived merged at wireB, the third alone — the
/// writer's sock_wfree owner, which skb_segment() hands to the last segment, keeps it apart.
/// verify simulates that writer (`VerifyRunner.simulate`: 151 compared, 0 mismatched on 6.18); a
/// namespace's own TCP (tcp_wfree) has all three merge. A VM's segments, orphaned by br1's
/// br_netfilter first, all merge either way (`vxlan-bridge-port` with `wire.wireB.gro=on`: 238
/// compared, 0 mismatched on 6.18).
@Suite struct UnderlayTunnelGROTests {
    private func dataLeg(_ sets: [String], leg: String, lab: String = "vxlan-gro-merge", flow: String = "request",
                         stack: Bool = false) throws -> (LegTrace, LabPlan) {
        var t = try Shipped.topology(lab)
        for a in sets { try t.apply(assignment: a) }
        let (t6, _) = VerifyRunner.onThisKernel(t)
        let trace = stack ? try Simulator(t6).run(flow: flow) : try VerifyRunner.simulate(t6, flow: flow)
        return (try #require(trace.flows[0].legs.first { $0.name == leg }), LabPlan(t6))
    }

    /// Frames expected at `device` as received (the GRO peer).
    private func expectedAt(_ device: String, _ leg: LegTrace, _ plan: LabPlan) throws -> [Observation] {
        let peer = try #require(plan.real(device))
        return try #require(Capture.implied(by: leg.steps, plan: plan).first { $0.device == peer.name && !$0.outgoing }).expected
    }

    @Test func aNamespacesSegmentsAreCheckedAsVerifyWritesThem() throws {
        let (data, plan) = try dataLeg(["wire.wireB.gro=on"], leg: "data nodeA→nodeB")
        _ = try LegCheck.make(data, plan: plan).get()
        // The last segment alone (it carries PSH: up at once), then the first two merged.
        let frames = try expectedAt("wireB", data, plan)
        #expect(frames.count == 2)
        #expect(frames.first?.status == .valid && frames.last?.status == .notReady)
    }

    /// The stack's own TCP: the three outer packets go up as one tunnelled GSO skb.
    @Test func theStacksSegmentsAllMergeOnTheUnderlay() throws {
        let (data, _) = try dataLeg(["wire.wireB.gro=on"], leg: "data nodeA→nodeB", stack: true)
        let merged = data.steps.compactMap { s -> Int? in
            if case let .tunnelGROComplete(device, n, _, _, u) = s.event, device == "wireB", u != nil { return n }
            return nil
        }
        #expect(merged == [3])
    }

    /// A VM's segments, orphaned by br1's br_netfilter before vxA encapsulates them: compared,
    /// one merged frame expected at wireB (CSUMNOTREADY, the whole 4000 bytes of payload).
    @Test func aVMsSegmentsMergeAndTheLegIsChecked() throws {
        let (data, plan) = try dataLeg(["wire.wireB.gro=on"], leg: "data vm1→vm2", lab: "vxlan-bridge-port", flow: "request")
        _ = try LegCheck.make(data, plan: plan).get()
        let peer = try #require(plan.real("wireB"))
        let atPeer = try #require(Capture.implied(by: data.steps, plan: plan).first { $0.device == peer.name && !$0.outgoing })
        #expect(atPeer.expected.count == 1)
        #expect(atPeer.expected.first?.status == .notReady)
        #expect(atPeer.expected.first.map { $0.frame.count - 50 } == 14 + 20 + 32 + 4000)
    }

    @Test func theReverseDirectionIsCheckedToo() throws {
        let (data, plan) = try dataLeg(["wire.wireB.tso=off", "wire.wireA.gro=on"], leg: "data nodeB→nodeA")
        _ = try LegCheck.make(data, plan: plan).get()
        #expect(try expectedAt("wireA", data, plan).count == 2)
    }

    /// GRO off on the underlay (the lab as shipped), or a lone packet (the SYN, matched by the
    /// kernel in the same run): checked as before.
    @Test func withoutUnderlayGROOrWithOnePacketTheLegIsChecked() throws {
        let (data, plan) = try dataLeg([], leg: "data nodeA→nodeB")
        #expect((try? LegCheck.make(data, plan: plan).get()) != nil)
        let (syn, plan2) = try dataLeg(["wire.wireB.gro=on"], leg: "SYN")
        #expect((try? LegCheck.make(syn, plan: plan2).get()) != nil)
    }
}

/// Several TCP segments of one skb (cut in software at a veth end without TSO) crossing to a
/// peer with GRO on take the peer's NAPI path and are merged there (tcp4_gro_receive), which
/// the model does not do on a plain veth; and the last segment, which skb_segment() gives the
/// writer's sock_wfree, stays out of the merge (gro_list_prepare: `p->sk != skb->sk`) and,
/// carrying PSH, is delivered first. Measured on 6.18 (random campaign seed 20261216,
/// mtu-overlay-1450 with `vethS.vethS.gro=on`, `vethS.vethS-s.tso=off`; runs of 2, 3 and 4
/// segments with and without a short tail): the last segment first, the rest merged after.
@Suite struct VethGROTests {
    private func leg(_ sets: [String], _ name: String) throws -> (LegTrace, LabPlan) {
        var t = try Shipped.topology("mtu-overlay-1450")
        for a in sets { try t.apply(assignment: a) }
        let (t6, _) = VerifyRunner.onThisKernel(t)
        let trace = try Simulator(t6).run(flow: "bulk")
        return (try #require(trace.flows[0].legs.first { $0.name == name }), LabPlan(t6))
    }

    /// verify's AF_PACKET writer (sock_wfree): the last segment apart and first, the other three
    /// merged after — what the kernel delivered (measured on 6.18: 438 compared, 0 mismatched).
    @Test func softwareSegmentsIntoAGROPeerAreCheckedAsVerifyWritesThem() throws {
        var t = try Shipped.topology("mtu-overlay-1450")
        for a in ["vethS.vethS.gro=on", "vethS.vethS-s.tso=off"] { try t.apply(assignment: a) }
        let (t6, _) = VerifyRunner.onThisKernel(t)
        let plan = LabPlan(t6)
        let data = try #require(try VerifyRunner.simulate(t6, flow: "bulk").flows[0].legs.first { $0.name == "data server→vm1" })
        _ = try LegCheck.make(data, plan: plan).get()
        let peer = try #require(plan.real("vethS"))
        let frames = try #require(Capture.implied(by: data.steps, plan: plan).first { $0.device == peer.name && !$0.outgoing }).expected
        #expect(frames.count == 2)
        #expect(frames.count == 2 && frames[0].frame.count < frames[1].frame.count)
    }

    /// The model merges them (`Elements/VethGRO.swift`): a namespace's TCP segments carry
    /// tcp_wfree, which skb_prepare_for_gro() drops, so all four merge and go up once.
    @Test func aKernelTCPSendersSegmentsAllMerge() throws {
        let (data, _) = try leg(["vethS.vethS.gro=on", "vethS.vethS-s.tso=off"], "data server→vm1")
        let completes = data.steps.compactMap { s -> Int? in
            if case let .tunnelGROComplete(device, segments, _, _, _) = s.event, device == "vethS" { return segments }
            return nil
        }
        #expect(completes == [4])
        #expect(!data.steps.contains { if case let .tunnelGRO(g) = $0.event { return g.keptApart }; return false })
    }

    /// A TAP-written skb (the VM's TSO frame) cut at vethS: the segments all merge (measured on
    /// 6.18: one 5066-byte frame at vethS-s: 14 + 20 + 32 + 5000), and verify checks the leg, expecting that frame.
    @Test func aTAPWritersSegmentsMergeAndTheLegIsChecked() throws {
        let (data, plan) = try leg(["vethS.vethS-s.gro=on", "vethS.vethS.tso=off"], "data vm1→server")
        let check = try LegCheck.make(data, plan: plan).get()
        let peer = try #require(plan.real("vethS-s"))
        let atPeer = try #require(Capture.implied(by: data.steps, plan: plan).first { $0.device == peer.name && !$0.outgoing })
        #expect(atPeer.expected.count == 1)
        #expect(atPeer.expected.first?.frame.count == 14 + 20 + 32 + 5000)
        #expect(atPeer.expected.first?.status == .notReady)
        #expect(!check.expected.isEmpty)
    }

    /// A namespace's TCP through a veth and a bridge to a veth end without TSO whose peer has
    /// GRO on: the bridge's br_netfilter orphaned the skb before it is cut (`setup_pre_routing`),
    /// so all the segments merge, in the kernel (measured on 6.18 with verify's AF_PACKET writer:
    /// one 5066-byte frame at vethS-s) and in the model; so verify checks the leg.
    @Test func segmentsCutAfterABridgeWithBrNetfilterAllMergeAndAreChecked() throws {
        let t = try TestLabs.namespaceBridgeVethGRO([])
        let (t6, _) = VerifyRunner.onThisKernel(t)
        let trace = try Simulator(t6).run(flow: "bulk")
        let data = try #require(trace.flows[0].legs.first { $0.name == "data client→server" })
        let completes = data.steps.compactMap { s -> Int? in
            if case let .tunnelGROComplete(device, segments, _, _, _) = s.event, device == "vethS-s" { return segments }
            return nil
        }
        #expect(completes == [4])
        let plan = LabPlan(t6)
        #expect((try? LegCheck.make(data, plan: plan).get()) != nil)
    }

    /// An AF_PACKET writer's skb (a userspace forwarder with PACKET_VNET_HDR writing the VM's
    /// TSO frame): skb_segment() hands its sock_wfree owner to the last segment, which GRO keeps
    /// apart and, with PSH, sends up first; the others merge and follow (measured on 6.18 with
    /// verify's own AF_PACKET writer, session 12).
    @Test func anAFPacketWritersLastSegmentGoesUpFirstAndAlone() throws {
        var t = try Shipped.topology("seed-routed-userspace")
        for a in ["router.vnet-hdr=on", "vethB.vethB-r.tso=off", "vethB.vethB.gro=on"] { try t.apply(assignment: a) }
        var big = Flow(name: "big", kind: .tcp, from: "vm1", to: "vm2")
        big.payload = 4000
        t.flows = [big]
        let trace = try Simulator(t).run(flow: "big")
        let data = try #require(trace.flows[0].legs.first { $0.name == "data vm1→vm2" })
        let apart = try #require(data.steps.firstIndex { if case let .tunnelGRO(g) = $0.event { return g.keptApart && g.veth }; return false })
        let complete = try #require(data.steps.firstIndex { if case .tunnelGROComplete = $0.event { return true }; return false })
        #expect(apart < complete)
        #expect(data.steps[apart].segment == 3)
        #expect(data.steps[apart].event.explanation.contains("p->sk != skb->sk"))
        #expect(data.steps[apart].event.explanation.contains("before the held segments"))
        if case let .tunnelGROComplete(device, segments, _, _, _) = data.steps[complete].event {
            #expect(device == "vethB" && segments == 2)
        }
        // The lone last segment reaches vm2 before the merged two.
        let deliveries = data.steps.filter { $0.element == "vm2" && $0.direction == .deliver }
        #expect(deliveries.count == 2 && deliveries.first?.segment == 3)
    }

    /// GRO off on the far end (the lab as shipped), TSO on at the sender (the super-frame
    /// crosses whole: veth_skb_is_eligible_for_gro() says no), or one packet: checked.
    @Test func otherwiseTheLegIsChecked() throws {
        let (shipped, p1) = try leg(["vethS.vethS-s.tso=off"], "data server→vm1")
        #expect((try? LegCheck.make(shipped, plan: p1).get()) != nil)
        let (whole, p2) = try leg(["vethS.vethS.gro=on"], "data server→vm1")
        #expect((try? LegCheck.make(whole, plan: p2).get()) != nil)
        let (syn, p3) = try leg(["vethS.vethS.gro=on", "vethS.vethS-s.tso=off"], "SYN-ACK")
        #expect((try? LegCheck.make(syn, plan: p3).get()) != nil)
    }
}
