import Testing
import Simulation
import TestSupport
import TopologyFile
import Wire

/// `mtu` per device: the MSS each side of a handshake advertises, the segment and fragment sizes
/// a sender cuts, and the kernel's MTU checks on the way (`is_skb_forwardable()` at a veth peer and
/// a bridge's egress port, `ip_exceeds_mtu()` when forwarding). Expected sizes are worked out
/// here from the MTU: IPv4 MSS = MTU − 40, IPv6 MSS = MTU − 60, a frame passes a device of MTU m
/// when it is at most m + 14 (Ethernet) + 4 (VLAN tag) bytes long.
@Suite struct MTUSettingTests {
    @Test func eachSideAdvertisesTheMSSOfItsOwnRoute() throws {
        let base = try loadShipped("tso-to-tap-without-tso").topology
        for (mtu, mss) in [(9000, 9000 - 40), (1450, 1450 - 40)] {
            let tr = try run(try with(base, ["vm1.eth0.mtu=\(mtu)"]), flow: "bulk")
            #expect(naiveTCPMSS(try sent(tr, "bulk", "SYN")) == mss, "vm1 at MTU \(mtu)")
            #expect(naiveTCPMSS(try sent(tr, "bulk", "SYN-ACK")) == 1500 - 40, "vm2 keeps 1500")
            // Both send min(own MSS, peer's) less the 12-byte timestamp option.
            let both = min(mss, 1460) - 12
            #expect(try segmentPayloads(tr, "bulk", "data vm1→vm2", at: "tap2") == pieces(4000, both), "MTU \(mtu)")
        }
    }

    @Test func timestampsOffOnASmallMTUCutsTheWholeMSS() throws {
        let t = try with(loadShipped("tso-to-tap-without-tso").topology, ["vm1.eth0.mtu=1450", "vm1.tcp-timestamps=off"])
        let tr = try run(t, flow: "bulk")
        #expect(try segmentPayloads(tr, "bulk", "data vm1→vm2", at: "tap2") == pieces(4000, 1450 - 40))
    }

    @Test func ipv6AdvertisesTheMTULessSixty() throws {
        let tr = try run(loadShipped("mtu-overlay-1450").topology, flow: "bulk-v6")
        #expect(naiveTCPMSS(try sent(tr, "bulk-v6", "SYN")) == 1450 - 60)
        #expect(naiveTCPMSS(try sent(tr, "bulk-v6", "SYN-ACK")) == 1500 - 60)
        #expect(try segmentPayloads(tr, "bulk-v6", "data server→vm1", at: "tap1") == pieces(5000, 1450 - 60 - 12))
    }

    @Test func vethDropsFramesLongerThanThePeersMTUPlusEighteen() throws {
        var t = try loadShipped("mtu-overlay-1450").topology
        let i = try #require(t.flows.firstIndex { $0.name == "full-size-from-server" })
        // vethS (the peer of the server's end) has MTU 1450: frames up to 1468 bytes pass.
        for (payload, dropped) in [(1426, false), (1427, true), (1472, true)] {
            t.flows[i].payload = payload
            let tr = try run(t, flow: "full-size-from-server")
            let q = try #require(leg(tr, "full-size-from-server", "query"))
            #expect((q.step(.vethTooBig) != nil) == dropped, "payload \(payload): frame \(14 + 28 + payload) bytes")
            #expect((q.outcome == .accepted) == !dropped, "payload \(payload)")
            if case let .vethTooBig(_, length, mtu)? = q.step(.vethTooBig)?.event {
                #expect(length == 14 + 28 + payload && mtu == 1450)
            }
        }
        // With the peer at the default MTU the full-size datagram passes.
        let fixed = try run(try with(loadShipped("mtu-overlay-1450").topology, ["vethS.vethS.mtu=default"]), flow: "full-size-from-server")
        #expect(leg(fixed, "full-size-from-server", "query")?.outcome == .accepted)
    }

