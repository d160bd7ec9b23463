import Testing
import Simulation
import Wire
import TestSupport

// One suite per element transition. Expected states come from the kernel reference
// (shared/design/kernel-semantics.md and kernel-source-notes.md); expected checksum values come
// from the naive reference in NaiveReference.swift, never from the Checksum module.

private func ssh(_ file: String, _ sets: [String] = [], flow: String = "ssh", leg name: String = "SYN") throws -> LegTrace {
    let t = try with(loadShipped(file).topology, sets)
    let tr = try run(t, flow: flow)
    return try #require(leg(tr, flow, name))
}

@Suite struct GuestSendTests {
    @Test func linux6AlwaysLeavesThePseudoHeaderSum() throws {
        let l = try ssh("seed-bridged", ["vm1.kernel=linux-6.x", "vm1.eth0.tx=off", "vm1.eth0.gso=off"], leg: "data vm1→vm2")
        let s = try #require(l.steps.first)
        guard case let .tcpSend(send) = s.event else { Issue.record("\(s.event)"); return }
        #expect(!send.v6 && send.partial)
        #expect(s.after.ipSummed == .partial)
        #expect(s.after.skbState?.csumStart == 34 && s.after.skbState?.csumOffset == 16)
        #expect(s.l4Field == naivePseudoHeaderSum(s.frame))
    }

    @Test func linux44SoftwareBranchOnlyWithoutChecksumAndGSO() throws {
        let data = try ssh("seed-bridged", ["vm1.eth0.tx=off", "vm1.eth0.gso=off"], leg: "data vm1→vm2")
        let s = try #require(data.steps.first)
        guard case let .tcpSend(send) = s.event else { Issue.record("\(s.event)"); return }
        #expect(!send.partial)
        #expect(s.after.ipSummed == IPSummed.none)
        #expect(s.l4Field == naiveL4Checksum(s.frame))
        // With GSO still on, sk_setup_caps gives the socket HW_CSUM: still PARTIAL.
        let gso = try ssh("seed-bridged", ["vm1.eth0.tx=off"], leg: "data vm1→vm2")
        #expect(gso.steps.first?.after.ipSummed == .partial)
        // SYN is a non-data skb: always PARTIAL (tcp_init_nondata_skb).
        let syn = try ssh("seed-bridged", ["vm1.eth0.tx=off", "vm1.eth0.gso=off"], leg: "SYN")
        #expect(syn.steps.first?.after.ipSummed == .partial)
    }

    @Test func udpIsPartialOnlyWhenTheDeviceCanChecksum() throws {
        let on = try ssh("seed-bridged", flow: "dns", leg: "query")
        #expect(on.steps.first?.after.ipSummed == .partial)
        #expect(on.steps.first?.l4Field == naivePseudoHeaderSum(on.steps.first!.frame))
        let off = try ssh("seed-bridged", ["vm1.eth0.tx=off"], flow: "dns", leg: "query")
        #expect(off.steps.first?.after.ipSummed == IPSummed.none)
        #expect(off.steps.first?.l4Field == naiveL4Checksum(off.steps.first!.frame))
    }

    @Test func icmpIsAlwaysSoftware() throws {
        let l = try ssh("seed-routed-userspace", flow: "ping", leg: "echo request")
        let s = try #require(l.steps.first)
        #expect(s.after.ipSummed == IPSummed.none)
        #expect(s.l4Field == naiveL4Checksum(s.frame))
    }
}

@Suite struct ValidateXmitTests {
    /// A device without checksum offload completes a PARTIAL skb (skb_checksum_help → NONE).
    @Test func completesOnDeviceWithoutChecksumOffload() throws {
        let l = try ssh("seed-routed-userspace", ["vethA.vethA.tx=off"])
        let s = try #require(l.step(.checksumHelp, at: "vethA"))
        #expect(s.before.ipSummed == .partial)
        #expect(s.after.ipSummed == IPSummed.none)
        #expect(s.l4Field == naiveL4Checksum(s.frame))
        #expect(s.bytesValid)
        #expect(s.changedBytes == [50, 51])
    }

    @Test func featureDependenciesAreShown() throws {
        let t = try with(loadShipped("seed-routed-userspace").topology, ["vethA.vethA.tx=off"])
        let tr = try run(t)
        let d = try #require(tr.devices.first { $0.device == "vethA" })
        #expect(!d.on.contains(.tso))
        #expect(d.adjustments.contains { $0.feature == .tso && $0.reason.contains("no CSUM feature") })
    }

