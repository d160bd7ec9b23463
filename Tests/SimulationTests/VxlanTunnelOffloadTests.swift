import Testing
import Simulation
import Wire
import TestSupport

// Tunnel segmentation on the underlay (#16): the named features tx-udp_tnl-segmentation and
// tx-udp_tnl-csum-segmentation (NETIF_F_GSO_UDP_TUNNEL[_CSUM]), skb_gso_ok() on the underlay for
// an encapsulated GSO skb, the software fallback __skb_udp_tunnel_segment(), and the VXLAN
// device's MTU from its underlay (vxlan_config_apply()). Expected checksums come from the naive
// reference (TestSupport); the rules from assets/kernel-reference-notes.md ("Tunnel segmentation
// features", "VXLAN device MTU") and the 6.18 measurements there.

private func lab(_ sets: [String] = []) throws -> Topology {
    try with(loadShipped("vxlan-tunnel-segmentation").topology, sets)
}

private func dataLeg(_ flow: String, _ sets: [String] = []) throws -> LegTrace {
    let from = flow == "offloaded" ? "nodeA→nodeB" : "nodeC→nodeD"
    return try #require(leg(try run(try lab(sets), flow: flow), flow, "data \(from)"))
}

/// `b` (an outer frame) with the inner IPv4 TCP checksum at offset 50 computed naively.
private func innerCompleted(_ b: [UInt8]) -> [UInt8] {
    var g = b
    let at = 50 + 14 + Int(b[50 + 14] & 0x0F) * 4 + 16
    g[at] = 0; g[at + 1] = 0
    let c = naiveL4Checksum(Array(g[50...]))
    g[at] = UInt8(c >> 8); g[at + 1] = UInt8(c & 0xFF)
    return g
}

@Suite struct TunnelSegmentationFeatureTests {
    @Test func theNamesParseAsEthtoolSpellsThem() {
        #expect(Feature(named: "tx-udp_tnl-segmentation") == .udpTunnelSegmentation)
        #expect(Feature(named: "tx-udp_tnl-csum-segmentation") == .udpTunnelCsumSegmentation)
        #expect(Feature.udpTunnelCsumSegmentation.shortName == "tx-udp_tnl-csum-segmentation")
    }

    /// 6.x veth: VETH_FEATURES has NETIF_F_GSO_ENCAP_ALL (both on); vxlan_setup() gives neither
    /// ([fixed]); netdev_fix_features() has no rule for them, so `tx off` and `sg off` leave them
    /// on (measured on 6.18: `ethtool -k` lists them on).
    @Test func defaultsPerDeviceKindAndNoDependency() throws {
        let tr = try run(try lab(["wire2.wireC.tx=off", "wire2.wireD.sg=off"]), flow: "software")
        func dev(_ n: String) throws -> DeviceFeatures { try #require(tr.devices.first { $0.device == n }) }
        #expect(Set(try dev("wireA").on).isSuperset(of: [.udpTunnelSegmentation, .udpTunnelCsumSegmentation]))
        #expect(try dev("wireC").on.contains(.udpTunnelSegmentation))   // the lab sets the _CSUM one off
        #expect(!(try dev("wireC").on.contains(.tso)))
        #expect(try dev("wireD").on.contains(.udpTunnelCsumSegmentation))
        #expect(try dev("wireC").adjustments.allSatisfy { $0.feature != .udpTunnelSegmentation && $0.feature != .udpTunnelCsumSegmentation })
        let vx = try dev("vxA")
        #expect(vx.fixedOff[.udpTunnelSegmentation] != nil && vx.fixedOff[.udpTunnelCsumSegmentation] != nil)
        // 4.4 veth: NETIF_F_GSO_UDP_TUNNEL only.
        let old = try run(try lab(["kernel=linux-4.4"]), flow: "offloaded")
        let w = try #require(old.devices.first { $0.device == "wireA" })
        #expect(w.on.contains(.udpTunnelSegmentation) && w.fixedOff[.udpTunnelCsumSegmentation] != nil)
    }

    @Test func theFeaturesAreOptionsAndFixCandidates() throws {
        let t = try lab()
        let tr = try run(t)
        let items = SettingItem.items(for: "wire2", topology: t, trace: tr)
        let csum = try #require(items.first { $0.interface == "wireC" && $0.key == "tx-udp_tnl-csum-segmentation" })
        #expect(csum.value == "off" && csum.next == "on")
        let vx = try #require(SettingItem.items(for: "vxA", topology: t, trace: tr).first { $0.key == "tx-udp_tnl-segmentation" })
        #expect(vx.disabled != nil)
        let c = try FixSearch(t).candidates(baseTrace: tr, nodes: ["wire2"])
        #expect(c.contains { $0.interface == "wireC" && $0.key == "tx-udp_tnl-csum-segmentation" && $0.alternatives == ["on"] })
    }
}

@Suite struct TunnelSegmentationTests {
    /// With NETIF_F_GSO_UDP_TUNNEL_CSUM and TSO on the underlay the super-frame crosses whole.
    @Test func anOffloadingUnderlayTakesTheSuperFrameWhole() throws {
        let l = try dataLeg("offloaded")
        #expect(l.steps.allSatisfy { $0.event.kind != .tunnelSegment })
        let wire = try #require(l.steps.first { $0.element == "wire1" })
        #expect(wire.frame.count > 4000)
        #expect(l.outcome == .accepted)
    }

