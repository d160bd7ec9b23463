#if canImport(Glibc)
import Glibc
#endif
import Testing
import TerminalText
import Simulation
import TopologyFile
import Wire
@testable import KernelLab

enum Shipped {
    static let root: String = {
        var parts = #filePath.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        parts.removeLast(3)  // Tests/KernelLabTests/VerifyTests.swift
        return parts.joined(separator: "/")
    }()

    static func topology(_ name: String) throws -> Topology {
        try TopologyFile.load(path: root + "/topologies/" + name + ".yaml").topology
    }

    /// The topology as verify simulates it (host side linux-6.x), its trace and its plan.
    static func prepared(_ name: String, flow: String? = nil) throws -> (Topology, Trace, LabPlan) {
        let (t, _) = VerifyRunner.onThisKernel(try topology(name))
        return (t, try VerifyRunner.simulate(t, flow: flow), LabPlan(t))
    }
}

/// The comparison logic of `csumlab verify`, without a kernel.
@Suite struct LegComparisonTests {
    static func syn(needsCsum: Bool) -> Observation {
        var pb = PacketBuilder(sourceMAC: [0x52, 0x54, 0, 0, 0, 1], destinationMAC: [0x52, 0x54, 0, 0, 0, 2],
                               source: IPAddress("10.0.0.1")!, destination: IPAddress("10.0.0.2")!)
        pb.ipID = 0x1234
        let f = pb.tcp(sourcePort: 40000, destinationPort: 22, seq: 1, ack: 0, flags: [.syn], options: [2, 4, 5, 0xb4],
                       checksum: needsCsum ? .partial : .complete)
        let h = needsCsum ? VirtioNetHeader(flags: VirtioNetHeader.needsCsum, csumStart: 34, csumOffset: 16) : VirtioNetHeader()
        return Observation(vnet: h, frame: f.bytes)
    }

