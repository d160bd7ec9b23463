import Testing
import Simulation
import TopologyFile
import Wire
import TestSupport

/// Builds random but valid labs: a shape, then random offload toggles on every device.
struct LabGenerator {
    var rng: SplitMix

    mutating func bool(_ pTrue: Double = 0.5) -> Bool { Double.random(in: 0..<1, using: &rng) < pTrue }
    mutating func pick<T>(_ xs: [T]) -> T { xs[Int.random(in: 0..<xs.count, using: &rng)] }
    mutating func profile() -> KernelProfile { pick(KernelProfile.allCases) }

    mutating func features(_ keys: [Feature]) -> Features {
        var f = Features()
        for k in keys where bool(0.3) { f.requested[k] = bool(0.5) }
        return f
    }

    func net(_ s: String) -> IPNetwork { IPNetwork(s)! }

    mutating func vm(_ name: String, _ a4: String, _ gw4: String?, _ a6: String, _ gw6: String?) -> Node {
        var i = Interface(name: "eth0", addresses: [net(a4), net(a6)], gateway: gw4.flatMap { IPAddress($0) }, gateway6: gw6.flatMap { IPAddress($0) })
        i.features = features([.txChecksumming, .scatterGather, .tso, .gso, .rxChecksumming])
        return Node(name: name, kind: .vm(VMSettings(guestCsum: bool(0.8), guestTSO: bool(0.6))), kernel: bool(0.7) ? profile() : nil, interfaces: [i])
    }

    mutating func tap(_ name: String) -> Node {
        var t = TapSettings()
        if bool(0.15) { t.vnetHdr = false }
        if bool(0.2) { t.tunCsum = bool(0.5) }
        return Node(name: name, kind: .tap(t), interfaces: [Interface(name: name)], features: features([.txChecksumming, .tso]))
    }

    mutating func bridge(_ name: String) -> Node {
        Node(name: name, kind: .bridge, interfaces: [Interface(name: name)], features: features([.txChecksumming]))
    }

    mutating func veth(_ name: String, _ a: String, _ b: String) -> Node {
        var ia = Interface(name: a), ib = Interface(name: b)
        ia.features = features([.txChecksumming, .rxChecksumming, .tso])
        ib.features = features([.txChecksumming, .rxChecksumming, .tso])
        return Node(name: name, kind: .veth, interfaces: [ia, ib])
    }

    func ep(_ s: String) -> Endpoint { Endpoint(s)! }

