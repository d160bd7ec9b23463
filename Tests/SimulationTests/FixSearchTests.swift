import Testing
import Simulation
import TopologyFile
import TestSupport

/// `FixSearch` against a brute force that shares none of its shortcuts: every subset of every
/// toggle on every node, each lab simulated whole by `Simulator`, minimal working sets kept.
@Suite struct FixSearchTests {
    static func problems(_ t: Topology) -> [String] { TopologyFile.validate(t, file: "lab.yaml").map(\.message) }

    /// Does every flow of `t` work (independently of FixSearch.evaluate)?
    static func allWork(_ t: Topology) -> Bool {
        guard let trace = try? Simulator(t).run() else { return false }
        return trace.flows.allSatisfy { ft in
            let flow = t.flows.first { $0.name == ft.flow }!
            var clean: FlowTrace?
            if flow.corruptAfter != nil {
                var u = t
                u.flows = u.flows.map { var f = $0; f.corruptAfter = nil; return f }
                clean = try? Simulator(u).run(flow: flow.name).flows.first
            }
            return FlowIntent.works(ft, flow: flow, uncorrupted: clean)
        }
    }

    /// Minimal working sets of up to `limit` changes over `candidates`, by brute force.
    static func bruteForce(_ base: Topology, _ candidates: [FixSearch.Candidate], limit: Int) -> Set<Set<String>> {
        var found: [Set<String>] = []
        func visit(_ start: Int, _ chosen: [(FixSearch.Candidate, String)]) {
            if !chosen.isEmpty {
                var t = base
                var ok = true
                for (c, v) in chosen {
                    do { try t.set(node: c.node, interface: c.interface, key: c.key, value: v) } catch { ok = false }
                }
                if ok, problems(t).isEmpty, allWork(t) {
                    found.append(Set(chosen.map { c, v in SettingChange(node: c.node, interface: c.interface, key: c.key, value: v).assignment }))
                }
            }
            guard chosen.count < limit else { return }
            for i in start..<candidates.count {
                for v in candidates[i].alternatives { visit(i + 1, chosen + [(candidates[i], v)]) }
            }
        }
        visit(0, [])
        let minimal = found.filter { s in !found.contains { $0 != s && $0.isSubset(of: s) } }
        return Set(minimal)
    }

    static func sets(_ r: FixSearch.Result) -> Set<Set<String>> {
        Set(r.fixes.map { Set($0.changes.map(\.assignment)) })
    }