    @Test func identicalObservationsMatchEveryObservable() {
        let rows = LegComparison.compare(kernel: [Self.syn(needsCsum: true)], simulation: [Self.syn(needsCsum: true)])
        #expect(rows.allSatisfy { $0.matches })
        #expect(rows.map(\.observable) == ["frames", "virtio flags", "csum_start/offset", "gso type/size/hdr_len", "L4 field",
                                           "L4 bytes valid", "TTL / hop limit", "addresses", "bytes from offset 12"])
        #expect(rows.first { $0.observable == "L4 field" }?.kernel.contains("pseudo-header sum") == true)
    }

    @Test func aCompletedChecksumDiffersInFlagsFieldAndValidity() {
        let rows = LegComparison.compare(kernel: [Self.syn(needsCsum: false)], simulation: [Self.syn(needsCsum: true)])
        let bad = Set(rows.filter { !$0.matches }.map(\.observable))
        #expect(bad == ["virtio flags", "csum_start/offset", "L4 field", "L4 bytes valid", "bytes from offset 12"])
        #expect(rows.first { $0.observable == "virtio flags" }.map { ($0.kernel, $0.simulation) }! == ("0", "NEEDS_CSUM"))
        #expect(rows.first { $0.observable == "L4 bytes valid" }.map { ($0.kernel, $0.simulation) }! == ("yes", "no"))
    }

    @Test func missingFramesAreOneMismatchAndNothingElse() {
        let rows = LegComparison.compare(kernel: [], simulation: [Self.syn(needsCsum: true)])
        #expect(rows == [ComparisonRow(frame: 0, observable: "frames", kernel: "0", simulation: "1")])
        #expect(!rows[0].matches)
    }

    @Test func extraSegmentsAreCountedAndThePairsCompared() {
        let a = Self.syn(needsCsum: true)
        let rows = LegComparison.compare(kernel: [a, a], simulation: [a])
        #expect(rows.filter { !$0.matches }.map(\.observable) == ["frames"])
        #expect(rows.filter { $0.frame == 1 }.count == 8)
    }

    @Test func aTapWithoutVnetHeaderIsComparedAsSuch() {
        var k = Self.syn(needsCsum: true)
        k.vnet = nil
        let rows = LegComparison.compare(kernel: [k], simulation: [Self.syn(needsCsum: true)])
        #expect(rows.first { $0.observable == "virtio flags" }?.kernel == "no header")
        #expect(rows.first { $0.observable == "virtio flags" }?.matches == false)
    }

    @Test func gsoHeadersShowTypeSizeAndHeaderLength() {
        let h = VirtioNetHeader(flags: 1, gsoType: 1, hdrLen: 54, gsoSize: 1448, csumStart: 34, csumOffset: 16)
        #expect(LegComparison.gso(h) == "TCPV4/1448/54")
        #expect(LegComparison.gso(VirtioNetHeader(gsoType: 0x84, gsoSize: 1428)) == "TCPV6|ECN/1428/0")
        #expect(LegComparison.gso(VirtioNetHeader()) == "none")
        #expect(LegComparison.flags(VirtioNetHeader(flags: 3)) == "NEEDS_CSUM|DATA_VALID")
    }

    @Test func auxdataStatusMapsLikePacketRcv() {
        #expect(ChecksumStatus(tpStatus: 1 | (1 << 3)) == .notReady)
        #expect(ChecksumStatus(tpStatus: 1 | (1 << 7)) == .valid)
        #expect(ChecksumStatus(tpStatus: 1) == ChecksumStatus.none)
        #expect(ChecksumStatus(SkbState(ipSummed: .partial, csumStart: 34, csumOffset: 16)) == .notReady)
        #expect(ChecksumStatus(SkbState(ipSummed: .unnecessary)) == .valid)
        #expect(ChecksumStatus(SkbState(ipSummed: .complete)) == ChecksumStatus.none)
        // csum_valid left by conntrack's check survives skb_forward_csum: skb_csum_unnecessary().
        var checked = SkbState(ipSummed: .none)
        checked.csumValid = true
        #expect(ChecksumStatus(checked) == .valid)
        #expect(ChecksumStatus(checked, outgoing: true) == ChecksumStatus.none)
        let rows = LegComparison.compare(kernel: [Observation(status: .valid, frame: Self.syn(needsCsum: false).frame)],
                                         simulation: [Observation(status: ChecksumStatus.none, frame: Self.syn(needsCsum: false).frame)])
        #expect(rows.filter { !$0.matches }.map(\.observable) == ["tp_status checksum"])
    }

    @Test func flowIdentityIsProtocolAndPorts() {
        let f = Self.syn(needsCsum: true).frame
        let id = FlowIdentity(f)
        #expect(id?.proto == .tcp)
        #expect(id?.matches(f) == true)
        var other = f
        other[36] ^= 0xFF  // destination port
        #expect(id?.matches(other) == false)
        #expect(FlowIdentity([0, 1, 2]) == nil)
    }

    @Test func ethtoolFeaturesFoldIntoTheModelsFeatures() {
        func f(_ n: String, _ on: Bool) -> EthtoolFeature { EthtoolFeature(name: n, available: true, requested: on, active: on) }
        let tapNoTSO4 = [f("tx-checksum-ip-generic", true), f("tx-tcp-segmentation", false), f("tx-tcp6-segmentation", true),
                         f("tx-scatter-gather", true), f("rx-checksum", false), f("rx-gro", true), f("tx-generic-segmentation", true)]
        #expect(FeatureNames.state(tapNoTSO4) == [.txChecksumming, .tso, .scatterGather, .gro, .gso])
        #expect(FeatureNames.state([f("tx-checksum-ipv4", true)]) == [.txChecksumming])
        #expect(FeatureNames.state([]) == [])
        #expect(FeatureNames.ethtool(.tso).count == 4 && FeatureNames.ethtool(.txChecksumming) == ["tx-checksum-ip-generic"])
    }

    @Test func disagreementsAreListedOncePerKind() {
        var a = FileResult(file: "topologies/a.yaml", topology: "a")
        a.legs = [LegResult(flow: "f", leg: "SYN", from: "x", to: "y", rows: [
            ComparisonRow(point: "vethB rx", frame: 1, observable: "tp_status checksum", kernel: "CSUM_VALID", simulation: "0"),
            ComparisonRow(frame: 1, observable: "TTL / hop limit", kernel: "63", simulation: "63"),
        ])]
        var b = a
        b.file = "topologies/b.yaml"
        let text = VerifyReport.disagreements([a, b])
        #expect(text.split(separator: "\n").count == 1)
        #expect(text.contains("AF_PACKET rx capture tp_status checksum: kernel CSUM_VALID, simulation 0 — 2×"))
        #expect(VerifyReport.disagreements([FileResult(file: "c", topology: "c")]) == "no disagreements\n")
    }

    /// Paths, names, notes and errors may hold control characters (a file not validated, an error
    /// quoting one): the report shows them escaped, on the lines it means to print.
    @Test func theReportEscapesControlCharactersFromTheFile() {
        let bad = "a\u{1B}]0;PWNED\u{07}\u{1B}[2J"
        var r = FileResult(file: "x\u{1B}[2J.yaml", topology: bad)
        r.notes = ["\(bad) note"]
        r.error = "error quoting \(bad)\r\n"
        r.notCheckable = [NotCheckable(what: bad, reason: "\u{9B}31m")]
        r.features = [FeatureReading(device: bad, kernel: [.gro], simulation: [])]
        r.legs = [LegResult(flow: bad, leg: "SYN \(bad)", from: bad, to: "b", injectedAt: bad, observedAt: bad, rows: [
            ComparisonRow(point: "\(bad) rx", frame: 1, observable: "TTL / hop limit", kernel: "63", simulation: "64"),
        ]), LegResult(flow: bad, leg: "ACK", from: bad, to: "b", notCheckable: "passes \(bad)")]
        let text = VerifyReport.render(r, full: true) + VerifyReport.summary([r, r]) + VerifyReport.disagreements([r])
        let controls = text.unicodeScalars.filter { $0 != "\n" && ($0.value < 0x20 || (0x7F...0x9F).contains($0.value)) }
        #expect(controls.isEmpty, "raw controls: \(controls.map(\.value))")
        #expect(text.contains("== x\\e[2J.yaml (a\\e]0;PWNED\\a\\e[2J)\n"))
        #expect(text.contains("   ERROR: error quoting a\\e]0;PWNED\\a\\e[2J\\r\\n\n"))
    }

    /// Columns line up in terminal columns: a CJK file name takes two per character.
    @Test func tablesAlignWideNames() {
        let a = FileResult(file: "路由器.yaml", topology: "x")
        let b = FileResult(file: "ab.yaml", topology: "y")
        let lines = VerifyReport.summary([a, b]).split(separator: "\n").map(String.init)
        // The display column where the right-aligned second field ("compared") ends.
        let ends = lines.filter { !$0.isEmpty }.map { line -> Int in
            var col = 0
            var phase = 0  // 0: first field, 1: gap, 2: second field
            for ch in line {
                if phase == 0, ch == " " { phase = 1 }
                if phase == 1, ch != " " { phase = 2 }
                if phase == 2, ch == " " { return col }
                col += DisplayWidth.of(ch)
            }
            return col
        }
        #expect(Set(ends).count == 1, "\(lines)")
    }

    @Test func aFileWithNothingComparedFails() {
        var r = FileResult(file: "x.yaml", topology: "x")
        #expect(!r.passed)
        r.legs = [LegResult(flow: "f", leg: "SYN", from: "a", to: "b", rows: [ComparisonRow(frame: 0, observable: "frames", kernel: "1", simulation: "1")])]
        #expect(r.passed)
        r.legs[0].rows.append(ComparisonRow(frame: 1, observable: "TTL / hop limit", kernel: "63", simulation: "64"))
        #expect(!r.passed && r.mismatched == 1 && r.compared == 2)
        #expect(VerifyReport.counts(r).contains("mismatched 1"))
        r.error = "boom"
        #expect(!r.passed)
    }
}

