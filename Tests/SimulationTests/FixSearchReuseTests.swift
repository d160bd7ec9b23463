import Testing
@testable import Simulation
import TopologyFile
import TestSupport

/// The fix search's shortcuts (flows reused from the baseline, a variant stopped at its first
/// failing flow, a flow's walk stopped at its first failing leg, one network per variant, a
/// corrupting flow's clean run skipped when the corrupted run decides) against full runs: every
/// shipped lab, random variants of the settings a fix may change, each variant simulated whole
/// by `Simulator(variant).run()` and judged by `FlowIntent` with a whole clean run.
@Suite struct FixSearchReuseTests {
    static func problems(_ t: Topology) -> [String] { TopologyFile.validate(t, file: "lab.yaml").map(\.message) }

    /// A variant simulated whole, and each flow's intent judged from whole runs.
    struct Reference {
        var trace: Trace
        var works: [String: Bool]
    }

    static func reference(_ t: Topology) throws -> Reference {
        let trace = try Simulator(t).run()
        var works: [String: Bool] = [:]
        for ft in trace.flows {
            let flow = try #require(t.flows.first { $0.name == ft.flow })
            var clean: FlowTrace?
            if flow.corruptAfter != nil {
                var u = t
                u.flows = u.flows.map { var f = $0; f.corruptAfter = nil; return f }
                clean = try Simulator(u).run(flow: flow.name).flows.first
            }
            works[ft.flow] = FlowIntent.works(ft, flow: flow, uncorrupted: clean)
        }
        return Reference(trace: trace, works: works)
    }

    /// Everything `run` passes to `evaluate` for a lab: its baseline, the flow order and each
    /// flow's relevant nodes.
    struct Context {
        var search: FixSearch
        var baseline: FixSearch.Outcome
        var order: [String]
        var relevant: [String: Set<String>]
    }

    static func context(_ t: Topology) throws -> Context {
        let s = try FixSearch(t, problems: problems)
        let b = try #require(s.evaluate([]))
        var relevant: [String: Set<String>] = [:]
        for f in b.trace.flows { relevant[f.flow] = s.relevantNodes(f) }
        let order = s.flowNames.filter { b.works[$0] == false } + s.flowNames.filter { b.works[$0] == true }
        return Context(search: s, baseline: b, order: order, relevant: relevant)
    }

    /// `changes` applied to `t` as the search applies them (nil: not applicable or invalid).
    static func applied(_ t: Topology, _ changes: [SettingChange]) -> Topology? {
        var v = t
        for c in changes {
            do { try v.set(node: c.node, interface: c.interface, key: c.key, value: c.value) } catch { return nil }
        }
        return problems(v).isEmpty ? v : nil
    }