    /// br_features_recompute: a bridge keeps SG only if a port has it, and without SG it loses
    /// TSO and GSO (measured with verify: `vnet0.sg=off` turns all three off on virbr0), while
    /// its checksum feature stays. Ports without TSO or GSO (but with SG) leave the bridge both
    /// (measured: netdev_add_tso_features adds TSO back; GSO is not "one for all").
    @Test func bridgeFeaturesFollowItsPorts() throws {
        let t = try with(loadShipped("dhcp-raw-client").topology, ["vnet0.sg=off"])
        let br = try #require(try run(t).devices.first { $0.device == "virbr0" })
        #expect(!br.on.contains(.scatterGather) && !br.on.contains(.tso) && !br.on.contains(.gso))
        #expect(br.on.contains(.txChecksumming))
        #expect(br.adjustments.contains { $0.reason.contains("br_features_recompute") })
        let t2 = try with(loadShipped("dhcp-raw-client").topology, ["vnet0.tso=off", "vnet0.gso=off"])
        let br2 = try #require(try run(t2).devices.first { $0.device == "virbr0" })
        #expect(br2.on.contains(.scatterGather) && br2.on.contains(.tso) && br2.on.contains(.gso))
    }

    /// A TAP has no tx-checksumming until TUNSETOFFLOAD sets TUN_F_CSUM ([fixed] off).
    @Test func tapWithoutTunCsumIsFixedOff() throws {
        let t = try with(loadShipped("seed-bridged").topology, ["tap2.tun-csum=off", "tap2.tx=on"])
        let tr = try run(t)
        let d = try #require(tr.devices.first { $0.device == "tap2" })
        #expect(!d.on.contains(.txChecksumming))
        #expect(d.fixedOff[.txChecksumming] != nil)
    }
}

@Suite struct VirtioTransmitTests {
    @Test func partialBecomesNeedsCsum() throws {
        let l = try ssh("seed-bridged")
        let s = try #require(l.step(.virtioXmit, at: "vm1"))
        let h = try #require(s.after.vnet)
        #expect(h.needsChecksum && !h.isDataValid)
        #expect(h.csumStart == 34 && h.csumOffset == 16)
    }

    @Test func noneBecomesFlagsZero() throws {
        let l = try ssh("seed-routed-userspace", flow: "ping", leg: "echo request")
        let s = try #require(l.step(.virtioXmit, at: "vm1"))
        #expect(s.after.vnet?.flags == 0)
    }
}

@Suite struct TunGetUserTests {
    @Test func needsCsumBecomesPartial() throws {
        let l = try ssh("seed-bridged")
        let s = try #require(l.step(.tunGetUser, at: "tap1"))
        #expect(s.after.ipSummed == .partial)
        #expect(s.after.skbState?.csumStart == 34)
    }

    @Test func noFlagBecomesNone() throws {
        let l = try ssh("seed-bridged", ["vm1.eth0.tx=off"], leg: "SYN")
        let s = try #require(l.step(.tunGetUser, at: "tap1"))
        #expect(s.before.vnet?.flags == 0)
        #expect(s.after.ipSummed == IPSummed.none)
    }
}

@Suite struct TunPutUserTests {
    @Test func tapWithTunCsumPassesNeedsCsum() throws {
        let l = try ssh("seed-bridged")
        let s = try #require(l.step(.tunPutUser, at: "tap2"))
        #expect(s.after.vnet?.needsChecksum == true)
        #expect(s.l4Field == naivePseudoHeaderSum(s.frame))
    }

    /// No TUN_F_CSUM: validate_xmit_skb completes before tun_put_user; flags 0, valid bytes.
    @Test func tapWithoutTunCsumDeliversCompleted() throws {
        let l = try ssh("seed-bridged", ["vm2.guest-csum=off"])
        let fill = try #require(l.step(.checksumHelp, at: "tap2"))
        #expect(fill.l4Field == naiveL4Checksum(fill.frame))
        let put = try #require(l.step(.tunPutUser, at: "tap2"))
        #expect(put.after.vnet?.flags == 0)
        #expect(put.bytesValid)
        #expect(l.outcome == .accepted)
    }