/// How topologies map onto a real lab (pure; no kernel).
@Suite struct LabPlanTests {
    @Test(arguments: ["seed-bridged", "seed-routed-netns", "seed-routed-userspace", "seed-routed-vm-router", "mininet-userspace-switch",
                      "fix-forwarder-taps-no-tun-csum", "dhcp-raw-client", "veth-pre44-corruption", "nat-masquerade", "tso-to-tap-without-tso"])
    func theLabUsesTheSimulatorsMACs(name: String) throws {
        let (_, trace, plan) = try Shipped.prepared(name)
        #expect(VerifyRunner.macDrift(trace, plan) == nil)
        #expect(plan.unsupported.isEmpty, "\(plan.unsupported)")
    }

    @Test func routedNetnsPlacesEachVethEndWhereItBelongs() throws {
        let (_, _, plan) = try Shipped.prepared("seed-routed-netns")
        let router = plan.ns("router")
        #expect(plan.namespaces.map(\.role) == ["hub", router])
        #expect(plan.real("vethA")?.role == "hub")
        #expect(plan.real("vethA-r")?.role == router)
        #expect(plan.real("br1")?.role == "hub" && plan.real("tap1")?.role == "hub")
        #expect(plan.sysctls.contains(LabPlan.Sysctl(role: router, key: "net.ipv4.ip_forward", value: "1")))
        #expect(plan.addresses.contains(LabPlan.Command(role: router, argv: ["addr", "add", "10.0.1.1/24", "dev", plan.dev("vethA-r")])))
        // The router reaches VM2 at VM2's virtio MAC, as the simulated frames say.
        let vm2 = try #require(plan.graph.device(named: "vm2:eth0"))
        #expect(plan.neighbours.contains(LabPlan.Command(role: router, argv: ["neigh", "replace", "10.0.2.2", "lladdr",
                                                                               MAC.format(plan.graph.devices[vm2].mac), "dev", plan.dev("vethB-r"), "nud", "permanent"])))
        #expect(plan.routers.isEmpty)
    }

    @Test func natAndConntrackBecomeNftRules() throws {
        let (_, _, nat) = try Shipped.prepared("nat-masquerade")
        #expect(nat.netfilter.contains { $0.argv.joined(separator: " ").contains("oifname \(nat.dev("vethB-r")) masquerade") })
        let (_, _, ct) = try Shipped.prepared("conntrack-invalid")
        #expect(ct.netfilter.contains { $0.argv.joined(separator: " ").contains("ct state invalid counter drop") })
        #expect(ct.conntrackSysctls.contains(LabPlan.Sysctl(role: ct.ns("router"), key: "net.netfilter.nf_conntrack_checksum", value: "1")))
        let (_, _, fill) = try Shipped.prepared("dhcp-checksum-fill")
        #expect(fill.netfilter.filter { $0.argv != ["nft", LabPlan.quietStack] } == [LabPlan.Command(role: fill.ns("host"), argv: ["iptables", "-t", "mangle", "-A", "POSTROUTING", "-p", "udp", "-j", "CHECKSUM", "--checksum-fill"])])
        // -p tcp -o IF: the router's eth1 is the vethB-r end moved into its namespace.
        let (_, _, scoped) = try Shipped.prepared("checksum-fill-scoped")
        #expect(scoped.netfilter.filter { $0.argv.first?.hasPrefix("ip") == true } == ["iptables", "ip6tables"].map {
            LabPlan.Command(role: scoped.ns("router"), argv: [$0, "-t", "mangle", "-A", "POSTROUTING", "-p", "tcp", "-o", scoped.dev("vethB-r"), "-j", "CHECKSUM", "--checksum-fill"])
        })
        // The host's bridge is its interface: the bridge and its TAP live in the host's namespace.
        #expect(fill.real("virbr0")?.role == fill.ns("host") && fill.real("vnet0")?.role == fill.ns("host"))
    }

    @Test func userspaceRoutersGetPortsRoutesAndHeaderModes() throws {
        let (_, _, plain) = try Shipped.prepared("seed-routed-userspace")
        let r = try #require(plain.routers.first)
        #expect(r.role == plain.ns("router") && r.mode == .l3 && r.header == .drop)
        #expect(r.ports.map(\.name) == [plain.dev("vethA-r"), plain.dev("vethB-r")] && r.ports.allSatisfy { $0.kind == "packet" && !$0.vnetHeader })
        #expect(r.routes.contains { $0.destination == IPAddress("10.0.2.2")! && $0.port == plain.dev("vethB-r") })
        let (_, _, aware) = try Shipped.prepared("seed-routed-userspace-vnet-hdr")
        #expect(aware.routers.first?.header == .keep && aware.routers.first?.ports.allSatisfy { $0.vnetHeader } == true)
        let (_, _, vm) = try Shipped.prepared("seed-routed-vm-router")
        #expect(vm.routers.first?.header == .guest && vm.routers.first?.role == "hub")
        let (_, _, sw) = try Shipped.prepared("mininet-userspace-switch")
        #expect(sw.routers.first?.mode == .l2 && sw.routers.first?.routes.isEmpty == true)
    }

    @Test func aTapReadByAUserspaceRouterKeepsItsSimulatedMACOffTheDevice() throws {
        let (_, _, plan) = try Shipped.prepared("fix-forwarder-taps-no-tun-csum")
        let d = try #require(plan.graph.device(named: "rtap1"))
        let sim = MAC.format(plan.graph.devices[d].mac)
        #expect(plan.real("rtap1")?.mac != sim)
        #expect(plan.routers.first?.ports.first { $0.name == plan.dev("rtap1") }?.mac == sim)
        #expect(plan.graph.tunOffloads(d) == [])
    }

    /// A TAP that is a kernel router's interface, a bridge that is its other interface, two
    /// containers on that bridge through veth pairs.
    static let mixed = """
csumlab: 1
name: synthetic
description: VM on a TAP that is a netns router's interface; router's other interface is a bridge with two containers on veths.
kernel: linux-6.x
nodes:
  vm1:
    kind: vm
    interfaces:
      eth0: {address: 10.1.0.2/24, gateway: 10.1.0.1}
  tap1: {kind: tap}
  router:
    kind: router
    flavour: netns
    interfaces:
      eth0: {address: 10.1.0.1/24}
      lan: {address: 10.2.0.1/24}
  br0: {kind: bridge}
  va: {kind: veth, ends: {va-br: {}, va-c: {}}}
  vb: {kind: veth, ends: {vb-br: {}, vb-c: {tx: off}}}
  c1:
    kind: netns
    interfaces:
      eth0: {address: 10.2.0.11/24, gateway: 10.2.0.1}
  c2:
    kind: netns
    interfaces:
      eth0: {address: 10.2.0.12/24, gateway: 10.2.0.1}
links:
  - endpoints: ["vm1:eth0", "tap1"]
  - endpoints: ["tap1", "router:eth0"]
  - endpoints: ["router:lan", "br0"]
  - endpoints: ["br0", "va:va-br"]
  - endpoints: ["va:va-c", "c1:eth0"]
  - endpoints: ["br0", "vb:vb-br"]
  - endpoints: ["vb:vb-c", "c2:eth0"]
flows:
  ssh1:
    type: tcp
    from: vm1
    to: c1
    payload: 200
  dns2:
    type: udp
    from: c2
    to: vm1
    payload: 100
  c1c2:
    type: tcp
    from: c1
    to: c2
    payload: 3000
  ping:
    type: icmp
    from: c2
    to: vm1
"""

    @Test func devicesFollowTheHostWhoseInterfaceTheyAre() throws {
        let (t, _) = VerifyRunner.onThisKernel(try TopologyFile.parse(Self.mixed, file: "mixed.yaml").topology)
        let plan = LabPlan(t)
        #expect(plan.unsupported.isEmpty)
        #expect(plan.real("tap1")?.role == plan.ns("router"), "a TAP is created where its kernel side lives")
        #expect(plan.real("br0")?.role == plan.ns("router") && plan.real("va-br")?.role == plan.ns("router"), "a bridge and its ports share the router's namespace")
        #expect(plan.real("va-c")?.role == plan.ns("c1") && plan.real("vb-c")?.role == plan.ns("c2"))
        #expect(Set(plan.namespaces.map(\.role)) == ["hub", plan.ns("c1"), plan.ns("c2"), plan.ns("router")] && plan.namespaces.count == 4)
        #expect(plan.routes.contains(LabPlan.Command(role: plan.ns("c1"), argv: ["route", "replace", "default", "via", "10.2.0.1", "dev", plan.dev("va-c")])))
        let trace = try Simulator(t).run()
        #expect(VerifyRunner.macDrift(trace, plan) == nil)
        for f in trace.flows {
            for leg in f.legs {
                if case let .failure(e) = LegCheck.make(leg, plan: plan) { Issue.record("\(f.flow)/\(leg.name): \(e.reason)") }
            }
        }
    }

    @Test func tapOffloadsFollowTheGuestAsQEMUDoes() throws {
        let (_, _, plan) = try Shipped.prepared("tso-to-tap-without-tso")
        #expect(plan.graph.tunOffloads(try #require(plan.graph.device(named: "tap1"))) == [.csum, .tso4, .tso6])
        #expect(plan.graph.tunOffloads(try #require(plan.graph.device(named: "tap2"))) == [.csum])
    }
}