    /// Without it: __skb_udp_tunnel_segment() cuts MSS segments (1398 bytes: MTU 1450 from the
    /// underlay, MSS 1410 less 12 bytes of timestamps); the inner stays pending (veth's
    /// hw_enc_features keep HW_CSUM) and each outer is gso_make_checksum()'s LCO value.
    @Test func withoutTheCsumFeatureTheUnderlayCutsInSoftware() throws {
        let l = try dataLeg("software")
        let cut = l.steps.filter { $0.event.kind == .tunnelSegment }
        #expect(cut.count == 3)
        for s in cut {
            let inner = Array(s.frame[50...])
            #expect(s.inner?.field == naivePseudoHeaderSum(inner))
            #expect(s.l4Field == naiveL4Checksum(innerCompleted(s.frame)))
            #expect(s.after.skbState?.ipSummed == .partial && s.after.skbState?.csumStart == 84)
        }
        #expect(cut.map { $0.frame.count - 50 - 14 - 20 - 32 } == [1398, 1398, 4000 - 2 * 1398])
        guard case let .tunnelSegment(_, _, _, _, _, reason, _, _) = try #require(cut.first).event else { Issue.record("no event"); return }
        #expect(reason.contains("tx-udp_tnl-csum-segmentation is off"))
        #expect(l.outcome == .accepted)
    }

    /// The bit the skb needs follows the outer checksum: SKB_GSO_UDP_TUNNEL with it off.
    @Test func aZeroOuterNeedsThePlainFeature() throws {
        let whole = try dataLeg("software", ["vxC.udpcsum=off"])
        #expect(whole.steps.allSatisfy { $0.event.kind != .tunnelSegment })
        let cut = try dataLeg("software", ["vxC.udpcsum=off", "wire2.wireC.tx-udp_tnl-segmentation=off"])
        let segs = cut.steps.filter { $0.event.kind == .tunnelSegment }
        #expect(segs.count == 3 && segs.allSatisfy { $0.l4Field == 0 })
        // And the plain feature alone does not serve a checksummed outer.
        let plainOff = try dataLeg("offloaded", ["wire1.wireA.tx-udp_tnl-segmentation=off"])
        #expect(plainOff.steps.allSatisfy { $0.event.kind != .tunnelSegment })
    }

    /// `tx off` keeps the tunnel features listed but harmonize_features() drops every GSO bit:
    /// finished segments, inner and outer valid over the bytes.
    @Test func txOffGivesFinishedSegments() throws {
        let l = try dataLeg("offloaded", ["wire1.wireA.tx=off"])
        let cut = l.steps.filter { $0.event.kind == .tunnelSegment }
        #expect(cut.count == 3)
        for s in cut {
            #expect(s.inner?.field == naiveL4Checksum(Array(s.frame[50...])))
            #expect(s.l4Field == naiveL4Checksum(s.frame))
        }
    }