    /// No vnet header but TUN_F_CSUM: the unfinished bytes leave with nothing to say so.
    @Test func tapWithoutVnetHeaderButWithOffloadLeaksUnfinishedBytes() throws {
        let l = try ssh("forwarder-taps-with-tun-csum")
        let s = try #require(l.step(.tunPutUser, at: "rtap1"))
        #expect(s.after == .raw)
        #expect(!s.bytesValid && s.l4Field == naivePseudoHeaderSum(s.frame))
        #expect(l.outcome == .droppedByReceiver(counter: "Tcp: InCsumErrors"))
    }
}

@Suite struct BridgeTests {
    @Test func forwardingKeepsPartialAndBridgeFeaturesDoNotApply() throws {
        let l = try ssh("seed-bridged", ["br0.tx=off"])
        let s = try #require(l.step(.bridgeForward, at: "br0"))
        #expect(s.before.ipSummed == .partial && s.after.ipSummed == .partial)
        #expect(s.changedBytes.isEmpty)
        #expect(l.outcome == .accepted)
    }
}

@Suite struct VethTests {
    /// linux-3.x veth_xmit rewrites NONE to UNNECESSARY when the peer has rx-checksumming.
    @Test func linux3MarksNoneUnnecessary() throws {
        let l = try ssh("veth-pre44-corruption", flow: "http", leg: "data nic0→container")
        let s = try #require(l.step(.vethXmit, at: "v0"))
        #expect(s.before.ipSummed == IPSummed.none && s.after.ipSummed == .unnecessary)
        #expect(!s.bytesValid)
        #expect(s.condition == .flaggedButBad)
        #expect(l.outcome == .acceptedCorrupted)
    }

    @Test func linux44KeepsNoneAndTheContainerDrops() throws {
        let l = try ssh("veth-pre44-corruption", ["kernel=linux-4.4"], flow: "http", leg: "data nic0→container")
        let s = try #require(l.step(.vethXmit, at: "v0"))
        #expect(s.after.ipSummed == IPSummed.none)
        #expect(l.outcome == .droppedByReceiver(counter: "Tcp: InCsumErrors"))
    }

    @Test func linux3WithoutPeerRxDoesNotRewrite() throws {
        let l = try ssh("veth-pre44-corruption", ["v0.ceth0.rx=off"], flow: "http", leg: "data nic0→container")
        #expect(l.step(.vethXmit, at: "v0")?.after.ipSummed == IPSummed.none)
        #expect(l.outcome == .droppedByReceiver(counter: "Tcp: InCsumErrors"))
    }

    @Test func partialCrossesUnchanged() throws {
        let l = try ssh("seed-routed-netns")
        let s = try #require(l.step(.vethXmit, at: "vethA"))
        #expect(s.before == s.after && s.changedBytes.isEmpty)
    }
}

@Suite struct IPForwardTests {
    @Test func ttlDecrementsAndOnlyTheIPHeaderChanges() throws {
        let l = try ssh("seed-routed-netns")
        let s = try #require(l.step(.ipForward, at: "router"))
        #expect(s.ttl == 63)
        #expect(s.after.ipSummed == .partial)
        #expect(s.l4Field == naivePseudoHeaderSum(s.frame))
        // IP header checksum updated incrementally equals a full recomputation.
        let ipcsum = UInt16(s.frame[24]) << 8 | UInt16(s.frame[25])
        #expect(ipcsum == naiveIPv4HeaderChecksum(s.frame))
        // Only MACs, TTL and the IP header checksum changed.
        #expect(s.changedBytes.allSatisfy { $0 < 12 || $0 == 22 || $0 == 24 || $0 == 25 })
    }

    @Test func ipv6DecrementsHopLimit() throws {
        let l = try ssh("ipv6-routed-netns", flow: "ssh6")
        let s = try #require(l.step(.ipForward, at: "router"))
        #expect(s.ttl == 63 && s.after.ipSummed == .partial)
        #expect(s.l4Field == naivePseudoHeaderSum(s.frame))
        #expect(l.outcome == .accepted)
    }
}

@Suite struct ConntrackTests {
    @Test func partialIsNotChecked() throws {
        let l = try ssh("conntrack-invalid")
        let s = try #require(l.step(.conntrackCheck, at: "router"))
        #expect(s.after.ipSummed == .partial && s.event == .conntrackCheck(l4: .tcp, v6: false, result: .skipped(.partial)))
    }

