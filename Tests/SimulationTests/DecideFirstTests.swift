import Testing
@testable import Simulation
import TopologyFile
import TestSupport

/// The fix search walks the leg that decided the lab's run first, and stops there when it
/// decides again (`Simulator.trace`'s `decideFirst`). That rests on one property: in a lab
/// whose legs are independent (`Simulator.legsIndependent`: no conntrack, no address
/// translation), a leg walked alone meets what it meets in its flow's order. Checked here on
/// every shipped lab and on random variants of the settings a fix may change; and the guard is
/// needed: in a lab with NAT a reply walked alone goes elsewhere.
@Suite struct DecideFirstTests {
    /// Each leg of each flow walked alone, against the same leg of the whole run; true when the
    /// lab's legs are independent and every leg matched.
    static func legsAloneMatch(_ t: Topology, _ label: String, expectMatch: Bool) throws -> Bool {
        let sim = Simulator(t)
        let whole = try sim.run()
        var all = true
        for ft in whole.flows {
            for (i, b) in ft.legs.enumerated() {
                guard let a = try sim.legWalkedAlone(flow: ft.flow, index: i, lean: true) else { continue }
                let same = a.name == b.name && a.outcome == b.outcome && a.counters == b.counters
                    && a.visitedNodes == b.visitedNodes && a.faulted == b.faulted
                if expectMatch { #expect(same, "\(label): \(ft.flow) \(b.name) walked alone: \(a.outcome), in order: \(b.outcome)") }
                all = all && same
            }
        }
        return all
    }

    @Test(arguments: shippedTopologyPaths())
    func independentLegsWalkAloneAsInOrder(path: String) throws {
        let t = try TopologyFile.load(path: path).topology
        guard Simulator.legsIndependent(t) else { return }
        _ = try Self.legsAloneMatch(t, path, expectMatch: true)
        // Variants of the settings a fix may change (those that keep the legs independent).
        let s = try FixSearch(t)
        let b = try #require(s.evaluate([]))
        let cands = s.candidates(baseTrace: b.trace)
        var rng = SplitMix(state: 0xDEC1DE &+ UInt64(path.utf8.count))
        for i in 0..<(cands.isEmpty ? 0 : 12) {
            var v = t
            var changes: [String] = []
            for _ in 0...Int(rng.next() % 3) {
                let c = cands[Int(rng.next() % UInt64(cands.count))]
                let value = c.alternatives[Int(rng.next() % UInt64(c.alternatives.count))]
                guard (try? v.set(node: c.node, interface: c.interface, key: c.key, value: value)) != nil else { continue }
                changes.append("\(c.node).\(c.interface.map { "\($0)." } ?? "")\(c.key)=\(value)")
            }
            guard Simulator.legsIndependent(v), TopologyFile.validate(v, file: "lab.yaml").isEmpty else { continue }
            _ = try Self.legsAloneMatch(v, "\(path) variant \(i) \(changes)", expectMatch: true)
        }
    }

    /// Why the guard: in some shipped lab with conntrack or NAT a leg walked alone meets
    /// something else than in its flow's order (a reply to an address MASQUERADE did not give,
    /// a segment conntrack has no entry for).
    @Test func someDependentLabNeedsItsOrder() throws {
        var differing: [String] = []
        for path in shippedTopologyPaths() {
            let t = try TopologyFile.load(path: path).topology
            guard !Simulator.legsIndependent(t) else { continue }
            if try !Self.legsAloneMatch(t, path, expectMatch: false) { differing.append(path.split(separator: "/").last.map(String.init) ?? path) }
        }
        #expect(!differing.isEmpty, "no shipped lab with conntrack or NAT has a leg that needs its order")
    }

    /// A tunnel's outer masquerade and a conntrack rule make legs dependent; a lab without
    /// either is independent.
    @Test func whatMakesLegsDependent() throws {
        #expect(Simulator.legsIndependent(try loadShipped("veth-pre44-corruption").topology))
        #expect(Simulator.legsIndependent(try loadShipped("seed-routed-userspace").topology))
        #expect(!Simulator.legsIndependent(try loadShipped("conntrack-invalid").topology))
        #expect(!Simulator.legsIndependent(try loadShipped("vxlan-outer-masquerade").topology))
        var t = try loadShipped("seed-routed-netns").topology
        #expect(Simulator.legsIndependent(t))
        let router = try #require(t.nodes.first { if case .router = $0.kind { return true }; return false })
        try t.set(node: router.name, interface: nil, key: "drop-invalid", value: "on")
        #expect(!Simulator.legsIndependent(t))
    }

    /// The search uses it: a variant of the 2015 veth lab that still delivers the corrupted
    /// segment is decided by the data leg alone; one that makes the container verify walks the
    /// flow in order (the data leg taken from the first walk) and runs the clean flow.
    @Test func aVariantIsDecidedByTheLegThatDecidedTheLab() throws {
        let t = try loadShipped("veth-pre44-corruption").topology
        let s = try FixSearch(t)
        let b = try #require(s.evaluate([]))
        let data = try #require(FixSearch.decidingLeg(of: "http", in: b.trace, corrupts: true))
        #expect(b.trace.flows[0].legs[data].name == "data nic0→container")
        let order = ["http"]
        let relevant = ["http": s.relevantNodes(b.trace.flows[0])]
        // A toggle that leaves veth_xmit's CHECKSUM_UNNECESSARY as it is.
        let still = [SettingChange(node: "v0", interface: "veth0", key: "tso", value: "off")]
        guard let o = s.evaluate(still, stopAtFirstFailure: true, baseline: b, order: order, relevant: relevant, pruneLegs: true) else {
            Issue.record("\(still) was not evaluated"); return
        }
        #expect(o.works["http"] == false)
        #expect(o.trace.flows[0].legs.map(\.name) == ["data nic0→container"])
        #expect(o.trace.flows[0].legs.first?.outcome == .acceptedCorrupted)
        // The container checks the segment itself: the data leg is lost, which decides nothing
        // for a flow that corrupts on purpose — its legs are walked in order, and it works.
        let fix = [SettingChange(node: "v0", interface: "ceth0", key: "rx", value: "off")]
        guard let o2 = s.evaluate(fix, stopAtFirstFailure: true, baseline: b, order: order, relevant: relevant, pruneLegs: true) else {
            Issue.record("\(fix) was not evaluated"); return
        }
        #expect(o2.works["http"] == true)
        #expect(o2.trace.flows[0].legs.map(\.name).prefix(3) == ["SYN", "SYN-ACK", "data nic0→container"])
        // With a conntrack rule the legs depend on one another: walked in order.
        let ct = [SettingChange(node: "host", interface: nil, key: "drop-invalid", value: "on")]
        guard let o3 = s.evaluate(ct, stopAtFirstFailure: true, baseline: b, order: order, relevant: relevant, pruneLegs: true) else {
            Issue.record("\(ct) was not evaluated"); return
        }
        #expect(o3.trace.flows[0].legs.first?.name == "SYN")
    }
}