    @Test func aBridgeDropsFramesLongerThanTheEgressPortsMTU() throws {
        let t = try loadShipped("mtu-jumbo-router").topology
        let tr = try run(t, flow: "big-datagram-same-bridge")
        let q = try #require(leg(tr, "big-datagram-same-bridge", "query"))
        let drop = try #require(q.step(.bridgeTooBig, at: "br1"))
        guard case let .bridgeTooBig(egress, length, mtu) = drop.event else { Issue.record("not a bridge drop"); return }
        #expect(egress == "tap4" && length == 14 + 28 + 4000 && mtu == 1500)
        // br1 itself is set to 9000: the check is the egress port's.
        #expect(t.node(named: "br1")?.mtu == 9000)
        let fixed = try run(try with(t, ["tap4.mtu=9000"]), flow: "big-datagram-same-bridge")
        #expect(leg(fixed, "big-datagram-same-bridge", "query")?.outcome == .accepted)
    }

    @Test func theRouterChecksTheEgressDevicesMTU() throws {
        let t = try loadShipped("mtu-jumbo-router").topology
        let q = try #require(leg(try run(t, flow: "big-datagram"), "big-datagram", "query"))
        guard case let .exceedsMTU(_, ipLength, gso, mtu)? = q.step(.exceedsMTU, at: "router")?.event else {
            Issue.record("the router did not refuse the datagram"); return
        }
        #expect(ipLength == 20 + 8 + 4000 && !gso && mtu == 1500)
        // An egress MTU that fits lets the router forward it; the 1500-byte veth peer behind it
        // then drops the frame.
        let wide = try #require(leg(try run(try with(t, ["router.eth1.mtu=4028"]), flow: "big-datagram"), "big-datagram", "query"))
        #expect(wide.step(.exceedsMTU) == nil)
        #expect(wide.step(.ipForward, at: "router") != nil)
        #expect(wide.step(.vethTooBig) != nil)
    }

    @Test func aGSOSkbIsCheckedBySegmentWhenForwarded() throws {
        let tr = try run(loadShipped("mtu-jumbo-router").topology)
        let big = try #require(leg(tr, "jumbo-segments", "data vm1→vm2"))
        guard case let .exceedsMTU(_, ipLength, gso, mtu)? = big.step(.exceedsMTU, at: "router")?.event else {
            Issue.record("the router forwarded 8948-byte segments onto a 1500-byte link"); return
        }
        #expect(gso && ipLength == 20 + 32 + 8948 && mtu == 1500)
        // The negotiated 1448-byte segments fit: the super-frame (5 segments' worth) crosses whole.
        let ok = try #require(leg(tr, "bulk", "data vm1→vm2"))
        #expect(ok.step(.exceedsMTU) == nil && ok.outcome == .accepted)
        #expect(try segmentPayloads(tr, "bulk", "data vm1→vm2", at: "tap2") == pieces(6000, 1448))
        #expect(try segmentPayloads(tr, "bulk-no-timestamps", "data vm3→vm2", at: "tap2") == pieces(6000, 1460))
    }

    @Test func aSenderFragmentsForItsOwnMTU() throws {
        let tr = try run(loadShipped("mtu-overlay-1450").topology, flow: "fragments")
        let q = try #require(leg(tr, "fragments", "query"))
        let first = try #require(q.steps.first)
        // (1450 − 20) & ~7 = 1424 bytes of datagram per fragment: 2028 bytes of IP in 2 pieces.
        #expect(first.ipFragments == 2)
        #expect(first.linkFrames.map(\.count) == [14 + 20 + 1424, 14 + 20 + (2008 - 1424)])
        #expect(q.outcome == .accepted)
        // The server cuts for its own 1500: the first 1514-byte fragment dies at the veth.
        let r = try #require(leg(tr, "fragments", "response"))
        #expect(r.steps.first?.linkFrames.first?.count == 1514)
        #expect(r.step(.vethTooBig) != nil)
    }

