import Testing
import Lessons
import Simulation
import TestSupport

/// What lessons 03–06 say in their narration and feedback (numbers, states, which change does
/// nothing), checked on the trace, with checksum values recomputed from the frame bytes by the
/// independent reference in TestSupport. The generic tests in ShippedLessonTests check answers
/// and tasks; these check the prose.
@Suite struct LessonStatementTests {
    func lesson(_ file: String) throws -> (Lesson, Trace) {
        let l = try LessonFile.load(path: shippedLessonDirectory + "/" + file)
        return (l, try Simulator(l.lab.topology).run())
    }

    func step(_ trace: Trace, flow: String, leg: String, node: String, interface: String? = nil,
              direction: Direction? = nil, function: String? = nil, last: Bool = false) throws -> Step {
        let sel = StepSelector(flow: flow, leg: leg, node: node, interface: interface, direction: direction,
                               function: function, occurrence: last ? .last : .first)
        let loc = try #require(sel.locate(in: trace, defaultFlow: flow), "\(leg) at \(node) \(function ?? "")")
        return try #require(loc.step(in: trace))
    }

    func leg(_ trace: Trace, _ flow: String, _ name: String) throws -> LegTrace {
        let f = try #require(trace.flows.first { $0.flow == flow })
        return try #require(f.legs.first { $0.name == name })
    }

    func verdict(_ trace: Trace, _ flow: String) -> FlowVerdict? { trace.flows.first { $0.flow == flow }?.verdict }

    func ipSummed(_ s: Step) -> String? {
        if case let .skb(state) = s.after { return state.ipSummed.rawValue }
        return nil
    }

    /// The TCP field read from the frame bytes (IPv4).
    func tcpField(_ f: [UInt8]) -> UInt16 {
        let at = 14 + Int(f[14] & 0x0F) * 4 + 16
        return UInt16(f[at]) << 8 | UInt16(f[at + 1])
    }

    func tcpLength(_ f: [UInt8]) -> Int { (Int(f[16]) << 8 | Int(f[17])) - Int(f[14] & 0x0F) * 4 }
    func tcpPayload(_ f: [UInt8]) -> Int { tcpLength(f) - Int(f[14 + Int(f[14] & 0x0F) * 4 + 12] >> 4) * 4 }

    @Test func lesson03WhereTxOffActs() throws {
        let (l, base) = try lesson("03-where-tx-off-goes.yaml")
        let lab = l.lab.topology
        // packet_snd writes the unfinished pseudo-header sum in a CHECKSUM_NONE skb.
        let snd = try step(base, flow: "ssh", leg: "SYN", node: "router", function: "packet_snd")
        #expect(ipSummed(snd) == "CHECKSUM_NONE")
        #expect(tcpField(snd.frame) == naivePseudoHeaderSum(snd.frame))
        #expect(tcpField(snd.frame) != naiveL4Checksum(snd.frame))
        // Bridges' and the router's egress ends' tx flags change nothing for the SYN.
        for nothing in [["br1.tx=off", "br2.tx=off"], ["vethA.vethA-r.tx=off", "vethB.vethB-r.tx=off"]] {
            let (_, t) = try applying(nothing, to: lab)
            #expect(try leg(t, "ssh", "SYN").steps.map(\.frame) == leg(base, "ssh", "SYN").steps.map(\.frame), "\(nothing)")
            #expect(verdict(t, "ssh")?.completes == false)
        }
        // tx off on vethA finishes the SYN before the router, with a correct checksum.
        let (_, a) = try applying(["vethA.vethA.tx=off"], to: lab)
        let help = try step(a, flow: "ssh", leg: "SYN", node: "vethA", function: "skb_checksum_help")
        #expect(ipSummed(help) == "CHECKSUM_NONE" && tcpField(help.frame) == naiveL4Checksum(help.frame))
        #expect(try leg(a, "ssh", "SYN").outcome == .accepted)
        #expect(try leg(a, "ssh", "SYN-ACK").outcome != .accepted, "one end fixes one direction")
        // One VM fixes one direction; both fix SSH (and lose TSO).
        let (_, one) = try applying(["vm1.eth0.tx=off"], to: lab)
        #expect(try leg(one, "ssh", "SYN").outcome == .accepted)
        #expect(try leg(one, "ssh", "SYN-ACK").outcome.code == "dropped-by-receiver")
        let (_, both) = try applying(["vm1.eth0.tx=off", "vm2.eth0.tx=off"], to: lab)
        #expect(verdict(both, "ssh")?.completes == true)
        let vm1 = try #require(both.devices.first { $0.device.hasPrefix("vm1") })
        #expect(!vm1.on.contains(.tso))
    }

