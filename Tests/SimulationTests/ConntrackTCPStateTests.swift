import Testing
@testable import Simulation
import TopologyFile
import Wire

/// Conntrack's TCP state at a NAT router, as far as the model tracks it: an entry made by a SYN
/// whose SYN-ACK never came back through is in SYN_SENT, and a later original-direction segment
/// without SYN is INVALID there (`tcp_conntracks`: sSS → sIV), so it leaves un-NATed. Measured
/// on 6.18 with `csumlab verify topologies/vxlan-double-masquerade.yaml`: the data segment after
/// the unanswered SYN reached wireA and nodeB with its inner source still 10.244.0.2.
@Suite struct ConntrackTCPStateTests {
    static func innerSource(_ st: Step) -> String? {
        guard let i = st.inner, let l = try? FrameLayout.parse(Array(st.frame[i.offset...])) else { return nil }
        return IPAddress(bytes: Frame(bytes: Array(st.frame[i.offset...])).sourceAddress(l)).description
    }

    @Test func aSegmentAfterAnUnansweredSYNIsNotNATed() throws {
        let tr = try run(loadShipped("vxlan-double-masquerade").topology, flow: "request")
        let syn = try #require(leg(tr, "request", "SYN"))
        let data = try #require(leg(tr, "request", "data pod→nodeB"))
        // The SYN is masqueraded to nodeA's tunnel address; the data segment is not.
        #expect(syn.step(.masquerade, at: "nodeA") != nil)
        #expect(data.step(.conntrackTCPStateInvalid, at: "nodeA") != nil)
        #expect(data.step(.masquerade, at: "nodeA") == nil)
        let wireA = try #require(data.steps.last { $0.element == "wire" && $0.inner != nil })
        #expect(Self.innerSource(wireA) == "10.244.0.2")
    }

    /// With `drop-invalid` (a ct state invalid drop rule) the same segment dies at the router.
    @Test func aDropInvalidRuleDropsIt() throws {
        let t = try with(loadShipped("vxlan-double-masquerade").topology, ["nodeA.drop-invalid=on"])
        let data = try #require(leg(try run(t, flow: "request"), "request", "data pod→nodeB"))
        #expect(data.step(.conntrackTCPStateInvalid, at: "nodeA") != nil)
        #expect(data.outcome == .droppedOnPath(at: "nodeA", reason: "conntrack INVALID (a segment after an unanswered SYN) dropped by a ct state invalid rule"))
    }

    /// When the SYN-ACK comes back through the router (udpcsum off: the SYN is delivered), the
    /// entry leaves SYN_SENT and the data segment is NATed like the SYN.
    @Test func anAnsweredSYNLetsTheDataThrough() throws {
        let t = try with(loadShipped("vxlan-double-masquerade").topology, ["vxA.udpcsum=off"])
        let tr = try run(t, flow: "request")
        let data = try #require(leg(tr, "request", "data pod→nodeB"))
        #expect(data.step(.conntrackTCPStateInvalid) == nil)
        #expect(data.step(.masquerade, at: "nodeA") != nil)
        #expect(tr.flows.first?.verdict.completes == true)
    }

    /// A tunnel endpoint may sit in a netns router, not in a router VM or a userspace forwarder.
    @Test func aTunnelInARouterVMIsRefused() throws {
        var t = try loadShipped("vxlan-double-masquerade").topology
        #expect(TopologyFile.validate(t, file: "lab.yaml").isEmpty)
        try t.apply(assignment: "nodeA.flavour=userspace")
        let problems = TopologyFile.validate(t, file: "lab.yaml").map(\.message)
        #expect(problems.contains { $0.contains("tunnel endpoint in a router VM or a userspace forwarder is not modelled") })
    }
}

/// `skb_checksum_help()` sets CHECKSUM_NONE and nothing else: a `csum_valid` an earlier software
/// check left (here the pod-side router's conntrack verifying the inner TCP of a pod that sends
/// finished checksums) survives it, so wireB's packet socket reports TP_STATUS_CSUM_VALID for the
/// tunnelled frame (6.18, `verify topologies/vxlan-double-masquerade.yaml --set
/// podwire.pw0.tx=off`; random campaign seed 20261211 run 1, reduced).
@Suite struct ChecksumHelpKeepsCsumValidTests {
    @Test func csumValidSurvivesChecksumHelp() throws {
        let t = try with(loadShipped("vxlan-double-masquerade").topology, ["podwire.pw0.tx=off"])
        let syn = try #require(leg(try run(t, flow: "request"), "request", "SYN"))
        let help = try #require(syn.steps.first { $0.element == "wire" && $0.event.kind == .checksumHelp })
        guard case let .skb(before) = help.before, case let .skb(after) = help.after else { throw Unexpected() }
        #expect(before.ipSummed == .partial && before.csumValid)
        #expect(after.ipSummed == .none && after.csumValid)
        let atWireB = try #require(syn.steps.first { $0.element == "nodeB" && $0.interface == "wireB" })
        guard case let .skb(rx) = atWireB.before else { throw Unexpected() }
        #expect(rx.csumValid)
    }

    /// The outer UDP check's csum_valid survives decapsulation and a router's forwarding, and
    /// pw1's `skb_checksum_help()`: pod's ring sees TP_STATUS_CSUM_VALID on the SYN-ACK (6.18,
    /// `--set podwire.pw1.tx=off`; seed 20261211 runs 3 and 7). The pod's TCP still sums the
    /// segment itself: `__skb_checksum_validate()` zeroes csum_valid first.
    @Test func theOuterChecksMarkSurvivesDecapsulationIntoARouter() throws {
        let t = try with(loadShipped("vxlan-double-masquerade").topology, ["podwire.pw1.tx=off"])
        let synAck = try #require(leg(try run(t, flow: "request"), "request", "SYN-ACK"))
        let help = try #require(synAck.steps.first { $0.element == "podwire" && $0.event.kind == .checksumHelp })
        guard case let .skb(after) = help.after else { throw Unexpected() }
        #expect(after.ipSummed == .none && after.csumValid)
        let deliver = try #require(synAck.steps.last { $0.direction == .deliver })
        guard case let .transportReceive(r) = deliver.event else { throw Unexpected() }
        guard case .verified(valid: true) = r.check else { Issue.record("\(r.check)"); return }
    }

    struct Unexpected: Error {}
}