    /// Checks one variant; returns whether the pruned evaluation took a shortcut inside a flow.
    @discardableResult
    static func check(_ cx: Context, _ t: Topology, _ changes: [SettingChange], _ label: String) throws -> Bool {
        let full = cx.search.evaluate(changes)
        let pruned = cx.search.evaluate(changes, stopAtFirstFailure: true, baseline: cx.baseline, order: cx.order,
                                        relevant: cx.relevant, pruneLegs: true)
        guard let v = applied(t, changes) else {
            // Offload toggles skip the validator; only structural ones must come out nil.
            if changes.contains(where: { FixSearch.structuralKeys.contains($0.key) }) {
                #expect(full == nil && pruned == nil, "\(label): an invalid variant was simulated")
            }
            return false
        }
        let ref = try reference(v)
        // Without shortcuts: the whole trace of a full run, and every flow's intent.
        let f = try #require(full, "\(label)")
        #expect(f.trace == ref.trace, "\(label): evaluate's trace differs from Simulator.run()")
        #expect(f.works == ref.works, "\(label)")
        // With every shortcut: the flows run are those in order up to the first that fails,
        // each judged as a full run judges it.
        let p = try #require(pruned, "\(label)")
        var expected: [String] = []
        for name in cx.order {
            expected.append(name)
            if ref.works[name] == false { break }
        }
        #expect(Set(p.works.keys) == Set(expected), "\(label): flows run")
        // Whatever order they ran in (failing ones first), the outcome lists them in the lab's.
        #expect(p.trace.flows.map(\.flow) == ref.trace.flows.map(\.flow).filter { p.works[$0] != nil }, "\(label): flow order")
        for (name, ok) in p.works { #expect(ok == ref.works[name], "\(label): \(name) works \(ok), a full run says \(ref.works[name] ?? false)") }
        for ft in p.trace.flows {
            let whole = try #require(ref.trace.flows.first { $0.flow == ft.flow })
            if p.pruned, ft != whole {  // (a flow reused from the baseline is the full one)
                // A lean walk stopped at a failing leg met the same nodes, outcomes and counters
                // up to there (it records no steps). One decided by a single leg walked first
                // (`Simulator.trace`'s `decideFirst`) holds that leg, as the full run walked it.
                let names = ft.legs.map(\.name)
                #expect(names == Array(whole.legs.map(\.name).prefix(names.count))
                        || (names.count == 1 && whole.legs.dropFirst().contains { $0.name == names[0] }), "\(label): \(ft.flow) legs \(names)")
                for a in ft.legs {
                    let b = try #require(whole.legs.first { $0.name == a.name }, "\(label): \(ft.flow) \(a.name)")
                    #expect(a.steps.isEmpty, "\(label): \(ft.flow) \(a.name) recorded \(a.steps.count) steps")
                    #expect(a.visitedNodes == b.visitedNodes && a.outcome == b.outcome && a.counters == b.counters,
                            "\(label): \(ft.flow) \(a.name)")
                }
            } else {
                #expect(ft == whole, "\(label): \(ft.flow) differs from a full run")
            }
        }
        // The devices and notes of the variant's network (empty when every flow was reused).
        if !p.trace.devices.isEmpty { #expect(p.trace.devices == ref.trace.devices && p.trace.notes == ref.trace.notes, "\(label)") }
        return p.pruned
    }

