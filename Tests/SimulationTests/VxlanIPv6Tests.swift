import Testing
import Simulation
import Wire
import TestSupport

// VXLAN over an IPv6 underlay (#16): `udp6_set_csum()` (same branches as IPv4, LCO while the inner
// is pending), `udp6zerocsumtx` for a zero outer, and the receive side's refusal of a zero outer
// checksum unless `udp6zerocsumrx` (`__udp6_lib_rcv()`: `if (!uh->check &&
// !udp_get_no_check6_rx(sk)) goto report_csum_error;` → Udp6InCsumErrors, Udp6InErrors). Measured
// on 6.18 (assets/kernel-reference-notes.md, "VXLAN over IPv6"). Expected values from the naive
// reference.

private func inner() -> (Frame, SkbState) {
    let b = PacketBuilder(sourceMAC: [2, 0, 0, 0, 1, 1], destinationMAC: [2, 0, 0, 0, 1, 2],
                          source: IPAddress("192.168.200.1")!, destination: IPAddress("192.168.200.2")!)
    let body = (0..<100).map { UInt8(truncatingIfNeeded: $0 &* 5 &+ 1) }
    return (b.udp(sourcePort: 40000, destinationPort: 5000, payload: body, checksum: .partial),
            SkbState(ipSummed: .partial, csumStart: 34, csumOffset: 6))
}

private func settings(tx: Bool = false, rx: Bool = false, udpCsum: Bool? = nil) -> VxlanSettings {
    VxlanSettings(vni: 42, local: IPAddress("fd00::1")!, remote: IPAddress("fd00::2")!, underlay: "u", udpCsum: udpCsum,
                  udp6ZeroCsumTx: tx, udp6ZeroCsumRx: rx)
}

private func encap(_ v: VxlanSettings, profile: KernelProfile = .linux6) throws -> VxlanEncapsulation {
    let (f, s) = inner()
    return try Vxlan.encapsulate(inner: f, skb: s, settings: v, profile: profile, underlayIPv4Checksum: true,
                                 sourceMAC: [2, 0, 0, 0, 0, 1], destinationMAC: [2, 0, 0, 0, 0, 2], sourcePort: 33000)
}

@Suite struct VxlanIPv6Tests {
    @Test func theOuterHeaderIsIPv6AndTheInnerPendingAt104() throws {
        let e = try encap(settings())
        let b = e.frame.bytes
        #expect(b[12] == 0x86 && b[13] == 0xDD && b[14] >> 4 == 6 && b[20] == 17 && b[21] == 64)
        #expect(Array(b[22..<38]) == IPAddress("fd00::1")!.bytes && Array(b[38..<54]) == IPAddress("fd00::2")!.bytes)
        // Payload length = UDP length = 8 + 8 + inner.
        let (f, _) = inner()
        #expect(Int(b[18]) << 8 | Int(b[19]) == 16 + f.count)
        #expect(Array(b[70...]) == f.bytes)
        #expect(e.skb.ipSummed == .partial && e.skb.csumStart == 104 && e.skb.csumOffset == 6)
    }

    @Test func theDefaultIsLCOAndUdpcsumDoesNotApply() throws {
        for udpCsum in [nil, false, true] as [Bool?] {
            let e = try encap(settings(udpCsum: udpCsum))
            #expect(e.branch == .lco)
            var done = e.frame.bytes
            let c = naiveL4Checksum(Array(done[70...]))
            done[70 + 34 + 6] = UInt8(c >> 8); done[70 + 34 + 7] = UInt8(c & 0xFF)
            #expect(e.outerField == naiveL4Checksum(done) && naiveOuterUDPField(e.frame.bytes) == e.outerField)
            #expect(e.outerField != naiveL4Checksum(e.frame.bytes))
        }
    }

    @Test func udp6zerocsumtxSendsZero() throws {
        let e = try encap(settings(tx: true))
        #expect(e.branch == .zero && naiveOuterUDPField(e.frame.bytes) == 0)
        #expect(e.skb.ipSummed == .partial && e.skb.csumStart == 104)
    }