/// What each leg writes and where it reads (pure; no kernel).
@Suite struct LegCheckTests {
    @Test func aVMSenderWritesItsVirtioHeaderAndFrameIntoItsTap() throws {
        let (_, trace, plan) = try Shipped.prepared("seed-bridged", flow: "ssh")
        let syn = trace.flows[0].legs[0]
        let c = try LegCheck.make(syn, plan: plan).get()
        #expect(c.injection == .tap(role: "hub", name: plan.dev("tap1")))
        #expect(c.points == [.tap(role: "hub", name: plan.dev("tap2"), vnetHeader: true)])
        #expect(c.injectionLabel == "tap1 (TAP fd)" && c.points.map { $0.label(in: plan) } == ["tap2 (TAP fd, vnet header)"], "the report shows the file's names")
        let emitted = try #require(syn.steps.first { $0.event.kind == .virtioXmit })
        guard case let .vnet(h) = emitted.after else { Issue.record("no vnet header"); return }
        #expect(c.writes == [h.bytes + emitted.frame])
        #expect(c.expected.count == 1 && c.expected[0].vnet?.needsChecksum == true)
        #expect(c.identity == FlowIdentity(emitted.frame))
    }

    /// A frame addressed to a kernel router is read on the router's own interfaces, as for a
    /// netns host; a userspace forwarder's stack is not built, so it stays not checkable.
    @Test func aKernelRouterReceivingInItsNamespaceIsCheckable() throws {
        var t = try Shipped.topology("seed-routed-netns")
        var f = Flow(name: "probe", kind: .frame, from: "vm1", to: "router")
        f.frame.tap = "tap1"
        t.flows = [f]
        for (flavour, checkable) in [(RouterSettings.Flavour.netns, true), (.userspace, false)] {
            guard let ri = t.nodes.firstIndex(where: { $0.name == "router" }), case var .router(r) = t.nodes[ri].kind else {
                Issue.record("no router"); return
            }
            r.flavour = flavour
            t.nodes[ri].kind = .router(r)
            let (v, _) = VerifyRunner.onThisKernel(t)
            let leg = try Simulator(v).run(flow: "probe").flows[0].legs[0]
            let plan = LabPlan(v)
            let c = LegCheck.make(leg, plan: plan)
            if checkable {
                let check = try c.get()
                let role = try #require(plan.hostRole(named: "router"))
                #expect(!check.points.isEmpty && check.points.allSatisfy { if case let .packet(r, _) = $0 { r == role } else { false } }, "\(check.points)")
                #expect(check.expected.count == 1)
            } else {
                #expect(throws: NotCheckableLeg.self) { try c.get() }
            }
        }
    }