    @Test func noneIsVerifiedAndBecomesCompleteThenNone() throws {
        let l = try ssh("conntrack-invalid", ["vm1.eth0.tx=off"], leg: "data vm1→vm2")
        let ct = try #require(l.step(.conntrackCheck, at: "router"))
        #expect(ct.before.ipSummed == IPSummed.none && ct.after.ipSummed == .complete)
        let fwd = try #require(l.step(.ipForward, at: "router"))
        #expect(fwd.after.ipSummed == IPSummed.none)
        // __skb_checksum_complete set csum_valid; skb_forward_csum keeps it (measured: the
        // next AF_PACKET reader sees TP_STATUS_CSUM_VALID).
        #expect(fwd.after.skbState?.csumValid == true)
    }

    @Test func corruptedNoneIsInvalidAndDropped() throws {
        let l = try ssh("conntrack-invalid", flow: "ssh-corrupted", leg: "data vm1→vm2")
        #expect(l.step(.conntrackInvalidDrop, at: "router") != nil)
        if case .droppedOnPath(let at, _) = l.outcome { #expect(at == "router") } else { Issue.record("expected a drop at the router, got \(l.outcome)") }
    }
}

@Suite struct NATTests {
    @Test func masqueradeUpdatesAPartialFieldAsAPseudoHeaderSum() throws {
        let l = try ssh("nat-masquerade")
        let s = try #require(l.step(.masquerade, .unNAT, at: "router"))
        #expect(s.after.ipSummed == .partial)
        #expect(s.source == "10.0.2.1")
        #expect(s.l4Field == naivePseudoHeaderSum(s.frame))
        let ipcsum = UInt16(s.frame[24]) << 8 | UInt16(s.frame[25])
        #expect(ipcsum == naiveIPv4HeaderChecksum(s.frame))
    }

    @Test func masqueradeUpdatesAFinishedChecksumIncrementally() throws {
        let l = try ssh("nat-masquerade", ["vm1.eth0.tx=off"])
        let s = try #require(l.step(.masquerade, .unNAT, at: "router"))
        #expect(s.after.ipSummed == IPSummed.none)
        #expect(s.l4Field == naiveL4Checksum(s.frame))
    }

    /// MASQUERADE on the client-side interface: the nat table only sees a connection's new
    /// packets, so the server's replies leaving through it keep their source (measured).
    @Test func repliesAreNeverMasqueraded() throws {
        let l = try ssh("nat-masquerade", ["router.masquerade=eth0"], leg: "SYN-ACK")
        #expect(l.step(.masquerade, .unNAT) == nil)
        #expect(l.steps.last?.source == "10.0.2.2")
        #expect(l.outcome == .accepted)
    }

    @Test func repliesAreTranslatedBack() throws {
        let l = try ssh("nat-masquerade", leg: "SYN-ACK")
        let s = try #require(l.step(.unNAT, at: "router"))
        #expect(s.destination == "10.0.1.2")
        #expect(l.outcome == .accepted)
    }
}

@Suite struct ChecksumFillTests {
    @Test func fillsAPartialUDPDatagram() throws {
        let l = try ssh("dhcp-checksum-fill", flow: "dhcp", leg: "OFFER")
        let s = try #require(l.step(.checksumFill, .checksumFillGSO, at: "host"))
        #expect(s.before.ipSummed == .partial && s.after.ipSummed == IPSummed.none)
        #expect(s.l4Field == naiveL4Checksum(s.frame))
        #expect(l.outcome == .accepted)
    }

    /// The rule is iptables: IPv6 passes untouched (it would need ip6tables).
    @Test func fillIsIPv4Only() throws {
        let t = try with(loadShipped("ipv6-routed-netns").topology, ["router.checksum-fill=all"])
        let l = try #require(leg(try run(t, flow: "ssh6"), "ssh6", "SYN"))
        #expect(l.step(.checksumFill, .checksumFillGSO) == nil)
    }

    @Test func udpOnlyRuleLeavesTCPAlone() throws {
        let t = try with(loadShipped("seed-routed-netns").topology, ["router.checksum-fill=udp"])
        let l = try #require(leg(try run(t, flow: "ssh"), "ssh", "SYN"))
        #expect(l.step(.checksumFill, .checksumFillGSO) == nil)
    }

