import Testing
import Simulation
import Wire
import TestSupport

/// `type: frame` flows: a frame written into a TAP's fd with a chosen virtio_net_hdr, built from
/// the flow or given whole. Checksum values are checked against `TestSupport`'s naive sums.
@Suite struct FrameFlowTests {
    static func bridged(_ configure: (inout Flow) -> Void) throws -> (Topology, Flow) {
        var t = try loadShipped("seed-bridged").topology
        var f = Flow(name: "f", kind: .frame, from: "vm1", to: "vm2")
        f.frame.tap = "tap1"
        f.payload = 60
        configure(&f)
        t.flows = [f]
        return (t, f)
    }

    static func l4Field(_ b: [UInt8]) throws -> UInt16 {
        let l = try Frame(bytes: b).layout()
        return UInt16(b[l.checksumFieldOffset]) << 8 | UInt16(b[l.checksumFieldOffset + 1])
    }

    @Test(arguments: [IPVersion.v4, .v6], [IPProtocol.tcp, .udp])
    func builtFrameCarriesTheChosenChecksum(ip: IPVersion, proto: IPProtocol) throws {
        for mode in FrameInjection.ChecksumMode.allCases {
            let (t, f) = try Self.bridged { f in
                f.ipVersion = ip
                f.frame.proto = proto
                f.frame.checksum = mode
                f.corruptByte = 5
                f.port = 7777
            }
            let b = try Simulator(t).frameBytes(f)
            let l = try Frame(bytes: b).layout()
            #expect(l.l4Protocol == proto && l.ipVersion == ip)
            #expect(Frame(bytes: b).destinationPort(l) == 7777 && Frame(bytes: b).sourcePort(l) == 40000)
            #expect(b.count - l.payloadOffset == 60)
            if ip == .v4 { #expect(b[24] == UInt8(naiveIPv4HeaderChecksum(b) >> 8) && b[25] == UInt8(naiveIPv4HeaderChecksum(b) & 0xFF)) }
            let field = try Self.l4Field(b)
            switch mode {
            case .pseudo:
                #expect(field == naivePseudoHeaderSum(b), "\(ip) \(proto) pseudo")
            case .full:
                #expect(field == naiveL4Checksum(b), "\(ip) \(proto) full")
            case .corrupt:
                var intact = b
                intact[l.payloadOffset + 5] ^= 0x01
                #expect(field == naiveL4Checksum(intact), "\(ip) \(proto) corrupt: the field is the intact frame's sum")
                #expect(field != naiveL4Checksum(b), "\(ip) \(proto) corrupt: and wrong for the bytes sent")
            }
        }
    }

    @Test func builtFrameUsesTheGuestsMACs() throws {
        let (t, f) = try Self.bridged { _ in }
        let b = try Simulator(t).frameBytes(f)
        // The ssh flow's SYN, as vm1's virtio NIC writes it into tap1: same MACs.
        var t2 = try loadShipped("seed-bridged").topology
        t2.flows = t2.flows.filter { $0.name == "ssh" }
        let syn = try #require(try run(t2).flows[0].legs.first?.step(.tunGetUser, at: "tap1"))
        #expect(Array(b[0..<12]) == Array(syn.frame[0..<12]))
    }

    /// virtio_net_hdr_to_skb() reads NEEDS_CSUM and the GSO fields only: DATA_VALID written into a
    /// TAP is ignored (it is a host → guest flag), so a corrupted frame claiming it is still checked.
    @Test func dataValidWrittenIntoATapIsIgnored() throws {
        let (t, _) = try Self.bridged { f in
            f.frame.checksum = .corrupt
            f.frame.vnet = VirtioNetHeader(flags: VirtioNetHeader.dataValid)
        }
        let tr = try run(t)
        let leg = tr.flows[0].legs[0]
        #expect(tr.flows[0].kind == .frame && tr.flows[0].legs.count == 1)
        let written = try #require(leg.step(.tunGetUser, at: "tap1"))
        #expect(written.before.vnet == VirtioNetHeader(flags: VirtioNetHeader.dataValid))
        #expect(written.after.ipSummed == IPSummed.none)
        guard case .droppedByReceiver = leg.outcome else {
            Issue.record("DATA_VALID on a corrupted frame: \(leg.outcome.summary)")
            return
        }
        #expect(!tr.flows[0].verdict.completes)
    }

    @Test func theSameFrameWithoutDataValidIsDropped() throws {
        let (t, _) = try Self.bridged { f in f.frame.checksum = .corrupt }
        let leg = try run(t).flows[0].legs[0]
        guard case .droppedByReceiver = leg.outcome else {
            Issue.record("a corrupted frame without DATA_VALID: \(leg.outcome.summary)")
            return
        }
    }

    @Test func needsCsumCarriesThePromiseToTheOtherGuest() throws {
        let (t, f) = try Self.bridged { f in
            f.frame.proto = .udp
            f.frame.checksum = .pseudo
            f.frame.vnet = VirtioNetHeader(flags: VirtioNetHeader.needsCsum, csumStart: 34, csumOffset: 6)
        }
        let leg = try run(t).flows[0].legs[0]
        #expect(leg.outcome == .accepted)
        let out = try #require(leg.step(.tunPutUser, at: "tap2"))
        #expect(out.after.vnet == VirtioNetHeader(flags: VirtioNetHeader.needsCsum, csumStart: 34, csumOffset: 6))
        #expect(Array(out.frame[12...]) == Array(try Simulator(t).frameBytes(f)[12...]))
    }

    @Test func givenBytesAreWrittenAsTheyAre() throws {
        let (t0, f0) = try Self.bridged { f in f.frame.checksum = .full }
        let bytes = try Simulator(t0).frameBytes(f0)
        let (t, f) = try Self.bridged { f in f.frame.bytes = bytes; f.payload = 3 }
        #expect(try Simulator(t).frameBytes(f) == bytes)
        let leg = try run(t).flows[0].legs[0]
        #expect(leg.step(.tunGetUser, at: "tap1")?.frame == bytes)
        #expect(leg.outcome == .accepted)
    }

    @Test func problemsAreNamed() throws {
        let (t, f) = try Self.bridged { f in f.frame.tap = "tap2" }
        #expect(Simulator(t).frameProblem(f)?.contains("written by vm2") == true)
        let (t2, f2) = try Self.bridged { f in f.frame.tap = "br0" }
        #expect(Simulator(t2).frameProblem(f2)?.contains("no TAP named 'br0'") == true)
        let (t3, f3) = try Self.bridged { f in f.frame.checksum = .corrupt; f.corruptByte = 60 }
        #expect(Simulator(t3).frameProblem(f3)?.contains("payload has 60 bytes") == true)
        #expect(throws: SimulationError.self) { try run(t3) }
        let (t5, f5) = try Self.bridged { _ in }
        let padded = try Simulator(t5).frameBytes(f5) + [0, 0]
        let (t6, f6) = try Self.bridged { f in f.frame.bytes = padded }
        #expect(Simulator(t6).frameProblem(f6)?.contains("2 byte(s) after its IP datagram") == true)
        var (t4, f4) = try Self.bridged { f in f.frame.vnet = VirtioNetHeader(flags: VirtioNetHeader.dataValid) }
        try t4.apply(assignment: "tap1.vnet-hdr=off")
        #expect(Simulator(t4).frameProblem(f4)?.contains("has no vnet header") == true)
        f4.frame.vnet = VirtioNetHeader()
        t4.flows = [f4]
        #expect(Simulator(t4).frameProblem(f4) == nil)
        #expect(try run(t4).flows[0].legs[0].step(.tunGetUser, at: "tap1")?.after.ipSummed == IPSummed.none)
    }
}

/// `virtio_net_hdr_to_skb()`'s refusals: the write fails with EINVAL and nothing enters the host.
@Suite struct TapHeaderRefusalTests {
    static func walk(_ vnet: VirtioNetHeader, proto: IPProtocol = .udp, payload: Int = 64, host: KernelProfile = .linux6) throws -> LegTrace {
        let (t0, _) = try FrameFlowTests.bridged { f in
            f.frame.proto = proto
            f.frame.checksum = .pseudo
            f.frame.vnet = vnet
            f.payload = payload
        }
        var t = t0
        t.kernel = host
        return try run(t).flows[0].legs[0]
    }