    @Test func aBitFlippedAfterAnInteriorNodeIsNotCheckable() throws {
        var t = try Shipped.topology("seed-bridged")
        let i = try #require(t.flows.firstIndex { $0.name == "ssh" })
        for (at, checkable) in [("br0", false), ("vm1", true)] {
            t.flows[i].corruptAfter = Endpoint(at)
            let (v, _) = VerifyRunner.onThisKernel(t)
            let trace = try Simulator(v).run(flow: "ssh")
            let data = try #require(trace.flows[0].legs.first { $0.name.hasPrefix("data vm1") })
            let c = LegCheck.make(data, plan: LabPlan(v))
            if checkable {
                #expect((try? c.get()) != nil)
            } else {
                #expect(throws: NotCheckableLeg.self) { try c.get() }
                if case let .failure(e) = c { #expect(e.reason.hasPrefix("interior corruption is not reproduced")) }
            }
        }
    }

    @Test func aRemoteFrameLargerThanTheWireIsNotCheckable() throws {
        var t = try Shipped.topology("veth-pre44-corruption")
        let i = try #require(t.flows.firstIndex { $0.name == "http" })
        t.flows[i].corruptAfter = nil
        for (payload, checkable) in [(500, true), (3000, false)] {
            t.flows[i].payload = payload
            let (v, _) = VerifyRunner.onThisKernel(t)
            let trace = try Simulator(v).run(flow: "http")
            let data = try #require(trace.flows[0].legs.first { $0.name.hasPrefix("data nic0") })
            let c = LegCheck.make(data, plan: LabPlan(v))
            if checkable {
                #expect((try? c.get()) != nil)
            } else if case let .failure(e) = c {
                #expect(e.reason.hasPrefix("the remote host's frame is 3066 bytes"))
            } else {
                Issue.record("a 3066-byte frame on a 1500-byte wire was checkable")
            }
        }
    }

    @Test func everyTapAndVethEndOnThePathIsCaptured() throws {
        let (_, trace, plan) = try Shipped.prepared("seed-routed-netns", flow: "ssh")
        let c = try LegCheck.make(trace.flows[0].legs[0], plan: plan).get()
        #expect(c.captures.map(\.label) == ["tap1 rx", "vethA tx", "vethA-r rx", "vethB-r tx", "vethB rx", "tap2 tx"])
        #expect(c.captures.allSatisfy { $0.expected.count == 1 && $0.expected[0].status == .notReady })
        #expect(c.captures.first { $0.label == "vethB-r tx" }.map { FrameFacts($0.expected[0].frame).ttl } == "63")
    }

    @Test func aTapThatSegmentsShowsEachSegmentLeaving() throws {
        let (_, trace, plan) = try Shipped.prepared("tso-to-tap-without-tso", flow: "bulk")
        let data = try #require(trace.flows[0].legs.first { $0.name.hasPrefix("data vm1") })
        let c = try LegCheck.make(data, plan: plan).get()
        #expect(c.captures.first { $0.label == "tap1 rx" }?.expected.count == 1)
        #expect(c.captures.first { $0.label == "tap2 tx" }?.expected.count == 3)
    }

    @Test func aTSOSuperFrameThatTap2MustSegmentExpectsThreeSegments() throws {
        let (_, trace, plan) = try Shipped.prepared("tso-to-tap-without-tso", flow: "bulk")
        let data = try #require(trace.flows[0].legs.first { $0.name.hasPrefix("data vm1") })
        let c = try LegCheck.make(data, plan: plan).get()
        #expect(c.writes.count == 1)
        #expect(c.expected.count == 3)
    }

    @Test func aNetnsReceiverIsReadWithAuxdata() throws {
        let (_, trace, plan) = try Shipped.prepared("dhcp-raw-client", flow: "dhcp")
        let discover = trace.flows[0].legs[0]
        let c = try LegCheck.make(discover, plan: plan).get()
        #expect(c.points == [.packet(role: plan.ns("host"), device: plan.dev("virbr0"))])
        #expect(c.expected.first?.status != nil)
    }

    @Test func aNetnsUDPSenderGoesThroughItsOwnStackAndNetfilter() throws {
        let (_, trace, plan) = try Shipped.prepared("dhcp-checksum-fill", flow: "dhcp")
        let offer = trace.flows[0].legs[1]
        let c = try LegCheck.make(offer, plan: plan).get()
        #expect(c.injection == .udp(role: plan.ns("host"), source: "192.168.122.1", sourcePort: 67, destination: "192.168.122.50", destinationPort: 68))
        #expect(c.kernelBuildsIPHeader)
        #expect(c.expected.first?.vnet?.flags == 0, "checksum-fill completes the OFFER before vnet0")
    }

    @Test func aNetnsTCPSenderWithOutputNetfilterIsNotCheckable() throws {
        var t = try Shipped.topology("mininet-userspace-switch")
        try t.apply(assignment: "h1.checksum-fill=all")
        let (t6, _) = VerifyRunner.onThisKernel(t)
        let trace = try Simulator(t6).run(flow: "telnet")
        guard case let .failure(e) = LegCheck.make(trace.flows[0].legs[0], plan: LabPlan(t6)) else {
            Issue.record("an AF_PACKET injection would bypass h1's CHECKSUM rule")
            return
        }
        #expect(e.reason.contains("netfilter"))
    }

    @Test func aRemoteReceiverIsCheckedAtWhatItsNICIsHanded() throws {
        let (_, trace, plan) = try Shipped.prepared("veth-pre44-corruption")
        let legs = trace.flows[0].legs
        let syn = try LegCheck.make(legs[0], plan: plan).get()
        let wire = try #require(plan.real("nic0").flatMap { plan.wires[$0.graphID] })
        #expect(syn.injection == .packet(role: wire.role, device: "wire0", vnet: false) && syn.injectionLabel == "the wire beyond nic0 (AF_PACKET)")
        #expect(syn.points == [.packet(role: plan.ns("container"), device: plan.dev("ceth0"))])
        let synack = try LegCheck.make(legs[1], plan: plan).get()
        #expect(synack.points == [.packetTx(role: plan.ns("host"), device: plan.dev("nic0"))])
        #expect(synack.points.map { $0.label(in: plan) }.allSatisfy { $0.hasPrefix("nic0 tx ") })
        #expect(synack.expected.count == 1 && synack.expected[0].status == .notReady, "the host hands the NIC a PARTIAL skb to finish")
    }

    @Test func otherProfilesAreNotCheckableNeverAPass() throws {
        let (t, nc) = VerifyRunner.onThisKernel(try Shipped.topology("veth-pre44-corruption"))
        #expect(t.hostKernel == .linux6)
        #expect(nc.contains { $0.what.contains("linux-3.x") })
        let (_, guests) = VerifyRunner.onThisKernel(try Shipped.topology("seed-bridged"))
        #expect(guests.map(\.what) == ["vm1's guest kernel (linux-4.4)", "vm2's guest kernel (linux-4.4)"])
    }
}

@Suite struct HdrLenTests {
    @Test func aPacketSndInjectionLeavesHdrLenOut() {
        let frame = FrameReportTests.syn(.partial).bytes
        let k = Observation(vnet: VirtioNetHeader(gsoType: 1, hdrLen: 4066, gsoSize: 1448), frame: frame)
        let s = Observation(vnet: VirtioNetHeader(gsoType: 1, hdrLen: 66, gsoSize: 1448), frame: frame)
        #expect(LegComparison.compare(kernel: [k], simulation: [s]).contains { !$0.matches })
        let rows = LegComparison.compare(kernel: [k], simulation: [s], hdrLen: false)
        #expect(rows.allSatisfy { $0.matches })
        #expect(rows.contains { $0.observable.contains("not hdr_len") && $0.kernel == "TCPV4/1448" })
        var c = LegCheck(injection: .packet(role: "h", device: "eth0", vnet: true), injectionLabel: "", writes: [], points: [], expected: [], identity: nil)
        #expect(!c.hdrLenComparable)
        c.injection = .tap(role: "h", name: "tap1")
        #expect(c.hdrLenComparable)
    }
}

@Suite struct QuietStackTests {
    @Test func aNetnsHostsStackDoesNotAnswerInjectedSegments() throws {
        let (_, _, plan) = try Shipped.prepared("veth-pre44-corruption")
        let quiet = plan.netfilter.filter { $0.argv == ["nft", LabPlan.quietStack] }
        #expect(quiet.map(\.role) == [plan.ns("container")])
        #expect(LabPlan.quietStack.contains("hook output"))
        #expect(LabPlan.quietStack.contains("tcp flags & rst == rst"))
    }
}

@Suite struct LabCommandTests {
    @Test func deviceNamesFollowTheirKeyword() {
        // `a` and `b` abbreviate `address`/`broadcast` when iproute2 reads them bare.
        let veth = LabBuilder.vethArgs("a", macA: "02:00:00:00:00:01", "b", macB: "02:00:00:00:00:02", peerNamespace: "ns2")
        #expect(veth == ["link", "add", "name", "a", "address", "02:00:00:00:00:01", "type", "veth",
                         "peer", "name", "b", "address", "02:00:00:00:00:02", "netns", "ns2"])
        let br = LabBuilder.bridgeArgs("a", mac: "02:00:00:00:00:03")
        #expect(Array(br.prefix(4)) == ["link", "add", "name", "a"])
    }

    @Test func emptyBytesSurviveTheAgentProtocol() {
        #expect(agentHex([]) == "-")
        #expect(bytesFromAgentHex("-") == [])
        #expect(bytesFromAgentHex(agentHex([0, 0xab])) == [0, 0xab])
        // A command with an empty payload keeps all its words.
        let line = ["udp-send", "10.0.0.1", "1", "10.0.0.2", "2", agentHex([])].joined(separator: " ")
        #expect(line.split(separator: " ").count == 6)
    }
}