    @Test func lesson04NatUpdatesThePseudoHeaderSum() throws {
        let (l, base) = try lesson("04-nat-partial.yaml")
        let before = try step(base, flow: "ssh", leg: "SYN", node: "vethA")
        let nat = try step(base, flow: "ssh", leg: "SYN", node: "router", function: "inet_proto_csum_replace4")
        let tap2 = try step(base, flow: "ssh", leg: "SYN", node: "tap2")
        // The numbers the pages quote, recomputed from the bytes.
        #expect(tcpField(before.frame) == 0x1732 && naivePseudoHeaderSum(before.frame) == 0x1732)
        #expect(Array(before.frame[26..<30]) == [10, 0, 1, 2])
        #expect(Array(tap2.frame[26..<30]) == [10, 0, 2, 1], "MASQUERADE to 10.0.2.1")
        #expect(tcpField(tap2.frame) == 0x1831 && naivePseudoHeaderSum(tap2.frame) == 0x1831)
        #expect(naiveFold([0x1732, 0x00FF]) == 0x1831)
        #expect(ipSummed(nat) == "CHECKSUM_PARTIAL")
        // Only the NAT step changes the field on the SYN's way.
        let changes = try leg(base, "ssh", "SYN").steps.indices.dropFirst().filter { i in
            let s = try leg(base, "ssh", "SYN").steps
            return s[i].l4Field != s[i - 1].l4Field
        }
        #expect(try changes.map { try leg(base, "ssh", "SYN").steps[$0].event.kind } == [nat.event.kind])
        // With tx off in VM1: the finished checksum goes from 0x79b5 to 0x78b6 and stays valid.
        let (_, off) = try applying(["vm1.eth0.tx=off"], to: l.lab.topology)
        let steps = try leg(off, "ssh", "SYN").steps
        let i = try #require(steps.firstIndex { $0.element == "router" && $0.event.kind == .masquerade })
        #expect(tcpField(steps[i - 1].frame) == 0x79B5 && naiveL4Checksum(steps[i - 1].frame) == 0x79B5)
        #expect(tcpField(steps[i].frame) == 0x78B6 && naiveL4Checksum(steps[i].frame) == 0x78B6)
        // Completing after the NAT (the task) gives the checksum of the NATed bytes.
        let (_, after) = try applying(["vethB.vethB-r.tx=off"], to: l.lab.topology)
        let done = try step(after, flow: "ssh", leg: "SYN", node: "tap2")
        #expect(tcpField(done.frame) == naiveL4Checksum(done.frame))
    }

