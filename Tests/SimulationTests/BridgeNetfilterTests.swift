import Testing
import Simulation
import Wire
import TestSupport

// br_netfilter (#16 campaign, 2026-12-06, seed 20261213): a bridge in a namespace where
// conntrack is loaded passes bridged frames through nf_conntrack_in's checksum check
// (br_nf_pre_routing → nf_ip_checksum). A frame vxB decapsulated after verifying the outer is
// CHECKSUM_COMPLETE; the check verifies it and marks it UNNECESSARY, so tap2's reader sees
// DATA_VALID — measured on 6.18 with vxlan-bridge-port --set vxA.udpcsum=on --set
// vxB.outer-masquerade=on (kube-proxy's nat rule loads conntrack in host2).

@Suite struct BridgeNetfilterTests {
    private func syn(_ sets: [String]) throws -> LegTrace {
        let t = try with(loadShipped("vxlan-bridge-port").topology, sets)
        return try #require(leg(try run(t, flow: "request"), "request", "SYN"))
    }

    @Test func aVerifiedCompleteFrameLeavesTheBridgeUnnecessary() throws {
        let l = try syn(["vxA.udpcsum=on", "vxB.outer-masquerade=on"])
        let ct = try #require(l.steps.first { $0.event.kind == .bridgeConntrackCheck && $0.element == "br2" })
        guard case let .bridgeConntrackCheck(_, _, result, _, _) = ct.event else { Issue.record("\(ct.event)"); return }
        #expect(result == .validComplete)
        #expect(ct.before.skbState?.ipSummed == .complete && ct.after.skbState?.ipSummed == .unnecessary)
        // The inner TCP checksum it vouched for is right (naive reference).
        #expect(naiveL4Checksum(ct.frame) == UInt16(ct.frame[34 + 16]) << 8 | UInt16(ct.frame[34 + 17]))
        let tap2 = try #require(l.readerFrames.first { $0.node == "tap2" })
        #expect(tap2.vnet?.isDataValid == true)
    }

    /// Without conntrack in host2 the bridge checks nothing: skb_forward_csum turns the COMPLETE
    /// skb into NONE and tap2 gets flags 0 (the lab's description, measured).
    @Test func withoutConntrackTheBridgeChecksNothing() throws {
        let l = try syn(["vxA.udpcsum=on"])
        #expect(!l.steps.contains { $0.event.kind == .bridgeConntrackCheck })
        let tap2 = try #require(l.readerFrames.first { $0.node == "tap2" })
        #expect(tap2.vnet?.flags == 0)
    }
}

// `br-netfilter: off` (no br_netfilter, or bridge-nf-call-iptables=0 and the bridge's own
// nf_call_iptables off), session 14: no conntrack at the bridge, and no `setup_pre_routing()` to
// orphan the skb, so a writer's socket still owns it further on. Each case measured on 6.18 with
// `csumlab verify` (assets/kernel-reference-notes.md, "br_netfilter and the skb's owner").
@Suite struct BridgeWithoutNetfilterTests {
    /// vxlan-bridge-port as above with br2 off: the kernel's tap2 reader got flags 0.
    @Test func withoutBrNetfilterTheBridgeChecksNothing() throws {
        let t = try with(loadShipped("vxlan-bridge-port").topology, ["vxA.udpcsum=on", "vxB.outer-masquerade=on", "br2.br-netfilter=off"])
        let l = try #require(leg(try run(t, flow: "request"), "request", "SYN"))
        #expect(!l.steps.contains { $0.event.kind == .bridgeConntrackCheck })
        let tap2 = try #require(l.readerFrames.first { $0.node == "tap2" })
        #expect(tap2.vnet?.flags == 0)
    }