    static func refused(_ leg: LegTrace) -> Bool {
        guard case let .droppedOnPath(at, _) = leg.outcome, at == "tap1" else { return false }
        return leg.steps.count == 1 && leg.steps[0].event.kind == .tunGetUserRefused
    }

    @Test func csumStartAndOffsetMustLieInTheFrame() throws {
        // 14 + 20 + 8 + 64 = 106 bytes: the field's two bytes must end by byte 106.
        #expect(Self.refused(try Self.walk(VirtioNetHeader(flags: VirtioNetHeader.needsCsum, csumStart: 107, csumOffset: 0))))
        #expect(Self.refused(try Self.walk(VirtioNetHeader(flags: VirtioNetHeader.needsCsum, csumStart: 34, csumOffset: 71))))
        #expect(!Self.refused(try Self.walk(VirtioNetHeader(flags: VirtioNetHeader.needsCsum, csumStart: 34, csumOffset: 70))))
    }

    @Test func tcpGSOMustPointAtTheTCPChecksumOnLinux6() throws {
        let h = VirtioNetHeader(flags: VirtioNetHeader.needsCsum, gsoType: 1, hdrLen: 54, gsoSize: 1448, csumStart: 34, csumOffset: 6)
        #expect(Self.refused(try Self.walk(h, proto: .tcp, payload: 3000)))
        #expect(!Self.refused(try Self.walk(h, proto: .tcp, payload: 3000, host: .linux44)), "4.4 has no such check")
        var good = h
        good.csumOffset = 16
        #expect(!Self.refused(try Self.walk(good, proto: .tcp, payload: 3000)))
    }