    @Test(arguments: [KernelProfile.linux44, .linux6])
    func gsoSkbsAreNotFilled(profile: KernelProfile) throws {
        // A router doing checksum-fill: the netns router lab with a 4000-byte transfer.
        var r = try with(loadShipped("seed-routed-netns").topology, ["router.checksum-fill=all", "kernel=\(profile.rawValue)"])
        r.flows[0].payload = 4000
        let l = try #require(leg(try run(r, flow: "ssh"), "ssh", "data vm1→vm2"))
        let s = try #require(l.step(.checksumFill, .checksumFillGSO, at: "router"))
        #expect(s.after.ipSummed == .partial)
        #expect(s.after.skbState?.isGSO == true)
        #expect(s.event == .checksumFillGSO(profile: profile))
    }
}

@Suite struct GuestReceiveTests {
    @Test func needsCsumIsTrustedWithoutVerification() throws {
        let l = try ssh("seed-bridged")
        let rx = try #require(l.step(.receiveBuf, at: "vm2"))
        #expect(rx.after.ipSummed == .partial)
        let d = try #require(l.step(.transportReceive, at: "vm2"))
        #expect(!d.bytesValid && d.receiverWouldAccept)
        #expect(l.outcome == .accepted)
    }

    @Test func flagsZeroIsVerifiedAndCounted() throws {
        let tr = try run(loadShipped("seed-routed-userspace").topology, flow: "ssh")
        let l = try #require(leg(tr, "ssh", "SYN"))
        #expect(l.step(.receiveBuf, at: "vm2")?.after.ipSummed == IPSummed.none)
        #expect(l.outcome == .droppedByReceiver(counter: "Tcp: InCsumErrors"))
        #expect(tr.flows[0].counters["vm2"]?["Tcp: InCsumErrors"] ?? 0 >= 1)
    }
}

@Suite struct SegmentationTests {
    /// A TAP with TUN_F_CSUM but no TUN_F_TSO4 segments; every segment keeps a pseudo-header
    /// sum for its own length.
    @Test func segmentsKeepPerSegmentPseudoSums() throws {
        let l = try ssh("tso-to-tap-without-tso", flow: "bulk", leg: "data vm1→vm2")
        let segs = l.steps(.gsoSegment)
        #expect(segs.count == 3)
        var total = 0
        for s in segs {
            #expect(s.after.ipSummed == .partial)
            #expect(s.l4Field == naivePseudoHeaderSum(s.frame))
            #expect(UInt16(s.frame[24]) << 8 | UInt16(s.frame[25]) == naiveIPv4HeaderChecksum(s.frame))
            total += s.frame.count - 66
        }
        #expect(total == 4000)
        #expect(l.outcome == .accepted)
    }

    @Test func withoutChecksumOffloadEachSegmentIsCompleted() throws {
        let l = try ssh("tso-to-tap-without-tso", ["vm2.guest-csum=off"], flow: "bulk", leg: "data vm1→vm2")
        for s in l.steps(.gsoSegment) {
            #expect(s.after.ipSummed == IPSummed.none)
            #expect(s.l4Field == naiveL4Checksum(s.frame))
        }
        #expect(l.outcome == .accepted)
    }
}

@Suite struct MTUTests {
    private func flow(_ file: String, _ sets: [String], payload: Int, mss: Int?) throws -> LegTrace {
        var t = try with(loadShipped(file).topology, sets)
        t.flows[0].payload = payload
        t.flows[0].mss = mss
        return try #require(leg(try run(t, flow: t.flows[0].name), t.flows[0].name, "data vm1→vm2"))
    }