    @Test func aZeroOuterIsRefusedWithoutUdp6zerocsumrx() throws {
        let e = try encap(settings(tx: true))
        let refused = Vxlan.receive(e.frame, skb: e.skb, zeroChecksum6Allowed: false)
        #expect(refused.inner == nil && refused.outerCheck == .udp6ZeroRefused)
        #expect(refused.counters == ["Udp6: InCsumErrors", "Udp6: InErrors"])
        let allowed = Vxlan.receive(e.frame, skb: e.skb, zeroChecksum6Allowed: true)
        #expect(allowed.outerCheck == .udpZero)
        let got = try #require(allowed.inner)
        #expect(got.frame == inner().0 && got.skb.csumStart == 34)
    }

    @Test func aNonZeroOuterIsCheckedAsOverIPv4() throws {
        // The inner completed (as tx off on the underlay would): the LCO outer verifies.
        let e = try encap(settings())
        var b = e.frame.bytes
        let c = naiveL4Checksum(Array(b[70...]))
        b[104 + 6] = UInt8(c >> 8); b[104 + 7] = UInt8(c & 0xFF)
        let ok = Vxlan.receive(Frame(bytes: b), skb: SkbState(ipSummed: .none))
        #expect(ok.outerCheck == .verified(valid: true) && ok.inner != nil)
        b[100] ^= 1
        let bad = Vxlan.receive(Frame(bytes: b), skb: SkbState(ipSummed: .none))
        #expect(bad.inner == nil && bad.counters == ["Udp6: InCsumErrors", "Udp6: InErrors"])
    }
}

@Suite struct VxlanIPv6LabTests {
    private func query(_ sets: [String]) throws -> LegTrace {
        let t = try with(loadShipped("vxlan-ipv6-zero-csum").topology, sets)
        return try #require(leg(try run(t, flow: "datagram"), "datagram", "query"))
    }

    @Test func withoutUdp6zerocsumrxEverythingIsDropped() throws {
        let l = try query([])
        #expect(l.outcome == .droppedByReceiver(counter: "Udp6: InCsumErrors"))
        #expect(l.counters["nodeB"]?["Udp6: InCsumErrors"] == 1 && l.counters["nodeB"]?["Udp6: InErrors"] == 1)
        let last = try #require(l.steps.last)
        #expect(last.event.kind == .vxlanOuterReceive && last.l4Field == 0)
        #expect(last.event.function.hasPrefix("__udp6_lib_rcv"))
        let encap = try #require(l.steps.first { $0.event.kind == .vxlanEncap })
        #expect(encap.explanation.contains("outer Ethernet, IPv6, UDP and VXLAN"))
    }

    @Test func bothSettingsWork() throws {
        let l = try query(["vxB.udp6zerocsumrx=on"])
        #expect(l.outcome == .accepted)
        let rx = try #require(l.steps.first { $0.event.kind == .vxlanOuterReceive })
        #expect(rx.l4Field == 0)
    }

    @Test func theDefaultOuterChecksumWorksToo() throws {
        let l = try query(["vxA.udp6zerocsumtx=off"])
        #expect(l.outcome == .accepted)
        let set = try #require(l.steps.first { $0.event.kind == .outerUDPChecksum })
        guard case let .outerUDPChecksum(branch, _, _, v6) = set.event else { Issue.record("\(set.event)"); return }
        #expect(branch == .lco && v6)
    }
}

/// `csumlab fix` proposes the users' fixes for the tunnel labs of #16.
@Suite struct TunnelFixTests {
    private func found(_ lab: String) throws -> Set<Set<String>> {
        let s = try FixSearch(loadShipped(lab).topology)
        let r = try #require(s.run(maxChanges: 1))
        return Set(r.fixes.map { Set($0.changes.map(\.assignment)) })
    }