@Suite struct BridgePortReadinessTests {
    @Test func onlyAForwardingPortWithCarrierIsReady() {
        #expect(VerifyLab.portForwarding(brportState: "3", operstate: "up"))
        #expect(VerifyLab.portForwarding(brportState: "3", operstate: "unknown"))
        #expect(!VerifyLab.portForwarding(brportState: "0", operstate: "lowerlayerdown"))  // DISABLED
        #expect(!VerifyLab.portForwarding(brportState: "3", operstate: "down"))
        #expect(!VerifyLab.portForwarding(brportState: "-1", operstate: "up"))
    }
}

@Suite struct GuestStandInTests {
    static let v4 = PacketBuilder(sourceMAC: [2, 0, 0, 0, 0, 1], destinationMAC: [2, 0, 0, 0, 0, 2],
                                  source: IPAddress("10.0.0.1")!, destination: IPAddress("10.0.0.2")!)

    @Test func aGuestWithoutOffloadsCompletesAPendingChecksum() throws {
        let partial = Self.v4.tcp(sourcePort: 40000, destinationPort: 22, seq: 1, ack: 0, flags: [.syn], checksum: .partial)
        let l = try partial.layout()
        #expect(!partial.l4ChecksumIsValid(l))
        let h = VirtioNetHeader(flags: VirtioNetHeader.needsCsum, csumStart: UInt16(l.l4Offset), csumOffset: 16)
        let out = UserspaceRouter.guestCompletes(partial.bytes, received: h)
        #expect(out.count == 1)
        let f = Frame(bytes: out[0])
        #expect(f.l4ChecksumIsValid(try f.layout()))
        // Nothing pending: the bytes are left as they are.
        #expect(UserspaceRouter.guestCompletes(partial.bytes, received: VirtioNetHeader()) == [partial.bytes])
    }

    @Test func aGuestWithoutTSOSegmentsASuperFrame() throws {
        let big = Self.v4.tcp(sourcePort: 40000, destinationPort: 22, seq: 1, ack: 1, flags: [.ack],
                              payload: [UInt8](repeating: 7, count: 3000), checksum: .partial)
        let l = try big.layout()
        let h = VirtioNetHeader(flags: VirtioNetHeader.needsCsum, gsoType: 1, hdrLen: UInt16(l.payloadOffset), gsoSize: 1448,
                                csumStart: UInt16(l.l4Offset), csumOffset: 16)
        let out = UserspaceRouter.guestCompletes(big.bytes, received: h)
        #expect(out.count == 3)
        for b in out {
            let f = Frame(bytes: b)
            let fl = try f.layout()
            #expect(f.l4ChecksumIsValid(fl))
            #expect(fl.end - fl.payloadOffset <= 1448)
        }
    }
}

extension LabPlan {
    /// The namespace of the file's node `node` (the plan generates namespace names).
    func ns(_ node: String) -> String { hostRole(named: node) ?? "no namespace for \(node)" }
    /// The real name of the file's device `name` (the plan generates device names).
    func dev(_ name: String) -> String { real(name)?.name ?? "no device \(name)" }
}