    /// The GRO steps of vethS-s's peer on mtu-overlay-1450's data leg (the VM's TSO frame, a TAP
    /// write, through br0, cut at vethS without TSO): (segments merged, the segment kept apart).
    private func groAtServer(_ sets: [String]) throws -> (merged: [Int], apart: [Int]) {
        let t = try with(loadShipped("mtu-overlay-1450").topology, ["vethS.vethS-s.gro=on", "vethS.vethS.tso=off"] + sets)
        let data = try #require(leg(try run(t, flow: "bulk"), "bulk", "data vm1→server"))
        var merged: [Int] = [], apart: [Int] = []
        for s in data.steps {
            if case let .tunnelGROComplete(device, segments, _, _, _) = s.event, device == "vethS-s" { merged.append(segments) }
            if case let .tunnelGRO(g) = s.event, g.veth, g.keptApart { apart.append(s.segment ?? -1) }
        }
        return (merged, apart)
    }

    /// With br_netfilter the TAP's owner is gone at br0: all four segments merge (measured: one
    /// 5066-byte frame at vethS-s). Without, the TAP's socket still owns the skb when vethS cuts
    /// it: skb_segment() hands it to the last segment, GRO keeps that one apart (measured: two
    /// frames at vethS-s, `--set br0.br-netfilter=off`: 438 compared, 0 mismatched).
    @Test func aTAPWritersLastSegmentStaysApartOnlyWithoutBrNetfilter() throws {
        let on = try groAtServer([])
        #expect(on.merged == [4] && on.apart.isEmpty)
        let off = try groAtServer(["br0.br-netfilter=off"])
        #expect(off.apart == [4])  // the last of four (segments count from 1)
        #expect(off.merged == [3])
    }

    /// A promiscuous br0 (`tcpdump -i br0` without `-p`) sends a clone out (deliver_clone →
    /// skb_clone: no owner), so even without br_netfilter all four segments merge — measured on
    /// 6.18: gro-owner-without-br-netfilter with `--set br0.promisc=on` one frame at vethS-s
    /// (156 compared, 0 mismatched), two without (162).
    @Test func aPromiscuousBridgeForwardsAClone() throws {
        let promisc = try groAtServer(["br0.br-netfilter=off", "br0.promisc=on"])
        #expect(promisc.merged == [4] && promisc.apart.isEmpty)
        let t = try with(loadShipped("gro-owner-without-br-netfilter").topology, ["br0.promisc=on"])
        let data = try #require(try run(t).flows.first?.legs.first { $0.name.hasPrefix("data vm1") })
        let fwd = try #require(data.steps.first { $0.event.kind == .bridgeForward })
        guard case let .bridgeForward(_, _, _, _, clone) = fwd.event else { Issue.record("\(fwd.event)"); return }
        #expect(clone)
        #expect(fwd.event.function.contains("deliver_clone"))
        // The commands: ip link … promisc, in the bridge's namespace.
        #expect(HostCommands.lines(for: "br0.promisc=on", in: t).first?.hasSuffix("ip link set dev br0 promisc on") == true)
    }

    /// A broadcast frame is flooded (br_flood) and leaves as a clone (local_rcv): a DHCP
    /// DISCOVER from vm1 to a server in vm2 across seed-bridged's br0.
    @Test func aBroadcastIsFloodedAsAClone() throws {
        var t = try loadShipped("seed-bridged").topology
        var d = Flow(name: "d", kind: .dhcp, from: "vm1", to: "vm2")
        d.payload = 300
        t.flows = [d]
        let discover = try #require(try run(t).flows.first?.legs.first)
        let fwd = try #require(discover.steps.first { $0.event.kind == .bridgeForward })
        guard case let .bridgeForward(_, _, _, flood?, clone) = fwd.event else { Issue.record("\(fwd.event)"); return }
        #expect(clone && flood.destinationMAC == "ff:ff:ff:ff:ff:ff")
        #expect(fwd.event.function.contains("br_flood") && fwd.event.function.contains("deliver_clone"))
        #expect(fwd.event.explanation.contains("broadcast or multicast"))
    }