    @Test func aRouterCutsIPv4FragmentsAgainForASmallerEgressMTU() throws {
        let t = try loadShipped("mtu-jumbo-router").topology
        let q = try #require(leg(try run(t, flow: "fragments-cut-again"), "fragments-cut-again", "query"))
        #expect(q.steps.first?.ipFragments == 2)
        let cut = try #require(q.step(.ipFragmentAgain, at: "router"))
        #expect(cut.event == .ipFragmentAgain(count: 10, mtu: 1500, defragmented: false))
        #expect(cut.ipFragments == 10 && cut.linkFrames.map(\.count).max() == 1514)
        #expect(q.step(.vethTooBig) == nil && q.outcome == .accepted)
        // With conntrack the router reassembles first and cuts the datagram afresh: 12008 bytes
        // in 1480-byte pieces.
        let ct = try #require(leg(try run(try with(t, ["router.conntrack=on"]), flow: "fragments-cut-again"), "fragments-cut-again", "query"))
        #expect(ct.step(.ipFragmentAgain)?.event == .ipFragmentAgain(count: 9, mtu: 1500, defragmented: true))
        // IPv6 routers never fragment: a fragment above the egress MTU is too big
        // (ip6_pkt_too_big), and a ping of 3000 bytes cut for 1500 dies at a 1280 egress.
        var v6 = try loadShipped("ipv6-routed-netns").topology
        let i = try #require(v6.flows.firstIndex { $0.name == "ping6" })
        v6.flows[i].payload = 3000
        let whole = try #require(leg(try run(v6, flow: "ping6"), "ping6", "echo request"))
        #expect(whole.steps.first?.ipFragments == 3 && whole.outcome == .accepted)
        v6 = try with(v6, ["router.eth1.mtu=1280", "vethB.vethB.mtu=1280"])
        let small = try #require(leg(try run(v6, flow: "ping6"), "ping6", "echo request"))
        guard case let .exceedsMTU(isV6, ipLength, _, mtu)? = small.step(.exceedsMTU, at: "router")?.event else {
            Issue.record("an IPv6 router forwarded a fragment larger than its egress MTU"); return
        }
        #expect(isV6 && mtu == 1280 && ipLength == 1496)
        #expect(small.step(.ipFragmentAgain) == nil)
    }

    @Test func aTAPDoesNotPoliceItsMTU() throws {
        let tr = try run(loadShipped("mtu-tap-writes").topology)
        // tun_get_user takes vm1's 4042-byte frame into tap1 (MTU 1500); br0 (1500, following
        // tap1) forwards it to tap2 (9000): is_skb_forwardable checks the egress port.
        let q = try #require(leg(tr, "datagram", "query"))
        #expect(q.step(.tunGetUser, at: "tap1")?.frame.count == 14 + 28 + 4000)
        #expect(q.outcome == .accepted)
        let net = Network(try loadShipped("mtu-tap-writes").topology)
        #expect(net.devices.first { $0.name == "br0" }?.mtu == 1500)
        // The answer is freed at tap1's port.
        let r = try #require(leg(tr, "datagram", "response"))
        if case let .bridgeTooBig(egress, _, mtu)? = r.step(.bridgeTooBig, at: "br0")?.event {
            #expect(egress == "tap1" && mtu == 1500)
        } else {
            Issue.record("br0 forwarded a 4042-byte frame to a 1500-byte port")
        }
        // tun_net_xmit hands vm1 8948-byte segments through its 1500-byte TAP.
        let back = try #require(leg(tr, "bulk", "data vm2→vm1"))
        let sizes = back.steps.filter { $0.element == "tap1" && $0.event.kind == .tunPutUser }.map(\.frame.count)
        #expect(sizes == [14 + 52 + 8948, 14 + 52 + 8948, 14 + 52 + (20000 - 2 * 8948)])
        #expect(back.outcome == .accepted)
    }