    /// 4.4 `dont_encap`: with the outer checksum wanted skb_segment() completes every inner
    /// checksum and the outer is left to the device (offload_csum: veth has HW_CSUM).
    @Test func linux44CompletesTheInnerAndLeavesTheOuterPending() throws {
        let l = try dataLeg("offloaded", ["kernel=linux-4.4", "vxA.udpcsum=on"])
        let cut = l.steps.filter { $0.event.kind == .tunnelSegment }
        #expect(cut.count == 3)
        for s in cut {
            #expect(s.inner?.field == naiveL4Checksum(Array(s.frame[50...])))
            #expect(s.after.skbState?.ipSummed == .partial && s.after.skbState?.csumStart == 34)
            #expect(s.l4Field == naivePseudoHeaderSum(Array(s.frame)))
        }
    }
}

@Suite struct VxlanDeviceMTUTests {
    private func mtu(_ sets: [String], _ device: String = "vxA") throws -> Int {
        let n = Network(try lab(sets))
        return n.devices[try #require(n.device(named: device))].mtu
    }

    /// vxlan_config_apply(): lowerdev->mtu − vxlan_headroom() (IPv4 50), unless `mtu` is given.
    @Test func theMTUFollowsTheUnderlay() throws {
        #expect(try mtu([]) == 1450)
        #expect(try mtu(["wire1.wireA.mtu=9000"]) == 8950)
        #expect(try mtu(["vxA.mtu=1400"]) == 1400)
        #expect(try mtu(["nodeA.vx.mtu=1300"]) == 1300)
    }

    @Test func anMTUAboveTheUnderlaysIsAProblem() throws {
        let n = Network(try lab(["vxA.mtu=1460"]))
        let p = n.mtuProblems()
        #expect(p.count == 1 && p[0].node == "vxA" && p[0].message.contains("1450"))
        #expect(Network(try lab(["vxA.mtu=1450"])).mtuProblems().isEmpty)
    }

    /// The options menu offers a vxlan MTU below the derived one, never a jumbo size it refuses.
    @Test func theMenuCyclesThroughTunnelMTUs() throws {
        let t = try lab()
        let item = try #require(SettingItem.items(for: "vxA", topology: t, trace: try run(t)).first { $0.key == "mtu" })
        #expect(item.value == "default" && item.next == "1400")
    }

    /// The MSS follows: 1410, so 1398-byte segments with timestamps.
    @Test func theMSSFollowsTheTunnelMTU() throws {
        let l = try dataLeg("software", ["nodeC.u.mtu=1400"])
        let cut = l.steps.filter { $0.event.kind == .tunnelSegment }
        #expect(cut.first.map { $0.frame.count - 50 - 14 - 20 - 32 } == 1350 - 20 - 20 - 12)
    }
}

/// Over an IPv6 underlay: udp6_ufo_fragment() → skb_udp_tunnel_segment(…, is_ipv6 = true), the
/// same rules; each segment's IPv6 payload length set, the 70-byte outer header.
@Suite struct IPv6TunnelSegmentationTests {
    private func data(_ flow: String, _ sets: [String] = []) throws -> LegTrace {
        let t = try with(loadShipped("vxlan-ipv6-tunnel-segmentation").topology, sets)
        return try #require(leg(try run(t, flow: flow), flow, "data nodeA→nodeB"))
    }

    /// The inner completed naively at `innerAt` (an IPv4 or IPv6 TCP frame).
    private func completed(_ b: [UInt8]) -> [UInt8] {
        var g = b
        let inner = Array(b[70...])
        let l3 = inner[12] == 0x86 ? 54 : 14 + Int(inner[14] & 0x0F) * 4
        let at = 70 + l3 + 16
        g[at] = 0; g[at + 1] = 0
        let c = naiveL4Checksum(Array(g[70...]))
        g[at] = UInt8(c >> 8); g[at + 1] = UInt8(c & 0xFF)
        return g
    }