    /// ip_forward → ip_exceeds_mtu: DF packets (or GSO segments) above the egress MTU are dropped.
    @Test func routerDropsPacketsAboveTheMTU() throws {
        let big = try flow("seed-routed-netns", [], payload: 3000, mss: 1460)
        #expect(big.step(.exceedsMTU, at: "router") != nil)
        if case .droppedOnPath(let at, _) = big.outcome { #expect(at == "router") } else { Issue.record("\(big.outcome)") }
        let ok = try flow("seed-routed-netns", [], payload: 3000, mss: nil)
        #expect(ok.outcome == .accepted)
    }

    /// __dev_forward_skb → is_skb_forwardable: veth drops a non-GSO frame above MTU + 18.
    @Test func vethDropsOversizedFrames() throws {
        // A full 1514-byte frame fits (MTU 1500 + 14); 1526 bytes do not, at the bridge as at veth.
        let fits = try flow("seed-bridged", ["vm1.eth0.tso=off", "vm1.eth0.gso=off"], payload: 1448, mss: nil)
        #expect(fits.outcome == .accepted)
        let over = try flow("seed-bridged", ["vm1.eth0.tso=off", "vm1.eth0.gso=off"], payload: 1460, mss: 1460)
        #expect(over.step(.bridgeTooBig, .vethTooBig, at: "br0") != nil)
        let v = try flow("fix-tx-off-host-veths", ["router.flavour=netns"], payload: 3000, mss: 1460)
        #expect(v.step(.bridgeTooBig, .vethTooBig) != nil)
    }
}

@Suite struct GSOHeaderLengthTests {
    /// virtio_net_hdr_from_skb writes hdr_len = skb_headlen(skb): tun_get_user builds a frame
    /// that fits a page fully linear, a larger one with only hdr_len bytes linear (measured).
    @Test func hdrLenFollowsTheLinearPart() throws {
        let small = try ssh("tso-to-tap-without-tso", flow: "bulk-small-mss", leg: "data vm2→vm1")
        let s = try #require(small.step(.tunPutUser, at: "tap1"))
        #expect(s.after.vnet?.hdrLen == UInt16(s.frame.count))
        #expect(s.frame.count == 3066)
        let large = try ssh("tso-to-tap-without-tso", flow: "bulk-no-csum", leg: "data vm2→vm1")
        let b = try #require(large.step(.tunPutUser, at: "tap1"))
        #expect(b.after.vnet?.hdrLen == 66)
        // tun_alloc_skb: "Under a page? Don't bother with paged skb." — 3966 bytes stay linear.
        var t = try loadShipped("tso-to-tap-without-tso").topology
        t.flows[2].payload = 3900
        let mid = try #require(leg(try run(t, flow: t.flows[2].name), t.flows[2].name, "data vm2→vm1"))
        let m = try #require(mid.step(.tunPutUser, at: "tap1"))
        #expect(m.frame.count == 3966 && m.after.vnet?.hdrLen == 3966)
    }
}

@Suite struct UserspaceForwarderTests {
    @Test func packetSocketLosesThePromise() throws {
        let l = try ssh("seed-routed-userspace")
        let rx = try #require(l.step(.forwarderReadSocket, at: "router"))
        #expect(rx.before.ipSummed == .partial && rx.after == .raw)
        let tx = try #require(l.step(.packetSnd, .packetSndVnet, .packetSndTooBig, at: "router"))
        #expect(tx.after.ipSummed == IPSummed.none)
        #expect(tx.l4Field == naivePseudoHeaderSum(tx.frame))
    }

    @Test func vnetHeaderAwareForwarderKeepsIt() throws {
        let l = try ssh("seed-routed-userspace-vnet-hdr")
        #expect(l.step(.packetSnd, .packetSndVnet, .packetSndTooBig, at: "router")?.after.ipSummed == .partial)
        #expect(l.outcome == .accepted)
    }

    @Test func gsoSuperFrameReadAsBytesIsRefused() throws {
        var t = try loadShipped("seed-routed-userspace").topology
        t.flows[0].payload = 4000
        let l = try #require(leg(try run(t, flow: "ssh"), "ssh", "data vm1→vm2"))
        if case .droppedOnPath(_, let reason) = l.outcome { #expect(reason.contains("EMSGSIZE")) } else { Issue.record("\(l.outcome)") }
    }
}

@Suite struct DHCPClientTests {
    @Test func rawClientRejectsUnfinishedOffer() throws {
        let l = try ssh("dhcp-raw-client", flow: "dhcp", leg: "OFFER")
        #expect(l.outcome == .droppedByReceiver(counter: "dhclient: bad udp checksums"))
    }

    @Test func auxdataClientTrustsCsumNotReady() throws {
        let l = try ssh("dhcp-raw-client", flow: "dhcp-auxdata-client", leg: "OFFER")
        #expect(l.outcome == .accepted)
    }