    @Test func unknownGSOTypesAreRefused() throws {
        #expect(Self.refused(try Self.walk(VirtioNetHeader(gsoType: 2, gsoSize: 100))))
        #expect(Self.refused(try Self.walk(VirtioNetHeader(gsoType: 5, gsoSize: 100), host: .linux44)))
    }

    @Test(arguments: [KernelProfile.linux6, .linux44])
    func aZeroGSOSizeIsRefused(host: KernelProfile) throws {
        let h = VirtioNetHeader(flags: VirtioNetHeader.needsCsum, gsoType: 1, hdrLen: 54, gsoSize: 0, csumStart: 34, csumOffset: 16)
        #expect(Self.refused(try Self.walk(h, proto: .tcp, payload: 3000, host: host)))
        var good = h
        good.gsoSize = 1448
        #expect(!Self.refused(try Self.walk(good, proto: .tcp, payload: 3000, host: host)))
    }

    /// `tun_get_user()` checks `hdr_len` against the frame before any conversion (both profiles).
    @Test(arguments: [KernelProfile.linux6, .linux44])
    func hdrLenMustFitTheFrameAndHoldAnEthernetHeader(host: KernelProfile) throws {
        // The frame is 106 bytes (14 + 20 + 8 + 64).
        #expect(Self.refused(try Self.walk(VirtioNetHeader(hdrLen: 107), host: host)))
        #expect(!Self.refused(try Self.walk(VirtioNetHeader(hdrLen: 106), host: host)))
        #expect(Self.refused(try Self.walk(VirtioNetHeader(hdrLen: 13), host: host)))
        #expect(!Self.refused(try Self.walk(VirtioNetHeader(hdrLen: 14), host: host)))
    }

    /// 6.x refuses a checksum start inside the first 20 bytes (`nh_min_len`); 4.4 does not look.
    @Test func csumStartBelowTheSmallestNetworkHeaderIsRefusedOnLinux6() throws {
        let h = VirtioNetHeader(flags: VirtioNetHeader.needsCsum, csumStart: 19, csumOffset: 20)
        #expect(Self.refused(try Self.walk(h)))
        #expect(!Self.refused(try Self.walk(h, host: .linux44)))
        var atTwenty = h
        atTwenty.csumStart = 20
        atTwenty.csumOffset = 19
        #expect(!Self.refused(try Self.walk(atTwenty)), "20 is allowed by the kernel")
    }