    @Test func aProgramWritingFramesGetsEMSGSIZEAboveItsMTU() throws {
        var t = try with(loadShipped("mtu-overlay-1450").topology, ["server.eth0.mtu=1450", "vethS.vethS.mtu=default"])
        let i = try #require(t.flows.firstIndex { $0.name == "full-size-from-server" })
        t.flows[i].sender = .software
        for (payload, refused) in [(1422, false), (1423, true)] {
            t.flows[i].payload = payload
            let q = try #require(leg(try run(t, flow: "full-size-from-server"), "full-size-from-server", "query"))
            #expect((q.step(.programSendTooBig) != nil) == refused, "payload \(payload)")
            if case let .programSendTooBig(length, mtu)? = q.step(.programSendTooBig)?.event {
                #expect(length == 14 + 28 + payload && mtu == 1450)
            }
        }
    }

    @Test func aBridgeFollowsItsSmallestPortUnlessSet() throws {
        let t = try loadShipped("mtu-jumbo-router").topology
        func mtu(_ t: Topology, _ d: String) throws -> Int {
            let net = Network(t)
            return net.devices[try #require(net.device(named: d))].mtu
        }
        let auto = try with(t, ["br1.mtu=default"])
        #expect(try mtu(auto, "br1") == 1500)   // tap4 kept 1500
        #expect(try mtu(try with(auto, ["tap4.mtu=9000"]), "br1") == 9000)
        #expect(try mtu(t, "br1") == 9000)
        #expect(try mtu(try with(t, ["br1.mtu=4000"]), "br1") == 4000)
        // A namespace's interface sets the veth end it is placed at.
        #expect(try mtu(t, "vethA-r") == 9000)
        #expect(try mtu(t, "vethB-r") == 1500)
    }

    @Test func anExplicit1500ChangesNothing() throws {
        let t = try loadShipped("seed-routed-netns").topology
        let sets = ["vm1.eth0.mtu=1500", "vm2.eth0.mtu=1500", "tap1.mtu=1500", "tap2.mtu=1500", "br1.mtu=1500", "br2.mtu=1500",
                    "vethA.vethA.mtu=1500", "vethB.vethB.mtu=1500", "router.eth0.mtu=1500", "router.eth1.mtu=1500"]
        let explicit = try with(t, sets)
        #expect(explicit != t)
        #expect(try run(explicit) == (try run(t)))
    }

    @Test func mtuValuesOutsideTheDevicesRangeAreRefused() throws {
        var t = try loadShipped("mtu-jumbo-router").topology
        for bad in ["vm1.eth0.mtu=67", "vethA.vethA.mtu=65536", "tap1.mtu=65522", "router.eth0.mtu=jumbo", "router.mtu=9000"] {
            #expect(throws: SettingError.self, "\(bad)") { try t.apply(assignment: bad) }
        }
        try t.apply(assignment: "tap1.mtu=65521")
        try t.apply(assignment: "vethA.vethA.mtu=65535")
        try t.apply(assignment: "vm1.eth0.mtu=68")
        #expect(t.node(named: "tap1")?.mtu == 65521)
    }

    @Test func theOptionsMenuCyclesTheMTU() throws {
        let t = try loadShipped("mtu-jumbo-router").topology
        let tr = try run(t, flow: "bulk")
        let vm1 = SettingItem.items(for: "vm1", topology: t, trace: tr)
        let item = try #require(vm1.first { $0.key == "mtu" && $0.interface == "eth0" })
        #expect(item.value == "9000" && item.next == "1450")
        let tap4 = try #require(SettingItem.items(for: "tap4", topology: t, trace: tr).first { $0.key == "mtu" })
        #expect(tap4.value == "default" && tap4.assignment(tap4.next ?? "") == "tap4.mtu=9000")
        let router = SettingItem.items(for: "router", topology: t, trace: tr).filter { $0.key == "mtu" }
        #expect(router.map(\.interface) == ["eth0", "eth1"])
    }
}