    /// `tx off` on the bridge device does fix locally originated DHCP (br0's features apply to
    /// what the host sends through it).
    @Test func bridgeDeviceTxOffFixesLocalTraffic() throws {
        let l = try ssh("dhcp-raw-client", ["virbr0.tx=off"], flow: "dhcp", leg: "OFFER")
        #expect(l.outcome == .accepted)
    }
}

/// Unknown unicast: a bridge floods it (`br_flood`), and the NIC at the far end drops a copy
/// whose destination MAC is not its own (measured in the verify campaign: the frame reaches
/// tap2's fd; the model used to drop it at the bridge).
@Suite struct BridgeFloodTests {
    /// An L2 forwarder between two subnets copies vm1's frame (addressed to the router's br1
    /// port) unchanged onto br2, which has no entry for that MAC. (The topology-file validator
    /// refuses this lab because the ping cannot complete; the simulator still walks it.)
    @Test func unknownUnicastIsFloodedAndFilteredAtTheGuest() throws {
        let t = try with(loadShipped("seed-routed-userspace").topology, ["router.forwarding=l2"])
        let l = try #require(leg(try run(t, flow: "ping"), "ping", "echo request"))
        let flood = try #require(l.step(.bridgeForward, at: "br2"))
        guard case let .bridgeForward(_, _, _, flooded?, _) = flood.event else { Issue.record("\(flood.event)"); return }
        #expect(!flooded.ports.isEmpty)
        // The copy leaves tap2 toward vm2 (what a reader of tap2's fd sees) …
        let tx = try #require(l.steps.last { $0.event.kind == .tunPutUser })
        #expect(tx.interface == "tap2" || tx.element == "tap2")
        // … and QEMU's receive filter drops it: vm2's MAC is not the destination.
        let filter = try #require(l.step(.qemuReceiveFilter, at: "vm2"))
        #expect(filter.drop == "not for this MAC")
        if case let .droppedOnPath(at, reason) = l.outcome {
            #expect(at == "vm2:eth0" && reason.contains("MAC"))
        } else {
            Issue.record("expected a drop at vm2's NIC, got \(l.outcome)")
        }
    }
}

/// UDP larger than the MTU (measured with `csumlab verify`: a 3000-byte datagram from a netns
/// UDP socket leaves as CHECKSUM_NONE IP fragments, first fragment 1480 bytes of UDP, field the
/// complete checksum; through a userspace router and through MASQUERADE alike).
@Suite struct UDPFragmentTests {
    @Test func bigDatagramIsChecksummedInSoftwareAndFragmented() throws {
        let tr = try run(try loadShipped("udp-fragments-userspace-router").topology)
        let big = try #require(leg(tr, "udp-3000", "query"))
        let send = try #require(big.steps.first)
        guard case let .udpSend(udp) = send.event else { Issue.record("\(send.event)"); return }
        #expect(udp.fragments?.count == 3)
        #expect(send.after.ipSummed == IPSummed.none)
        #expect(send.ipFragments == 3)
        #expect(send.l4Field == naiveL4Checksum(send.frame))
        // DF is clear on a datagram the sender fragments.
        #expect(send.frame[20] & 0x40 == 0)
        // The first fragment on the link: 1480 bytes of UDP, MF set.
        #expect(send.firstFragment.count == 14 + 20 + 1480)
        #expect(send.firstFragment[20] & 0x20 != 0)
        // The userspace router cannot lose a promise that was never made.
        #expect(big.outcome == .accepted)
        guard case let .transportReceive(rx)? = big.steps.last?.event else { Issue.record("\(String(describing: big.steps.last))"); return }
        #expect(rx.fragments == 3)
        // The same socket, a datagram that fits: CHECKSUM_PARTIAL, lost at the router.
        let small = try #require(leg(tr, "udp-1000", "query"))
        #expect(small.steps.first?.after.ipSummed == .partial)
        #expect(small.steps.first?.ipFragments == nil)
        #expect(small.outcome == .droppedByReceiver(counter: "Udp: InCsumErrors"))
    }