    /// 6.x pulls the whole TCP header after csum_start for a TCP GSO header.
    @Test func tcpGSOPullsATCPHeaderAfterCsumStartOnLinux6() throws {
        // 14 + 20 + 20 + 30 = 84 bytes; csum_start 70 + 20 > 84, yet 70 + 16 + 2 <= 84.
        let h = VirtioNetHeader(flags: VirtioNetHeader.needsCsum, gsoType: 1, hdrLen: 0, gsoSize: 10, csumStart: 66, csumOffset: 16)
        #expect(Self.refused(try Self.walk(h, proto: .tcp, payload: 30)))
        #expect(!Self.refused(try Self.walk(h, proto: .tcp, payload: 30, host: .linux44)))
    }

    @Test func gsoByFragsIsRefusedOnLinux6() throws {
        let h = VirtioNetHeader(flags: VirtioNetHeader.needsCsum, gsoType: 1, hdrLen: 54, gsoSize: 0xFFFF, csumStart: 34, csumOffset: 16)
        #expect(Self.refused(try Self.walk(h, proto: .tcp, payload: 3000)))
    }
}

/// Any header a file can write is either walked or reported: never a crash.
@Suite struct FrameHeaderRobustnessTests {
    @Test func randomHeadersAreWalkedOrReported() throws {
        var rng = SplitMix(state: 0x15_f4a3e)
        let sizes: [UInt16] = [0, 1, 100, 1448, 65535]
        var walked = 0, reported = 0, refused = 0
        for _ in 0..<400 {
            let v6 = Bool.random(using: &rng)
            let (t, f) = try FrameFlowTests.bridged { f in
                f.ipVersion = v6 ? .v6 : .v4
                f.frame.proto = Bool.random(using: &rng) ? .tcp : .udp
                f.frame.checksum = Bool.random(using: &rng) ? .pseudo : .full
                f.payload = [0, 10, 3000].randomElement(using: &rng)!
                // Half the headers plausible (the transport header's start, its checksum field),
                // half anything: the kernel refuses most of the latter.
                let plausible = Bool.random(using: &rng)
                let transport: UInt16 = v6 ? 54 : 34
                f.frame.vnet = VirtioNetHeader(flags: UInt8.random(in: 0...3, using: &rng),
                                               gsoType: UInt8.random(in: 0...6, using: &rng) | (Bool.random(using: &rng) ? 0x80 : 0),
                                               hdrLen: plausible ? [0, transport + 20].randomElement(using: &rng)! : UInt16.random(in: 0...80, using: &rng),
                                               gsoSize: sizes.randomElement(using: &rng)!,
                                               csumStart: plausible ? transport : UInt16.random(in: 0...80, using: &rng),
                                               csumOffset: plausible ? [6, 16].randomElement(using: &rng)! : UInt16.random(in: 0...20, using: &rng))
            }
            let problem = Simulator(t).frameProblem(f)
            do {
                let tr = try run(t)
                #expect(problem == nil, "walked although reported: \(problem ?? "")")
                #expect(tr.flows[0].legs.count == 1)
                walked += 1
                if TapHeaderRefusalTests.refused(tr.flows[0].legs[0]) { refused += 1 }
            } catch {
                #expect(problem != nil, "thrown but not reported: \(error)")
                reported += 1
            }
        }
        // Each kind of answer must be well represented, or the test checks little.
        #expect(walked - refused > 50 && refused > 50 && reported > 20, "walked \(walked) (refused \(refused)), reported \(reported)")
    }
}

/// Edits keep a frame flow's TAP in step: renaming the TAP renames it in the flow, deleting it
/// takes the flow along (as deleting a flow's host does).
@Suite struct FrameFlowEditTests {
    @Test func renamingTheTapFollowsAndDeletingItTakesTheFlow() throws {
        let (t, _) = try FrameFlowTests.bridged { _ in }
        var r = t
        try LabEdit.renameNode(from: "tap1", to: "vnet7").apply(to: &r)
        #expect(r.flows[0].frame.tap == "vnet7")
        #expect(Simulator(r).frameProblem(r.flows[0]) == nil)
        #expect(t.removals(of: .deleteNode("tap1")).flows == ["f"])
        #expect(t.removals(of: .deleteNode("tap2")).flows.isEmpty)
        var d = t
        try LabEdit.deleteNode("tap1").apply(to: &d)
        #expect(d.flows.isEmpty)
    }
}