    @Test func seedUserspaceRouterFixes() throws {
        let t = try loadShipped("seed-routed-userspace").topology
        let s = try FixSearch(t, problems: Self.problems)
        let r = try #require(s.run(maxChanges: 3))
        #expect(!r.baseline.allWork)
        let found = Self.sets(r)
        #expect(found.contains(["router.vnet-hdr=on"]))
        #expect(found.contains(["vethA.vethA.tx=off", "vethB.vethB.tx=off"]))
        #expect(found.contains(["vm1.eth0.tx=off", "vm2.eth0.tx=off"]))
        // One host veth alone is not a fix: the other direction still loses the promise.
        #expect(!found.contains(["vethA.vethA.tx=off"]))
        // Smallest first: no reported set contains another.
        for a in found { for b in found where a != b { #expect(!a.isSubset(of: b)) } }
        // Every reported fix works when applied with --set, simulated from scratch.
        for f in r.fixes {
            var v = t
            for c in f.changes { try v.apply(assignment: c.assignment) }
            #expect(Self.allWork(v), "\(f.changes)")
        }
    }

    @Test func seedUserspaceMatchesBruteForce() throws {
        let t = try loadShipped("seed-routed-userspace").topology
        let s = try FixSearch(t, problems: Self.problems)
        let r = try #require(s.run(maxChanges: 2))
        let all = s.candidates(baseTrace: r.baseline.trace)
        #expect(Self.sets(r) == Self.bruteForce(t, all, limit: r.searchedUpTo))
    }

    /// TAPs with TSO asked for explicitly (`tun-tso4: on`): turning their checksum offload off
    /// (`vnet-hdr=off`, `tun-csum=off`, the guest's `guest-csum=off`) makes a lab the kernel
    /// refuses (TUNSETOFFLOAD returns EINVAL), which the validator rejects — so no such set is
    /// a fix, although it skips the rest of the validator. Against the brute force, which
    /// validates every set.
    @Test func tapFlagsTheKernelRefusesAreNoFix() throws {
        var t = try loadShipped("seed-routed-userspace").topology
        for tap in ["tap1", "tap2"] { try t.set(node: tap, interface: nil, key: "tun-tso4", value: "on") }
        try #require(Self.problems(t).isEmpty)
        var refused = t
        try refused.set(node: "tap1", interface: nil, key: "vnet-hdr", value: "off")
        try #require(!Self.problems(refused).isEmpty, "the validator refuses tap1 without a vnet header")
        let s = try FixSearch(t, problems: Self.problems)
        let r = try #require(s.run(maxChanges: 2))
        for f in r.fixes {
            var v = t
            for c in f.changes { try v.apply(assignment: c.assignment) }
            #expect(Self.problems(v).isEmpty, "\(f.changes.map(\.assignment)): \(Self.problems(v))")
        }
        #expect(!Self.sets(r).contains(["tap1.vnet-hdr=off", "tap2.vnet-hdr=off"]))
        #expect(Self.sets(r) == Self.bruteForce(t, s.candidates(baseTrace: r.baseline.trace), limit: r.searchedUpTo))
    }

    @Test func workingLabNeedsNoFix() throws {
        let t = try loadShipped("seed-routed-netns").topology
        let r = try #require(try FixSearch(t, problems: Self.problems).run())
        #expect(r.baseline.allWork)
        #expect(r.fixes.isEmpty)
    }

    @Test func kernelProfileIsNeverAFix() throws {
        let t = try loadShipped("veth-pre44-corruption").topology
        let s = try FixSearch(t, problems: Self.problems)
        let r = try #require(s.run(maxChanges: 2))
        #expect(r.fixes.allSatisfy { $0.changes.allSatisfy { $0.key != "kernel" } })
        #expect(s.candidates(baseTrace: r.baseline.trace).allSatisfy { $0.key != "kernel" && $0.key != "masquerade" })
    }

    /// A bridge's br-netfilter is in the options menu but no fix (it takes the firewall off the
    /// bridged traffic): seed-routed-userspace's search crosses two bridges and never offers it.
    @Test func brNetfilterIsNeverAFix() throws {
        let t = try loadShipped("seed-routed-userspace").topology
        let s = try FixSearch(t, problems: Self.problems)
        let r = try #require(s.run(maxChanges: 1))
        let cands = s.candidates(baseTrace: r.baseline.trace)
        #expect(cands.contains { $0.node == "br1" })
        #expect(cands.allSatisfy { $0.key != "br-netfilter" })
    }

    /// A corrupted flow works when its corrupted data are rejected, never when they arrive.
    /// On linux-4.4, `tx off` alone leaves TCP PARTIAL while GSO is on (sk_setup_caps), so the
    /// flipped bit still arrives; with GSO off too the sender sums in software and the receiver
    /// rejects the bad segment.
    @Test func corruptedFlowIntent() throws {
        let t = try loadShipped("conntrack-invalid").topology
        let s = try FixSearch(t, flow: "ssh-corrupted-offloaded", problems: Self.problems)
        let flow = "ssh-corrupted-offloaded"
        let base = try #require(s.evaluate([]))
        #expect(base.works[flow] == false)
        let txOnly = try #require(s.evaluate([SettingChange(node: "vm1", interface: "eth0", key: "tx", value: "off")]))
        #expect(txOnly.works[flow] == false)
        let fixed = try #require(s.evaluate([SettingChange(node: "vm1", interface: "eth0", key: "tx", value: "off"),
                                             SettingChange(node: "vm1", interface: "eth0", key: "gso", value: "off")]))
        #expect(fixed.works[flow] == true)
        let ft = try #require(fixed.trace.flows.first)
        #expect(!ft.legs.contains { $0.outcome == .acceptedCorrupted })
        #expect(!ft.verdict.completes)
    }

    /// Random small labs: a shipped small lab with random toggles, kept when some flow fails.
    /// The search (path scope, early stop, flows reused from the baseline) finds exactly the
    /// brute force's minimal sets over every toggle of every node.
    @Test(arguments: [UInt64(1), 2, 3, 4, 5])
    func randomLabsMatchBruteForce(seed: UInt64) throws {
        var rng = SplitMix(state: seed)
        let shapes = ["seed-bridged", "mininet-userspace-switch", "dhcp-raw-client", "veth-pre44-corruption"]
        var t = Topology(name: "")
        var broken = false
        for _ in 0..<40 where !broken {
            let base = try loadShipped(shapes[Int(rng.next() % UInt64(shapes.count))]).topology
            let probe = try FixSearch(base, problems: Self.problems)
            let cands = probe.candidates(baseTrace: try #require(probe.evaluate([])).trace)
            t = base
            for _ in 0..<Int(rng.next() % 3) {
                let c = cands[Int(rng.next() % UInt64(cands.count))]
                let v = c.alternatives[Int(rng.next() % UInt64(c.alternatives.count))]
                try? t.set(node: c.node, interface: c.interface, key: c.key, value: v)
            }
            broken = Self.problems(t).isEmpty && !Self.allWork(t)
        }
        try #require(broken, "no failing variant for seed \(seed)")
        let s = try FixSearch(t, problems: Self.problems)
        let r = try #require(s.run(maxChanges: 2))
        let all = s.candidates(baseTrace: r.baseline.trace)
        #expect(Self.sets(r) == Self.bruteForce(t, all, limit: r.searchedUpTo), "seed \(seed): \(t.name)")
    }
}