    @Test(arguments: [("bulk", 1378), ("bulk-v6", 1358)])
    func segmentsCarryLCOOutersAndPendingInners(flow: String, mss: Int) throws {
        let l = try data(flow)
        let cut = l.steps.filter { $0.event.kind == .tunnelSegment }
        #expect(cut.count == 3)
        for s in cut {
            let b = s.frame
            #expect(b[12] == 0x86 && b[13] == 0xDD)
            #expect(Int(b[18]) << 8 | Int(b[19]) == b.count - 54)     // IPv6 payload length
            #expect(Int(b[58]) << 8 | Int(b[59]) == b.count - 54)     // outer UDP length
            #expect(s.inner?.field == naivePseudoHeaderSum(Array(b[70...])))
            #expect(s.l4Field == naiveL4Checksum(completed(b)))
        }
        let innerL3 = flow == "bulk" ? 20 : 40
        #expect(cut.map { $0.frame.count - 70 - 14 - innerL3 - 32 } == [mss, mss, 4000 - 2 * mss])
        #expect(l.outcome == .accepted)
    }

    @Test func theFeatureOrAZeroOuterDecides() throws {
        #expect(try data("bulk", ["wire.wireA.tx-udp_tnl-csum-segmentation=on"]).steps.allSatisfy { $0.event.kind != .tunnelSegment })
        let zero = ["vxA.udp6zerocsumtx=on", "vxB.udp6zerocsumrx=on"]
        #expect(try data("bulk", zero).steps.allSatisfy { $0.event.kind != .tunnelSegment })
        let cut = try data("bulk", zero + ["wire.wireA.tx-udp_tnl-segmentation=off"]).steps.filter { $0.event.kind == .tunnelSegment }
        #expect(cut.count == 3 && cut.allSatisfy { $0.l4Field == 0 })
        let off = try data("bulk", ["wire.wireA.tx=off"]).steps.filter { $0.event.kind == .tunnelSegment }
        #expect(off.count == 3 && off.allSatisfy { $0.l4Field == naiveL4Checksum($0.frame) && $0.inner?.field == naiveL4Checksum(Array($0.frame[70...])) })
    }

    /// 70 bytes of IPv6 encapsulation: MTU 1430 (measured on 6.18).
    @Test func theTunnelMTUIs1430() throws {
        let n = Network(try loadShipped("vxlan-ipv6-tunnel-segmentation").topology)
        #expect(n.devices[try #require(n.device(named: "vxA"))].mtu == 1430)
    }
}

/// A bridge underlay: hw_enc_features = SG | GSO_PARTIAL (register_netdevice), so neither the
/// inner checksum nor tunnel segmentation is offloaded there (measured on 6.18 with verify).
@Suite struct BridgeUnderlayTests {
    private func trace(_ flow: String) throws -> Trace { try run(try loadShipped("vxlan-bridge-underlay").topology, flow: flow) }

    @Test func aPendingInnerIsCompletedOnTheBridge() throws {
        let l = try #require(leg(try trace("datagram"), "datagram", "query"))
        let help = try #require(l.steps.first { $0.event.kind == .checksumHelp && $0.element == "brA" })
        #expect(help.inner?.field == naiveL4Checksum(Array(help.frame[50...])))
        #expect(help.l4Field == naiveL4Checksum(help.frame))      // the LCO outer is now valid
        #expect(help.after.skbState?.ipSummed == IPSummed.none)
        #expect(l.outcome == .accepted)
    }

    @Test func aSuperFrameIsCutOnTheBridgeWithFinishedInners() throws {
        let l = try #require(leg(try trace("request"), "request", "data nodeA→nodeB"))
        let cut = l.steps.filter { $0.event.kind == .tunnelSegment }
        #expect(cut.count == 3 && cut.allSatisfy { $0.element == "brA" })
        for s in cut {
            #expect(s.inner?.field == naiveL4Checksum(Array(s.frame[50...])))
            #expect(s.after.skbState?.ipSummed == .partial && s.after.skbState?.csumStart == 34)
            #expect(s.l4Field == naivePseudoHeaderSum(s.frame))
        }
    }
}