    mutating func topology() -> Topology {
        var t = Topology(name: "random", description: "generated", kernel: bool(0.8) ? profile() : nil)
        let shape = Int.random(in: 0..<5, using: &rng)
        if shape == 0 {
            t.nodes = [vm("vm1", "10.0.0.1/24", nil, "fd00::1/64", nil), vm("vm2", "10.0.0.2/24", nil, "fd00::2/64", nil),
                       tap("tap1"), tap("tap2"), bridge("br0")]
            t.links = [Link(ep("vm1:eth0"), ep("tap1")), Link(ep("tap1"), ep("br0")), Link(ep("br0"), ep("tap2")), Link(ep("tap2"), ep("vm2:eth0"))]
        } else if shape == 4 {
            // Namespace hosts on veth pairs around a layer-2 userspace switch.
            var r = RouterSettings()
            r.flavour = .userspace
            r.forwarding = .l2
            r.vnetHdrAware = bool(0.3)
            t.nodes = [Node(name: "h1", kind: .netns(Netfilter()), interfaces: [Interface(name: "eth0", addresses: [net("10.0.0.1/8"), net("fd00::1/64")])]),
                       Node(name: "h2", kind: .netns(Netfilter()), interfaces: [Interface(name: "eth0", addresses: [net("10.0.0.2/8"), net("fd00::2/64")])]),
                       veth("v1", "h1-eth0", "s1-eth1"), veth("v2", "h2-eth0", "s1-eth2"),
                       Node(name: "s1", kind: .router(r), interfaces: [Interface(name: "eth1"), Interface(name: "eth2")])]
            t.links = [Link(ep("h1:eth0"), ep("v1:h1-eth0")), Link(ep("v1:s1-eth1"), ep("s1:eth1")),
                       Link(ep("s1:eth2"), ep("v2:s1-eth2")), Link(ep("v2:h2-eth0"), ep("h2:eth0"))]
            t.flows = [flow(from: "h1", to: "h2")]
            return t
        } else {
            t.nodes = [vm("vm1", "10.0.1.2/24", "10.0.1.1", "fd00:1::2/64", "fd00:1::1"), vm("vm2", "10.0.2.2/24", "10.0.2.1", "fd00:2::2/64", "fd00:2::1"),
                       tap("tap1"), tap("tap2"), bridge("br1"), bridge("br2")]
            var r = RouterSettings()
            r.flavour = shape == 1 ? .netns : (shape == 2 ? .userspace : .vm)
            r.vnetHdrAware = bool(0.3)
            r.vm = VMSettings(guestCsum: bool(0.7), guestTSO: bool(0.5))
            if r.flavour == .netns {
                if bool(0.3) { r.netfilter.masqueradeOn = "eth1" }
                if bool(0.3) { r.netfilter.conntrack = true }
                if bool(0.2) {
                    r.netfilter.checksumFill = pick([.udp, .tcp, .all])
                    if bool(0.5) { r.netfilter.checksumFillOut = pick(["eth0", "eth1"]) }
                }
            }
            let ifs = [Interface(name: "eth0", addresses: [net("10.0.1.1/24"), net("fd00:1::1/64")], features: features([.txChecksumming, .tso])),
                       Interface(name: "eth1", addresses: [net("10.0.2.1/24"), net("fd00:2::1/64")], features: features([.txChecksumming, .tso]))]
            t.nodes.append(Node(name: "router", kind: .router(r), kernel: r.flavour == .vm && bool(0.5) ? profile() : nil, interfaces: ifs))
            t.links = [Link(ep("vm1:eth0"), ep("tap1")), Link(ep("tap1"), ep("br1")), Link(ep("br2"), ep("tap2")), Link(ep("tap2"), ep("vm2:eth0"))]
            if r.flavour == .vm {
                t.nodes += [tap("tapR1"), tap("tapR2")]
                t.links += [Link(ep("br1"), ep("tapR1")), Link(ep("tapR1"), ep("router:eth0")), Link(ep("router:eth1"), ep("tapR2")), Link(ep("tapR2"), ep("br2"))]
            } else {
                t.nodes += [veth("vethA", "vethA", "vethA-r"), veth("vethB", "vethB", "vethB-r")]
                t.links += [Link(ep("br1"), ep("vethA:vethA")), Link(ep("vethA:vethA-r"), ep("router:eth0")),
                            Link(ep("router:eth1"), ep("vethB:vethB-r")), Link(ep("vethB:vethB"), ep("br2"))]
            }
        }
        t.flows = [flow(from: "vm1", to: "vm2")]
        return t
    }

    mutating func flow(from: String, to: String) -> Flow {
        var f = Flow(name: "f", kind: pick([.tcp, .tcp, .udp, .icmp]), from: from, to: to)
        f.ipVersion = bool(0.25) ? .v6 : .v4
        f.payload = pick([0, 1, 100, 1000, 1448, 3000, 5000])
        f.sender = bool(0.15) ? .software : .offloaded
        // A program that writes whole frames (software sender) cannot send UDP beyond the MTU
        // (packet_snd has no fragmentation); the kernel's own UDP and ping fragment.
        if f.kind == .udp && f.sender == .software { f.payload = min(f.payload, 1400) }
        if bool(0.2) {
            f.corruptAfter = Endpoint(node: pick([from, "br1", "br0", "tap1", "router", "s1"]))
            f.corruptByte = Int.random(in: 0..<50, using: &rng)
        }
        return f
    }
}