    /// A router's IP receive orphans the skb whatever the bridges do (ip_rcv_core): the VM's TSO
    /// frame through br1 without br_netfilter, the router, and vethB-r without TSO all merge at
    /// vethB (measured: vethB-r sends 3 segments, tap2 reads one TCPV4 GSO frame).
    @Test func theRoutersIPReceiveOrphansIt() throws {
        var t = try with(loadShipped("seed-routed-netns").topology,
                         ["br1.br-netfilter=off", "br2.br-netfilter=off", "vethB.vethB-r.tso=off", "vethB.vethB.gro=on"])
        var big = Flow(name: "big", kind: .tcp, from: "vm1", to: "vm2")
        big.payload = 4000
        t.flows = [big]
        let data = try #require(leg(try run(t, flow: "big"), "big", "data vm1→vm2"))
        let merged = data.steps.compactMap { s -> Int? in
            if case let .tunnelGROComplete(device, segments, _, _, _) = s.event, device == "vethB" { return segments }
            return nil
        }
        #expect(merged == [3])
        #expect(!data.steps.contains { if case let .tunnelGRO(g) = $0.event { return g.keptApart }; return false })
    }

    /// The commands view and `fix` say how to set it: the namespace's sysctls (which also cover
    /// every other bridge there, so those that keep it get their own option), run in the
    /// bridge's namespace, the bridge's option, and what turning it off costs.
    @Test func itsCommandsNameTheSysctlsAndTheBridgesOption() throws {
        // br1 and br2 share the host's namespace.
        let t = try loadShipped("seed-routed-netns").topology
        let off = HostCommands.lines(for: "br1.br-netfilter=off", in: t)
        #expect(off.contains { $0.hasPrefix("sysctl -w net.bridge.bridge-nf-call-iptables=0 net.bridge.bridge-nf-call-ip6tables=0") })
        #expect(off.contains("ip link set dev br1 type bridge nf_call_iptables 0 nf_call_ip6tables 0"))
        #expect(off.contains { $0.hasPrefix("ip link set dev br2 type bridge nf_call_iptables 1 nf_call_ip6tables 1") })
        #expect(off.contains { $0.contains("no longer see br1's bridged traffic") })
        #expect(HostCommands.lines(for: "br1.br-netfilter=on", in: t).contains { $0.hasPrefix("sysctl -w net.bridge.bridge-nf-call-iptables=1") })
        // With br2 kept off, turning br1 back on must not touch the sysctls.
        let br2Off = try with(t, ["br2.br-netfilter=off"])
        let on = HostCommands.lines(for: "br1.br-netfilter=on", in: br2Off)
        #expect(!on.contains { $0.contains("sysctl -w") })
        #expect(on.contains { $0.hasPrefix("ip link set dev br1 type bridge nf_call_iptables 1") && $0.contains("br2 keeps it off") })
        // A bridge placed in a namespace: vxlan-bridge-port's br2 is host2's interface.
        let v = try loadShipped("vxlan-bridge-port").topology
        #expect(HostCommands.lines(for: "br2.br-netfilter=off", in: v).first?.hasPrefix("ip netns exec host2 sysctl -w") == true)
        // linux-4.4 has one sysctl for every namespace.
        #expect(HostCommands.lines(for: "br1.br-netfilter=off", in: try with(t, ["kernel=linux-4.4"])).last?.contains("before 5.3") == true)
    }

    /// The setting: parsed by `set`, shown in the options menu (on by default), refused on
    /// anything but a bridge.
    @Test func theSettingIsABridgesOwn() throws {
        var t = try loadShipped("mtu-overlay-1450").topology
        #expect(t.node(named: "br0")?.brNetfilter == nil)
        let trace = try Simulator(t).run()
        let item = try #require(SettingItem.items(for: "br0", topology: t, trace: trace).first { $0.key == "br-netfilter" })
        #expect(item.value == "on" && item.next == "off")
        try t.set(node: "br0", interface: nil, key: "br-netfilter", value: "off")
        #expect(t.node(named: "br0")?.brNetfilter == false)
        #expect(throws: SettingError.self) { try t.set(node: "br0", interface: nil, key: "br-netfilter", value: "maybe") }
        #expect(throws: SettingError.self) { try t.set(node: "vethS", interface: nil, key: "br-netfilter", value: "off") }
    }
}