    @Test func lesson05SegmentsCarryTheirOwnSums() throws {
        let (l, base) = try lesson("05-tso-to-tap.yaml")
        let data = "data vm1→vm2"
        let tap1 = try step(base, flow: "bulk", leg: data, node: "tap1")
        #expect(tcpLength(tap1.frame) == 4032 && tcpPayload(tap1.frame) == 4000)
        #expect(tcpField(tap1.frame) == naivePseudoHeaderSum(tap1.frame) && tcpField(tap1.frame) == 0x23C9)
        let segs = try leg(base, "bulk", data).steps.filter { $0.element == "tap2" && $0.event.kind == .gsoSegment }
        #expect(segs.count == 3)
        #expect(segs.map { tcpPayload($0.frame) } == [1448, 1448, 1104])
        for s in segs {
            #expect(ipSummed(s) == "CHECKSUM_PARTIAL")
            #expect(tcpField(s.frame) == naivePseudoHeaderSum(s.frame))
        }
        #expect(tcpField(segs[0].frame) == tcpField(segs[1].frame) && tcpField(segs[1].frame) != tcpField(segs[2].frame))
        #expect(naiveL4Checksum(segs[0].frame) != naiveL4Checksum(segs[1].frame), "the final checksums differ")
        // Without GUEST_CSUM: complete, NONE, flags 0.
        let (_, noCsum) = try applying(["vm2.guest-csum=off"], to: l.lab.topology)
        for s in try leg(noCsum, "bulk", data).steps where s.element == "tap2" && s.event.kind == .tunPutUser {
            #expect(tcpField(s.frame) == naiveL4Checksum(s.frame))
            if case let .vnet(h) = s.after { #expect(h.flags == 0) } else { Issue.record("no vnet header at tap2") }
        }
        // With GUEST_TSO: VM2 gets the super-frame whole, its field the sum for 4032 bytes.
        let (_, tso) = try applying(["vm2.guest-tso=on"], to: l.lab.topology)
        let rx = try step(tso, flow: "bulk", leg: data, node: "vm2", direction: .receive)
        #expect(tcpLength(rx.frame) == 4032 && tcpField(rx.frame) == 0x23C9)
        // Giving tap2 TSO without the guest's consent drops the frame there.
        let (_, forced) = try applying(["tap2.tun-tso4=on"], to: l.lab.topology)
        #expect(try leg(forced, "bulk", data).outcome.code == "dropped-on-path")
    }

    @Test func lesson06OldVethMarksUncheckedFramesVerified() throws {
        let (l, base) = try lesson("06-veth-pre44.yaml")
        let data = "data nic0→container"
        let nic = try step(base, flow: "http", leg: data, node: "nic0", function: "napi_gro_receive")
        #expect(ipSummed(nic) == "CHECKSUM_NONE")
        #expect(tcpField(nic.frame) != naiveL4Checksum(nic.frame), "the bytes were corrupted")
        let veth = try step(base, flow: "http", leg: data, node: "v0", function: "veth_xmit")
        #expect(ipSummed(veth) == "CHECKSUM_UNNECESSARY")
        #expect(try leg(base, "http", data).outcome == .acceptedCorrupted)
        let syn = try step(base, flow: "http", leg: "SYN", node: "nic0", function: "napi_gro_receive")
        #expect(ipSummed(syn) == "CHECKSUM_UNNECESSARY")
        let synack = try step(base, flow: "http", leg: "SYN-ACK", node: "v0", interface: "ceth0")
        #expect(ipSummed(synack) == "CHECKSUM_PARTIAL" && tcpField(synack.frame) == naivePseudoHeaderSum(synack.frame))
        // 4.4 (ce8c839b74e3): NONE crosses and the container drops it.
        let (_, fixed) = try applying(["kernel=linux-4.4"], to: l.lab.topology)
        #expect(try leg(fixed, "http", data).outcome.code == "dropped-by-receiver")
        #expect(ipSummed(try step(fixed, flow: "http", leg: data, node: "v0", function: "veth_xmit")) == "CHECKSUM_NONE")
        // The veth0 tx flag and the NIC's rx flag change nothing; ceth0 rx off does.
        for nothing in [["v0.veth0.tx=off"], ["nic0.rx=off"]] {
            let (_, t) = try applying(nothing, to: l.lab.topology)
            #expect(try leg(t, "http", data).outcome == .acceptedCorrupted, "\(nothing)")
        }
        let (_, rxOff) = try applying(["v0.ceth0.rx=off"], to: l.lab.topology)
        #expect(try leg(rxOff, "http", data).outcome.code == "dropped-by-receiver")
        let (_, ct) = try applying(["host.drop-invalid=on"], to: l.lab.topology)
        #expect(try leg(ct, "http", data).outcome.code == "dropped-on-path")
    }

    @Test func lesson07TheOuterChecksumAfterNAT() throws {
        let (l, base) = try lesson("07-vxlan-outer-nat.yaml")
        let syn = "SYN"
        func udpField(_ f: [UInt8]) -> UInt16 {
            let at = 14 + Int(f[14] & 0x0F) * 4 + 6
            return UInt16(f[at]) << 8 | UInt16(f[at + 1])
        }
        /// The frame with its inner TCP checksum filled in (inner Ethernet at byte 50).
        func innerCompleted(_ f: [UInt8]) -> [UInt8] {
            var g = f
            let inner = Array(f[50...])
            let at = 50 + 14 + Int(inner[14] & 0x0F) * 4 + 16
            g[at] = 0; g[at + 1] = 0
            let c = naiveL4Checksum(Array(g[50...]))
            g[at] = UInt8(c >> 8); g[at + 1] = UInt8(c & 0xFF)
            return g
        }
        // Encapsulation: csum_start on the inner TCP header, outer field still 0.
        let encap = try step(base, flow: "request", leg: syn, node: "nodeA", function: "vxlan_xmit_one")
        #expect(udpField(encap.frame) == 0)
        // LCO: the outer checksum is the one the packet has once the inner is filled in, and
        // does not verify over the bytes as they stand.
        let lco = try step(base, flow: "request", leg: syn, node: "nodeA", function: "lco_csum")
        #expect(udpField(lco.frame) == naiveL4Checksum(innerCompleted(lco.frame)))
        #expect(udpField(lco.frame) != naiveL4Checksum(lco.frame))
        // NAT: the field is left as it was while the port changed, so the checksum the filled-in
        // packet needs is no longer the field.
        let nat = try step(base, flow: "request", leg: syn, node: "nodeA", function: "udp_manip_pkt")
        #expect(udpField(nat.frame) == udpField(lco.frame))
        #expect(nat.frame[14 + 20] != lco.frame[14 + 20] || nat.frame[14 + 21] != lco.frame[14 + 21], "the outer source port changed")
        #expect(udpField(nat.frame) != naiveL4Checksum(innerCompleted(nat.frame)))
        // The underlay fills the inner; nodeB drops the SYN and counts it.
        let help = try step(base, flow: "request", leg: syn, node: "wire", function: "skb_checksum_help")
        #expect(ipSummed(help) == "CHECKSUM_NONE" && help.frame == innerCompleted(nat.frame))
        #expect(try leg(base, "request", syn).outcome == .droppedByReceiver(counter: "Udp: InCsumErrors"))
        // The fixes the last pages name work; the attempts do not.
        for fix in ["vxA.udpcsum=off", "vxA.tx=off"] {
            let (_, t) = try applying([fix], to: l.lab.topology)
            #expect(verdict(t, "request")?.completes == true, "\(fix)")
        }
        for attempt in ["wire.wireB.tx=off", "vxB.udpcsum=off"] {
            let (_, t) = try applying([attempt], to: l.lab.topology)
            #expect(verdict(t, "request")?.completes == false, "\(attempt)")
        }
        // noudpcsum: a zero outer field stays zero through the NAT.
        let (_, zero) = try applying(["vxA.udpcsum=off"], to: l.lab.topology)
        #expect(udpField(try step(zero, flow: "request", leg: syn, node: "nodeA", function: "udp_manip_pkt").frame) == 0)
    }
}