    /// A lean walk (`Walk.lean`, what the search's variants walk) decides as the full walk does,
    /// on every flow of every shipped lab: the same legs, outcomes, counters, nodes met, sent
    /// legs and verdict; and the nodes met are the full trace's steps' elements.
    @Test(arguments: shippedTopologyPaths())
    func leanWalksDecideAsFullWalks(path: String) throws {
        let t = try TopologyFile.load(path: path).topology
        let sim = Simulator(t)
        for f in t.flows {
            let full = try sim.flowTrace(named: f.name, net: sim.network, stopAtFailingLeg: false)
            let lean = try sim.flowTrace(named: f.name, net: sim.network, stopAtFailingLeg: false, lean: true)
            #expect(lean.verdict.completes == full.verdict.completes && lean.verdict.corruptedData == full.verdict.corruptedData
                    && lean.verdict.failedLeg == full.verdict.failedLeg, "\(path) \(f.name)")
            // A lean trace leaves the flow's sum by host out; its legs hold what it is made of.
            var summed: [String: [String: Int]] = [:]
            for l in lean.legs where l.sent {
                for (h, cs) in l.counters { for (k, n) in cs { summed[h, default: [:]][k, default: 0] += n * l.transmissions } }
            }
            #expect((lean.counters.isEmpty || lean.counters == full.counters) && summed == full.counters, "\(path) \(f.name)")
            #expect(lean.legs.count == full.legs.count, "\(path) \(f.name)")
            for (a, b) in zip(lean.legs, full.legs) {
                #expect(a.steps.isEmpty && a.outcome == b.outcome && a.counters == b.counters && a.sent == b.sent
                        && a.transmissions == b.transmissions && a.visitedNodes == b.visitedNodes, "\(path) \(f.name) \(a.name)")
                var names: [String] = []
                for s in b.steps where names.last != s.element { names.append(s.element) }
                #expect(b.visitedNodes.map { t.nodes[$0].name } == names, "\(path) \(f.name) \(b.name): nodes met")
            }
        }
    }

    /// The search applies a set through `FixSearch.edit` (features written straight in, a
    /// change alone on its node as the node `set` made of it once) — the same lab as
    /// `Topology.set` change by change gives: every shipped lab, every pair of options on one
    /// node (where order and sharing matter), and pairs on two nodes.
    @Test(arguments: shippedTopologyPaths())
    func editsMakeTheLabSetMakes(path: String) throws {
        let t = try TopologyFile.load(path: path).topology
        let cx = try Self.context(t)
        var options: [SettingChange] = []
        for c in cx.search.candidates(baseTrace: cx.baseline.trace) {
            for v in c.alternatives { options.append(SettingChange(node: c.node, interface: c.interface, key: c.key, value: v)) }
        }
        var sets: [[SettingChange]] = options.map { [$0] }
        for i in options.indices {
            for j in options.indices where j > i && options[j].node == options[i].node && options[j].setting != options[i].setting {
                sets.append([options[i], options[j]])
                sets.append([options[j], options[i]])
            }
        }
        var rng = SplitMix(state: 0x12_0011 &+ UInt64(path.utf8.count))
        for _ in 0..<40 where options.count > 1 {
            let a = options[Int(rng.next() % UInt64(options.count))], b = options[Int(rng.next() % UInt64(options.count))]
            if a.setting != b.setting { sets.append([a, b]) }
        }
        for changes in sets {
            let viaSet = cx.search.applied(changes, edits: nil)
            let viaEdits = cx.search.applied(changes, edits: changes.map(cx.search.edit))
            #expect(viaSet == viaEdits, "\(path): \(changes.map(\.assignment))")
        }
        if options.count > 1 { #expect(sets.count > options.count, "\(path): no pairs tried") }
    }

    /// An outcome lists its flows in the lab's order, whatever order they were walked in (the
    /// search walks failing flows first): a fix of labs with several flows, walked in reverse,
    /// lean and in full.
    @Test(arguments: ["seed-routed-userspace", "dhcp-raw-client"])
    func outcomesListFlowsInTheLabsOrder(name: String) throws {
        let t = try loadShipped(name).topology
        let cx = try Self.context(t)
        #expect(cx.search.flowNames.count >= 2)
        let fix = try #require(cx.search.run(maxChanges: 1)?.fixes.first)
        for lean in [true, false] {
            let o = try #require(cx.search.evaluate(fix.changes, stopAtFirstFailure: true, baseline: cx.baseline,
                                                    order: cx.search.flowNames.reversed(), pruneLegs: lean))
            #expect(o.allWork)
            #expect(o.trace.flows.map(\.flow) == cx.search.flowNames, "\(name) lean \(lean)")
        }
    }

    /// The unhashed key tests the search uses per change say what the key sets say, for every
    /// key a fix may change and a few it may not.
    @Test func keyTestsAgreeWithTheKeySets() {
        for k in FixSearch.fixKeys.union(["tx", "tso", "gro", "mtu", "masquerade", "kernel", "flavou", ""]) {
            #expect(FixSearch.isStructural(k) == FixSearch.structuralKeys.contains(k), "\(k)")
            #expect(FixSearch.isTunFlag(k) == FixSearch.tunFlagKeys.contains(k), "\(k)")
        }
    }

    static func labsWithAFault() -> [String] {
        shippedTopologyPaths().filter { path in
            guard let t = try? TopologyFile.load(path: path).topology else { return false }
            return t.flows.contains { $0.corruptAfter != nil }
        }
    }

    /// A corrupting flow's clean run, resumed before the leg its fault was first applied to
    /// (`Simulator.flowTraceKeepingCleanPrefix`, what the search does), equals the clean flow
    /// walked from its first leg: every leg's outcome, counters, nodes met, sent flag and
    /// transmissions, and the verdict. On the shipped labs with a fault, each variant of one
    /// change of every candidate, and with the fault moved to every node.
    @Test(arguments: Self.labsWithAFault())
    func cleanRunResumedEqualsCleanRunFromTheStart(path: String) throws {
        try #require(Self.labsWithAFault().count >= 2, "the shipped labs with corrupt-after")
        let t = try TopologyFile.load(path: path).topology
        let cx = try Self.context(t)
        var labs = [t]
        for c in cx.search.candidates(baseTrace: cx.baseline.trace) {
            for v in c.alternatives {
                if let u = Self.applied(t, [SettingChange(node: c.node, interface: c.interface, key: c.key, value: v)]) { labs.append(u) }
            }
        }
        for n in t.nodes {
            var u = t
            for i in u.flows.indices where u.flows[i].corruptAfter != nil { u.flows[i].corruptAfter = Endpoint(node: n.name, interface: nil) }
            labs.append(u)
        }
        var resumed = 0
        for lab in labs {
            let sim = Simulator(lab)
            var clean = lab
            for i in clean.flows.indices { clean.flows[i].corruptAfter = nil }
            let cleanSim = Simulator(clean, network: sim.network)
            for f in lab.flows where f.corruptAfter != nil {
                // Only a leg the fault was applied to delivers corrupted data (what lets a
                // decided walk stop once no leg the client sends is left).
                let whole = try sim.flowTrace(named: f.name, net: sim.network, stopAtFailingLeg: false)
                for l in whole.legs where !l.faulted { #expect(l.outcome != .acceptedCorrupted, "\(path) \(f.name) \(l.name)") }
                let (corrupted, prefix) = try sim.flowTraceKeepingCleanPrefix(named: f.name, net: sim.network, lean: true)
                let plain = try sim.flowTrace(named: f.name, net: sim.network, stopAtFailingLeg: true, lean: true)
                #expect(corrupted == plain, "\(path) \(f.name): keeping the prefix changed the corrupted run")
                guard let prefix else {
                    #expect(!corrupted.legs.contains { $0.faulted }, "\(path) \(f.name): a fault applied, no prefix kept")
                    continue
                }
                resumed += 1
                let a = try cleanSim.flowTrace(named: f.name, net: sim.network, resuming: prefix, lean: true)
                let b = try cleanSim.flowTrace(named: f.name, net: sim.network, stopAtFailingLeg: true, lean: true)
                #expect(a.legs.count == b.legs.count && a.verdict == b.verdict && a.counters == b.counters, "\(path) \(f.name) after \(f.corruptAfter?.node ?? "")")
                for (x, y) in zip(a.legs, b.legs) {
                    #expect(x.outcome == y.outcome && x.counters == y.counters && x.visitedNodes == y.visitedNodes && x.sent == y.sent
                            && x.transmissions == y.transmissions && !x.faulted, "\(path) \(f.name) \(x.name)")
                }
            }
        }
        // The comparison ran: most variants apply the fault to the data leg.
        #expect(resumed >= labs.count / 2, "\(path): only \(resumed) of \(labs.count) runs kept a prefix")
    }

    /// Random variants of every shipped lab: sets of one to three changes over every toggle a
    /// fix may change on any node.
    @Test(arguments: shippedTopologyPaths())
    func shortcutsMatchFullRuns(path: String) throws {
        let t = try TopologyFile.load(path: path).topology
        let cx = try Self.context(t)
        #expect(cx.baseline.trace == (try Simulator(t).run()), "\(path): the baseline")
        let cands = cx.search.candidates(baseTrace: cx.baseline.trace)
        try #require(!cands.isEmpty, "\(path)")
        var rng = SplitMix(state: 0x12_0004 &+ UInt64(path.utf8.count))
        for i in 0..<30 {
            var changes: [SettingChange] = []
            for _ in 0...Int(rng.next() % 3) {
                let c = cands[Int(rng.next() % UInt64(cands.count))]
                guard !changes.contains(where: { $0.setting == "\(c.node)\(c.interface.map { ".\($0)" } ?? "").\(c.key)" }) else { continue }
                let v = c.alternatives[Int(rng.next() % UInt64(c.alternatives.count))]
                changes.append(SettingChange(node: c.node, interface: c.interface, key: c.key, value: v))
            }
            try Self.check(cx, t, changes, "\(path) variant \(i) \(changes.map(\.assignment))")
        }
    }

    /// The search's own variants, on the labs that need a fix: each pruned set judged as a full
    /// run judges it (a fix works; a set the search rejected does not), and what `run` returns
    /// (fixes, the best partial result) is the full outcome, never a pruned one.
    @Test(arguments: ["seed-routed-userspace", "veth-pre44-corruption", "udp-fragments-userspace-router", "nofix-tx-off-vm1-only"])
    func searchResultsAreWhole(name: String) throws {
        let t = try loadShipped(name).topology
        let cx = try Self.context(t)
        let r = try #require(cx.search.run(maxChanges: 2))
        #expect(!r.baseline.allWork)
        var outcomes = r.fixes
        if let b = r.bestPartial { outcomes.append(b) }
        for o in outcomes {
            #expect(!o.pruned, "\(name) \(o.changes.map(\.assignment))")
            let shown = try #require(cx.search.evaluate(o.changes, stopAtFirstFailure: true, baseline: cx.baseline, order: cx.order,
                                                        relevant: cx.relevant, pruneLegs: false))
            #expect(o.trace == shown.trace && o.works == shown.works, "\(name) \(o.changes.map(\.assignment))")
        }
        // Every single change and pair over the search's candidates, pruned vs full.
        var pruned = 0
        let scope = r.baseline.trace.flows.filter { r.baseline.works[$0.flow] == false }
            .reduce(into: Set<String>()) { $0.formUnion(cx.search.relevantNodes($1)) }
        let cands = cx.search.candidates(baseTrace: r.baseline.trace, nodes: scope)
        for (i, c) in cands.enumerated() {
            for v in c.alternatives {
                let one = SettingChange(node: c.node, interface: c.interface, key: c.key, value: v)
                if try Self.check(cx, t, [one], "\(name) \(one)") { pruned += 1 }
                if i + 1 < cands.count, let d = cands[(i + 1)...].first, let w = d.alternatives.first {
                    try Self.check(cx, t, [one, SettingChange(node: d.node, interface: d.interface, key: d.key, value: w)], "\(name) \(one)+")
                }
            }
        }
        // A flow that corrupts on purpose is walked whole (see `evaluate`); the others must have
        // taken the leg shortcut somewhere, or this checks nothing of it.
        if t.flows.allSatisfy({ $0.corruptAfter == nil }) { #expect(pruned > 0, "\(name): no variant took the leg shortcut") }
    }

    /// Several walkers find what one finds: the same fixes in the same order, with the same
    /// traces, the same best partial result and the same counts (a batch's outcomes are taken
    /// in the order a single walker meets them). Labs with fixes of one and two changes, a
    /// corrupting flow, and one where nothing works within two changes.
    @Test(arguments: ["seed-routed-userspace", "veth-pre44-corruption", "dhcp-raw-client", "nofix-tx-off-vm1-only"])
    func workersFindWhatOneFinds(name: String) throws {
        let s = try FixSearch(loadShipped(name).topology, problems: Self.problems)
        let one = try #require(s.run(maxChanges: 3, proveFailures: true, workers: 1))
        for workers in [2, 5] {
            let many = try #require(s.run(maxChanges: 3, proveFailures: true, workers: workers))
            #expect(many.fixes.map { $0.changes.map(\.assignment) } == one.fixes.map { $0.changes.map(\.assignment) }, "\(name) ×\(workers)")
            // Compared as one Bool: a failing `==` on traces would print every frame.
            let sameTraces = many.fixes.map(\.trace) == one.fixes.map(\.trace)
            #expect(sameTraces, "\(name) ×\(workers): the fixes' traces differ")
            let samePartial = many.bestPartial?.changes == one.bestPartial?.changes && many.bestPartial?.trace == one.bestPartial?.trace
            #expect(samePartial, "\(name) ×\(workers): the best partial results differ")
            #expect(many.evaluated == one.evaluated && many.decided == one.decided && many.searchedUpTo == one.searchedUpTo, "\(name) ×\(workers)")
        }
        #expect(one.evaluated > 1, "\(name): the search walked nothing")
    }
}