    @Test func ipv6ZeroChecksumFixes() throws {
        let f = try found("vxlan-ipv6-zero-csum")
        #expect(f.contains(["vxB.udp6zerocsumrx=on"]) && f.contains(["vxA.udp6zerocsumtx=off"]))
    }

    @Test func routerMasqueradeFixes() throws {
        let f = try found("vxlan-router-masquerade-tx-off")
        #expect(f.contains(["vxA.udpcsum=off"]) && f.contains(["vxA.tx=off"]))
    }

    /// The kube-proxy outer-MASQUERADE labs: the fixes users applied (noudpcsum, ethtool -K
    /// flannel.1 tx-checksum-ip-generic off) are found; turning tx off on the receiver side is
    /// not a fix; `tx on` for the veth standing in for a NIC works only because the wrong outer
    /// checksum goes unchecked, and ranks after every sound fix of its size.
    @Test(arguments: ["vxlan-outer-masquerade", "vxlan-gso-outer-masquerade"])
    func kubeProxyOuterMasqueradeFixes(lab: String) throws {
        let s = try FixSearch(loadShipped(lab).topology)
        let r = try #require(s.run(maxChanges: 1))
        let f = Set(r.fixes.map { Set($0.changes.map(\.assignment)) })
        #expect(f.contains(["vxA.udpcsum=off"]) && f.contains(["vxA.tx=off"]), "\(lab)")
        #expect(!f.contains(["wire.wireB.tx=off"]), "\(lab)")
        let ranked = r.ranked(bitsPerSecond: 1e9)
        let txOn = try #require(ranked.firstIndex { $0.changes.map(\.assignment) == ["wire.wireA.tx=on"] }, "\(lab)")
        #expect(!ranked[txOn].unchecked.isEmpty && ranked[txOn].unchecked.allSatisfy { $0.at == "nodeB:wireB" })
        #expect(ranked[..<txOn].allSatisfy(\.unchecked.isEmpty) && txOn == ranked.count - 1, "\(lab)")
    }

    /// The 2020 form on 4.4: flannel PR #1282's tx-checksum-ip-generic off on the tunnel device.
    @Test func linux44ZeroChecksumFix() throws {
        let f = try found("vxlan-zero-csum-nat-linux44")
        #expect(f.contains(["vxA.tx=off"]))
    }

    /// GENEVE with its outer checksum asked for (`udpcsum`), NATed by the router: the fixes the
    /// lab's description names.
    @Test func geneveOuterChecksumFixes() throws {
        let t = try with(loadShipped("geneve-zero-csum-router-masquerade").topology, ["gnvA.udpcsum=on"])
        let r = try #require(try FixSearch(t).run(maxChanges: 1))
        let f = Set(r.fixes.map { Set($0.changes.map(\.assignment)) })
        #expect(f.contains(["gnvA.udpcsum=off"]) && f.contains(["gnvA.tx=off"]))
    }
}

/// A route to the tunnel's remote that leaves by the tunnel itself (a /6 on the vxlan interface
/// covers the underlay's fd00::/8): vxlan_xmit_one()'s "circular route" drop, not an endless
/// encapsulation (the fuzz test found the model recursing until the stack overflowed).
@Suite struct TunnelRouteLoopTests {
    @Test func aRouteThroughTheTunnelItselfIsDropped() throws {
        var t = try loadShipped("vxlan-ipv6-tunnel-segmentation").topology
        let a = try #require(t.nodes.firstIndex { $0.name == "nodeA" })
        let vx = try #require(t.nodes[a].interfaces.firstIndex { $0.name == "vx" })
        let v6 = try #require(t.nodes[a].interfaces[vx].addresses.firstIndex { $0.address.version == .v6 })
        t.nodes[a].interfaces[vx].addresses[v6].prefix = 6
        let tr = try run(t)
        for f in tr.flows {
            #expect(!f.verdict.completes)
            #expect(f.verdict.summary.contains("circular route"), "\(f.flow): \(f.verdict.summary)")
        }
    }
}