    /// IPv4 fragments have DF clear, so a kernel router forwards them (ip_forward's MTU check
    /// is for DF packets); TCP is never fragmented (MSS).
    @Test func kernelRouterForwardsFragments() throws {
        var t = try loadShipped("seed-routed-netns").topology
        let i = try #require(t.flows.firstIndex { $0.name == "ping" })
        t.flows[i].payload = 3000
        let l = try #require(leg(try run(t, flow: "ping"), "ping", "echo request"))
        #expect(l.outcome == .accepted)
        #expect(l.steps.allSatisfy { $0.ipFragments == 3 }, "\(l.steps.map { "\($0.element) \($0.function) \(String(describing: $0.ipFragments))" })")
    }
}

/// Conntrack state is shared by the legs of a flow (measured with `csumlab verify`: a corrupted
/// echo request dropped as INVALID leaves no entry, and the echo reply is then INVALID too).
@Suite struct ConntrackAcrossLegsTests {
    @Test func unsolicitedEchoReplyIsInvalid() throws {
        let tr = try run(try loadShipped("conntrack-invalid").topology, flow: "ping-corrupted")
        let req = try #require(leg(tr, "ping-corrupted", "echo request"))
        #expect(req.step(.conntrackInvalidDrop, at: "router") != nil)
        let reply = try #require(leg(tr, "ping-corrupted", "echo reply"))
        let invalid = try #require(reply.step(.conntrackCannotStart, at: "router"))
        #expect(invalid.event == .conntrackCannotStart(l4: .icmp, why: "an ICMP echo reply"))
        if case let .droppedOnPath(at, reason) = reply.outcome {
            #expect(at == "router" && reason.contains("no entry"))
        } else {
            Issue.record("expected the reply to be dropped at the router, got \(reply.outcome)")
        }
    }

    /// The same ping uncorrupted: the request makes the entry, the reply finds it.
    @Test func answeredEchoReplyPasses() throws {
        var t = try loadShipped("conntrack-invalid").topology
        let i = try #require(t.flows.firstIndex { $0.name == "ping-corrupted" })
        t.flows[i].corruptAfter = nil
        let tr = try run(t, flow: "ping-corrupted")
        #expect(tr.flows.first?.verdict.completes == true)
        #expect(leg(tr, "ping-corrupted", "echo reply")?.step(.conntrackCannotStart) == nil)
    }
}

/// Found by the second verify campaign (each measured on 6.18.44 with `csumlab verify`).
@Suite struct CampaignTwoTests {
    /// A program writing whole frames cannot send more than the MTU: packet_snd refuses it.
    /// The echo reply to its big ping is the receiving kernel's, and that kernel fragments.
    @Test func softwareSenderAboveTheMTUIsRefusedButTheKernelsEchoReplyFragments() throws {
        var t = try loadShipped("seed-routed-netns").topology
        let i = try #require(t.flows.firstIndex { $0.name == "ping" })
        t.flows[i].payload = 1473
        t.flows[i].sender = .software
        let tr = try run(t, flow: "ping")
        let req = try #require(leg(tr, "ping", "echo request"))
        if case let .droppedOnPath(_, reason) = req.outcome { #expect(reason.contains("EMSGSIZE")) } else { Issue.record("\(req.outcome)") }
        let reply = try #require(leg(tr, "ping", "echo reply"))
        #expect(reply.steps.first?.ipFragments == 2)
    }

    /// CHECKSUM_UNNECESSARY is for TCP and UDP: a NIC with rx-checksumming leaves ICMP NONE.
    @Test func hostNICDoesNotVouchForICMP() throws {
        var t = try loadShipped("veth-pre44-corruption").topology
        var ping = Flow(name: "ping", kind: .icmp, from: "nic0", to: "container")
        ping.ipVersion = .v4
        t.flows.append(ping)
        let tr = try run(t, flow: "ping")
        let rx = try #require(leg(tr, "ping", "echo request")?.step(.nicReceive))
        #expect(rx.bytesValid)
        #expect(rx.after.ipSummed == IPSummed.none)
        // TCP through the same NIC is vouched for.
        let tcp = try #require(leg(try run(t, flow: "http"), "http", "SYN")?.step(.nicReceive))
        #expect(tcp.after.ipSummed == .unnecessary)
    }

    /// A reply addressed to the untranslated client (its MASQUERADEd request was dropped at
    /// the receiver) matches no entry: an echo reply is INVALID and dropped.
    @Test func replyToAnUntranslatedClientMatchesNoEntry() throws {
        var t = try with(loadShipped("nat-masquerade").topology, ["router.drop-invalid=on", "router.conntrack-checksum=off"])
        let i = try #require(t.flows.firstIndex { $0.name == "ping" })
        t.flows[i].corruptAfter = Endpoint(node: "vm1")
        t.flows[i].corruptByte = 10
        let tr = try run(t, flow: "ping")
        #expect(leg(tr, "ping", "echo request")?.outcome == .droppedByReceiver(counter: "Icmp: InCsumErrors"))
        let reply = try #require(leg(tr, "ping", "echo reply"))
        #expect(reply.step(.conntrackCannotStart, at: "router") != nil)
    }
}