@Suite struct PropertyTests {
    /// Over random labs and toggles, every receiver's verdict equals an independent
    /// recomputation from the delivered bytes and flags, every frame stays well-formed, and
    /// every step names a kernel function.
    @Test func receiverVerdictMatchesIndependentRecomputation() throws {
        var g = LabGenerator(rng: SplitMix(state: 0xC5A1_AB))
        var checked = 0
        for iteration in 0..<400 {
            let t = g.topology()
            if let problem = Simulator(t).reachabilityProblem(t.flows[0]) {
                Issue.record("generator built an unreachable lab (\(iteration)): \(problem)")
                continue
            }
            let tr = try Simulator(t).run()
            for leg in tr.flows[0].legs {
                for s in leg.steps {
                    #expect(!s.function.isEmpty)
                    let layout = try FrameLayout.parse(s.frame)
                    if layout.ipVersion == .v4 {
                        #expect(UInt16(s.frame[24]) << 8 | UInt16(s.frame[25]) == naiveIPv4HeaderChecksum(s.frame), "IP header checksum at \(s.element) \(s.function)")
                    }
                    let field = UInt16(s.frame[layout.checksumFieldOffset]) << 8 | UInt16(s.frame[layout.checksumFieldOffset + 1])
                    #expect(s.l4Field == field)
                    if layout.l4Protocol != .icmp {
                        #expect(s.l4Correct == naiveL4Checksum(s.frame))
                    }
                    if s.condition == .partialPending {
                        #expect(field == naivePseudoHeaderSum(s.frame))
                    }
                }
                guard let last = leg.steps.last, last.direction == .deliver, last.drop != "no socket" else { continue }
                let l = try FrameLayout.parse(last.frame)
                let trusted = last.before.ipSummed == .partial || last.before.ipSummed == .unnecessary
                let fieldNow = UInt16(last.frame[l.checksumFieldOffset]) << 8 | UInt16(last.frame[l.checksumFieldOffset + 1])
                let bytesOK: Bool
                if l.l4Protocol == .icmp {
                    bytesOK = last.bytesValid
                } else {
                    bytesOK = fieldNow == naiveL4Checksum(last.frame) || (l.l4Protocol == .udp && l.ipVersion == .v4 && fieldNow == 0)
                        || (fieldNow == 0xFFFF && naiveL4Checksum(last.frame) == 0) || (fieldNow == 0 && naiveL4Checksum(last.frame) == 0xFFFF && l.l4Protocol == .tcp)
                }
                let predicted = trusted || bytesOK
                let accepted = leg.outcome == .accepted || leg.outcome == .acceptedCorrupted
                if leg.steps.filter({ $0.direction == .deliver }).count == 1 {
                    #expect(predicted == accepted, "iteration \(iteration) leg \(leg.name): predicted \(predicted), outcome \(leg.outcome)")
                }
                if t.flows[0].corruptAfter == nil {
                    #expect(leg.outcome != .acceptedCorrupted, "no fault injected, yet corrupted data in iteration \(iteration)")
                }
                checked += 1
            }
        }
        #expect(checked > 500)
    }
}

@Suite struct CorruptionTests {
    /// Flip one payload byte right after the sender: a leg whose checksum was already final
    /// (NONE) must be dropped; a leg still PARTIAL must be accepted — with the corrupted data —
    /// wherever the uncorrupted run was accepted. No code knows about this test.
    @Test(arguments: shippedTopologyPaths())
    func flipAfterSender(path: String) throws {
        var t = try TopologyFile.load(path: path).topology
        t.kernel = .linux6
        for i in t.nodes.indices { t.nodes[i].kernel = nil }
        for f in t.flows {
            guard let n = t.node(named: f.from), !(n.kind.name == "host-nic") else { continue }
            var clean = t
            clean.flows = [f]
            clean.flows[0].corruptAfter = nil
            var bad = clean
            bad.flows[0].corruptAfter = Endpoint(node: f.from)
            bad.flows[0].corruptByte = 3
            let base = try Simulator(clean).run()
            let hit = try Simulator(bad).run()
            for (b, h) in zip(base.flows[0].legs, hit.flows[0].legs) where h.steps.contains(where: { $0.event.kind == .faultInjected }) {
                let sent = try #require(b.steps.first?.after.ipSummed)
                if sent == .partial {
                    if b.outcome == .accepted {
                        #expect(h.outcome == .acceptedCorrupted, "\(path) \(f.name) \(b.name): PARTIAL leg must be accepted with corrupted data, got \(h.outcome)")
                    } else {
                        #expect(h.outcome == b.outcome, "\(path) \(f.name) \(b.name)")
                    }
                } else {
                    #expect(h.outcome != .accepted && h.outcome != .acceptedCorrupted, "\(path) \(f.name) \(b.name): a final checksum over flipped bytes must be caught, got \(h.outcome)")
                }
            }
        }
    }
}

/// The narration layer is the only source of a step's prose: every step's function and
/// explanation are its event's.
@Suite struct NarrationTests {
    @Test func everyStepIsNarratedFromItsEvent() throws {
        for path in shippedTopologyPaths() {
            let tr = try run(TopologyFile.load(path: path).topology)
            for f in tr.flows {
                for l in f.legs {
                    for s in l.steps {
                        #expect(s.function == s.event.function && s.explanation == s.event.explanation, "\(path) \(l.name) \(s.element)")
                    }
                }
            }
        }
    }
}
