import Synchronization
/// One setting a fix changes, in the `--set` vocabulary.
public struct SettingChange: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var node: String
    public var interface: String?
    public var key: String
    public var value: String

    public init(node: String, interface: String?, key: String, value: String) {
        self.node = node
        self.interface = interface
        self.key = key
        self.value = value
    }

    /// `NODE[.IF].KEY=VALUE`, as `--set` takes it.
    public var assignment: String { "\(setting)=\(value)" }
    /// `NODE[.IF].KEY`: which setting, whatever its value.
    public var setting: String { "\(node)\(interface.map { ".\($0)" } ?? "").\(key)" }
    public var description: String { assignment }

    public static func < (a: SettingChange, b: SettingChange) -> Bool { a.assignment < b.assignment }
}

/// Does a flow do what it is meant to? Its data arrive intact; a flow that corrupts its data on
/// purpose (`corrupt-after`) works when the corrupted data are rejected and everything else
/// arrives. Delivering corrupted data never counts as working.
public enum FlowIntent {
    /// `trace` is the flow as configured; `uncorrupted` the same flow without its fault (needed
    /// only for a flow with `corrupt-after`): whatever the corrupted run loses that the clean
    /// run delivers was lost because of the fault, i.e. the corruption was caught.
    public static func works(_ trace: FlowTrace, flow: Flow, uncorrupted: FlowTrace?) -> Bool {
        if trace.legs.contains(where: { $0.outcome == .acceptedCorrupted }) { return false }
        guard flow.corruptAfter != nil else { return trace.verdict.completes && !trace.verdict.corruptedData }
        guard let clean = uncorrupted, clean.verdict.completes, !clean.verdict.corruptedData else { return false }
        return !trace.verdict.completes
    }
}

/// Searches the settings a user can change on a real host for the smallest sets that make the
/// lab's flows work (`csumlab fix`, the explorer's `F`).
///
/// What it may change: every toggle the options menu offers (`SettingItem`) on the nodes the
/// flows' packets cross, their endpoints and the nodes linked to those — ethtool features, TAP
/// flags and vnet header, QEMU's guest offers, router flavour and `PACKET_VNET_HDR`,
/// checksum-fill, conntrack's checksum check and the INVALID drop. Not a kernel profile (not a
/// fix), not addresses, NAT or a forwarder's placement (they change what the lab is).
///
/// Why the neighbours: a device's features can depend on the devices linked to it (a bridge
/// drops GSO when no port has SG), so a node next to the path can change what the path does.
/// Nothing further away can: `FixSearchTests` checks the result against a search over every
/// node of small labs.
public struct FixSearch: Sendable {
    /// One setting with the values it may take other than its current one.
    public struct Candidate: Sendable, Hashable {
        public var node: String
        public var interface: String?
        public var key: String
        public var current: String
        public var alternatives: [String]
    }

    /// A set of changes and what the lab does with them.
    public struct Outcome: Sendable {
        public var changes: [SettingChange]
        public var topology: Topology
        public var trace: Trace
        /// Per target flow, in the lab's order: does it work?
        public var works: [String: Bool]
        /// Every target flow works (a run that stopped early holds a failing flow).
        public var allWork: Bool { works.values.allSatisfy { $0 } }
        /// Walked only to decide (`evaluate(…, pruneLegs: true)`): lean walks that record no
        /// steps, a flow stopped at its first failing leg. `works` is exact, the trace is not
        /// one to show. `run` never returns such an outcome.
        var pruned = false
        /// When a flow that does not corrupt on purpose failed (and the caller asked): the nodes
        /// whose settings can change what its walk met (`relevantNodeSet` of its trace). A
        /// change on any other node leaves that walk, and so the failure, as it is (see `run`).
        var failedScope: NodeSet?

        init(changes: [SettingChange], topology: Topology, trace: Trace, works: [String: Bool]) {
            self.changes = changes
            self.topology = topology
            self.trace = trace
            self.works = works
        }
    }

    public let base: Topology
    /// The flows that must work (all when nil).
    public let flowNames: [String]
    /// Why a changed lab is impossible (the file validator's messages), empty when it is fine.
    public let problems: @Sendable (Topology) -> [String]
    /// `base` resolved once: a variant that changes no structural key reuses its devices and
    /// connections (`Network(_:reusing:)`).
    let network: Network
    /// Per node index: the linked nodes whose settings can change what that node does to a
    /// packet (the proof's scope, `relevantNodeSet`; narrower than `relevantNodes`' every link).
    let neighbours: [NodeSet]
    /// The base lab's leg plans: a variant without a structural change sends the same legs
    /// (no fix key changes a flow, an address, a route, an MTU or a TCP option).
    let legPlans: [String: Simulator.LegPlan]?
    /// Per set of structural changes, the lab with only those applied (`makeStructuralBase`).
    let structuralBases = StructuralBases()
    /// Per flow that corrupts on purpose: the lab's flows with that flow's fault taken out, and
    /// `legPlans` with its plan made for the clean flow — what its clean run (`FlowIntent`)
    /// runs on, made once instead of per variant (no fix key changes a flow).
    let cleanRuns: [String: (flows: [Flow], legPlans: [String: Simulator.LegPlan]?)]

    public init(_ base: Topology, flow: String? = nil, problems: @escaping @Sendable (Topology) -> [String] = { _ in [] }) throws(SimulationError) {
        if let flow, !base.flows.contains(where: { $0.name == flow }) { throw .unknownFlow(flow) }
        self.base = base
        self.flowNames = flow.map { [$0] } ?? base.flows.map(\.name)
        self.problems = problems
        self.network = Network(base)
        let index = base.nodeIndexesByName()
        var neighbours = Array(repeating: NodeSet(count: base.nodes.count), count: base.nodes.count)
        // A bridge's own features follow its ports (`br_features_recompute`), but they are read
        // only where the bridge device itself sends or receives, as a host's interface; a bridge
        // that only forwards reads the features of the port it forwards to, and that port is on
        // the path itself. Every other kind depends on what it is linked to (a VM's NIC on its
        // TAP's vnet header, a TAP's offloads on the guest's, a namespace on its veth end).
        let network = self.network
        let hostBridge = base.nodes.indices.map { n in network.devices.contains { $0.node == n && $0.l3 != nil } }
        func dependsOnLinks(_ n: Int) -> Bool {
            if case .bridge = base.nodes[n].kind { return hostBridge[n] }
            return true
        }
        for l in base.links {
            guard let a = index[l.a.node], let b = index[l.b.node] else { continue }
            if dependsOnLinks(a) { neighbours[a].insert(b) }
            if dependsOnLinks(b) { neighbours[b].insert(a) }
        }
        self.neighbours = neighbours
        // Each leg builds its frames once for every variant (`LegFrameCache`).
        var plans = Simulator(base, network: network).plans(network)
        for (name, plan) in plans {
            for i in plan.legs.indices { plans[name]?.legs[i].frames = LegFrameCache() }
        }
        self.legPlans = plans
        var cleanRuns: [String: (flows: [Flow], legPlans: [String: Simulator.LegPlan]?)] = [:]
        for (i, f) in base.flows.enumerated() where f.corruptAfter != nil {
            var flows = base.flows
            flows[i].corruptAfter = nil
            var cleanPlans = plans
            if var p = cleanPlans[f.name] {
                p.flow = flows[i]
                cleanPlans[f.name] = p
            }
            cleanRuns[f.name] = (flows, cleanPlans)
        }
        self.cleanRuns = cleanRuns
    }

    // MARK: Evaluating one set

    /// Apply `changes` and run the target flows; nil when the set cannot be applied or makes an
    /// impossible lab.
    public func evaluate(_ changes: [SettingChange]) -> Outcome? {
        evaluate(changes, stopAtFirstFailure: false)
    }

    /// With `stopAtFirstFailure`, flows are run one by one (those that failed in the baseline
    /// first) and the run stops at the first that does not work: the outcome then holds only
    /// the flows run. A flow that works in the baseline and crosses no changed node is not run
    /// again (nothing it meets changed).
    ///
    /// `pruneLegs` (only with `stopAtFirstFailure`) also stops a flow's walk at its first leg
    /// that is not accepted (`Simulator.flowTrace(named:net:stopAtFailingLeg:lean:)`: such a
    /// flow cannot work, whatever its later legs meet), walks lean (no steps recorded, only
    /// the nodes met: `Walk.lean`) and marks the outcome `pruned`: its `works` and failure
    /// scope are exact, its trace is not one to show. A flow that corrupts on purpose
    /// stops at a leg that delivered corrupted data, or at a leg lost before its fault was
    /// applied (the clean flow loses it too); after its fault it is walked on (a would-be leg
    /// that delivers corrupted data decides its intent), and its clean run is made only when
    /// the corrupted run leaves the intent open.
    /// `FixSearchReuseTests` compares both against full runs on every shipped lab.
    func evaluate(_ changes: [SettingChange], stopAtFirstFailure: Bool, baseline: Outcome? = nil,
                  order: [String]? = nil, relevant: [String: Set<String>] = [:], pruneLegs: Bool = false,
                  wantScope: Bool = false, edits: [Edit]? = nil, nodeIndices: [Int]? = nil) -> Outcome? {
        guard let t = applied(changes, edits: edits) else { return nil }
        let structural = changes.contains(where: { Self.isStructural($0.key) })
        // A structural variant starts from the lab with only its structural changes, resolved
        // and validated once for every variant that shares them (`StructuralBases`).
        var structuralBase: StructuralBases.Base?
        if structural {
            let key = changes.filter { Self.isStructural($0.key) }
            let b = structuralBases.base(for: key) { makeStructuralBase(key) }
            switch b.valid {
            case false?: return nil
            case true?: structuralBase = b
            case nil: if !problems(t).isEmpty { return nil }
            }
        }
        // A TAP's flags can ask for TSO without TUN_F_CSUM, which the kernel refuses (the one
        // validator rule a non-structural change can break): checked on the variant's network
        // (a structural variant validated in full has been checked with the rest).
        let tunFlagChange = (!structural || structuralBase != nil) && changes.contains(where: { Self.isTunFlag($0.key) })
        // Built once, when a flow must run: every flow of a variant runs on the same devices.
        var sim: Simulator?
        var works: [String: Bool] = [:]
        var flows: [FlowTrace] = []
        var pruned = false
        var failedScope: NodeSet?
        // Only for deciding: legs stop at the first that fails and record no steps.
        let lean = pruneLegs && stopAtFirstFailure
        // The changed nodes by index (the search passes them: no lookup by name per variant).
        let touchedNodes = nodeIndices ?? changes.compactMap { network.nodeIndex(named: $0.node) }
        // By name, for the baseline's relevant sets: worked out the first time a flow asks.
        var touchedNames: Set<String>?
        // Whether the variant's legs can be walked in any order (`Simulator.legsIndependent`),
        // worked out the first time a flow could use it.
        var independent: Bool?
        for name in order ?? flowNames {
            if let b = baseline, b.works[name] == true, let r = relevant[name] {
                let names = touchedNames ?? Set(changes.map(\.node))
                touchedNames = names
                if r.isDisjoint(with: names), let ft = b.trace.flows.first(where: { $0.flow == name }) {
                    works[name] = true
                    flows.append(ft)
                    continue
                }
            }
            guard let flow = t.flows.first(where: { $0.name == name }) else { return nil }
            let s = sim ?? Self.variantSimulator(t, structural: structural, base: structuralBase, network: network, legPlans: legPlans, touched: touchedNodes)
            if sim == nil, tunFlagChange, s.network.devices.indices.contains(where: s.network.refusesTunOffloads) { return nil }
            sim = s
            // `s.network` is passed where it lives: a `let` copy cost a retain and a release per
            // field of the network for every variant.
            // The leg that decided the lab's own run, walked first when the variant's legs are
            // independent: most variants fail where the lab fails (`Simulator.trace`).
            var decideFirst: Int?
            if lean, let k = baseline.flatMap({ Self.decidingLeg(of: name, in: $0.trace, corrupts: flow.corruptAfter != nil) }), k > 0 {
                let ok = independent ?? Simulator.legsIndependent(t)
                independent = ok
                if ok { decideFirst = k }
            }
            let ft: FlowTrace
            var cleanPrefix: Simulator.LegResume?
            if lean, flow.corruptAfter != nil {
                // Deciding a flow that corrupts on purpose: its clean run (below) resumes where
                // the fault was first applied.
                guard let r = try? s.flowTraceKeepingCleanPrefix(named: name, net: s.network, lean: true, decideFirst: decideFirst) else { return nil }
                (ft, cleanPrefix) = r
            } else {
                guard let r = try? s.flowTrace(named: name, net: s.network, stopAtFailingLeg: lean, lean: lean, decideFirst: decideFirst) else { return nil }
                ft = r
            }
            let ok: Bool
            if flow.corruptAfter == nil {
                ok = FlowIntent.works(ft, flow: flow, uncorrupted: nil)
            } else if ft.legs.contains(where: { $0.outcome == .acceptedCorrupted }) || ft.verdict.completes {
                ok = false  // FlowIntent.works says so whatever the clean run does
            } else if !ft.legs.contains(where: \.faulted) {
                // The fault was never applied: the clean run walks these same legs, so it fails too.
                ok = false
            } else {
                // Only the clean run's verdict counts: its walk may stop at a failing leg. Its
                // legs are the corrupting flow's (a fault is applied by the walk, not planned).
                guard let c = cleanRuns[name] else { return nil }
                var u = t
                u.flows = c.flows
                let cleanSim = Simulator(u, sharing: s, legPlans: structural ? nil : c.legPlans)
                let clean = cleanPrefix.map { try? cleanSim.flowTrace(named: name, net: cleanSim.network, resuming: $0, lean: lean) }
                    ?? (try? cleanSim.flowTrace(named: name, net: cleanSim.network, stopAtFailingLeg: true, lean: lean))
                ok = FlowIntent.works(ft, flow: flow, uncorrupted: clean)
            }
            if !ok, wantScope, flow.corruptAfter == nil { failedScope = relevantNodeSet(ft) }
            works[name] = ok
            flows.append(ft)
            if !ok, stopAtFirstFailure { break }
        }
        if sim == nil, tunFlagChange {
            let n = Self.variantSimulator(t, structural: structural, base: structuralBase, network: network, legPlans: legPlans, touched: touchedNodes).network
            if n.devices.indices.contains(where: n.refusesTunOffloads) { return nil }
        }
        // A pruned search's set is walked lean: what `run` keeps of it (a fix, the best partial
        // result) is walked again in full. Its devices and notes are not worked out, and it
        // counts as pruned so that nothing shows it.
        let described = !lean
        if lean { pruned = true }
        let trace = Trace(topology: t.name, hostKernel: t.hostKernel, flows: Self.inOrder(flows, flowNames),
                          devices: described ? sim.map { $0.devices($0.network) } ?? [] : [],
                          notes: described ? sim.map { $0.notes($0.network) } ?? [] : [])
        var o = Outcome(changes: changes, topology: t, trace: trace, works: works)
        o.pruned = pruned
        o.failedScope = failedScope
        return o
    }

    /// The leg of `name` that decided the lab's run in `trace`: for a flow with a fault, the
    /// first that delivered corrupted data; for any other, the first that was not accepted
    /// (nil: none did).
    static func decidingLeg(of name: String, in trace: Trace, corrupts: Bool) -> Int? {
        guard let ft = trace.flows.first(where: { $0.flow == name }) else { return nil }
        return corrupts ? ft.legs.firstIndex { $0.outcome == .acceptedCorrupted } : ft.legs.firstIndex { $0.outcome != .accepted }
    }

    /// `flows` in the order of `names` (each name once; a lab has a few flows, so a scan costs
    /// less than hashing every name into a dictionary per variant).
    static func inOrder(_ flows: [FlowTrace], _ names: [String]) -> [FlowTrace] {
        var out: [FlowTrace] = []
        out.reserveCapacity(flows.count)
        for n in names { if let f = flows.first(where: { $0.flow == n }) { out.append(f) } }
        return out
    }

    /// The simulator a variant's flows run on. Without a structural change: `network` (the
    /// lab's) reused, only the touched nodes' devices worked out again, with the lab's leg plans.
    /// With one: the same from the lab with only its structural changes, when that lab could be
    /// built (`StructuralBases`), else a network built from scratch and plans made per flow.
    static func variantSimulator(_ t: Topology, structural: Bool, base: StructuralBases.Base?, network: Network,
                                 legPlans: [String: Simulator.LegPlan]?, touched: [Int]) -> Simulator {
        let from = structural ? base?.network : network
        guard let from else { return Simulator(t, network: Network(t)) }
        // Every changed node, the structural one too: its other settings were applied in the
        // variant's order, which need not be the structural base's.
        return Simulator(t, network: Network(t, reusing: from, touched: touched), legPlans: structural ? base?.legPlans : legPlans)
    }

    /// The lab with only `key` (structural changes, in the variant's order) applied: resolved,
    /// planned and validated. The validator's other rules read links, addresses, routes, MTUs,
    /// tunnels and a router's flavour and forwarding, none of which a non-structural key
    /// changes, so a variant adding offloads, TAP flags or netfilter switches to `key` is valid
    /// exactly when this lab is — but for the TAP flag rule, checked per variant. When this
    /// lab breaks that rule (a later change may mend it) or cannot be built, each variant is
    /// validated in full (`valid` nil).
    func makeStructuralBase(_ key: [SettingChange]) -> StructuralBases.Base {
        var t = base
        for c in key {
            do { try t.set(node: c.node, interface: c.interface, key: c.key, value: c.value) } catch { return .init(valid: nil, network: nil, legPlans: nil) }
        }
        let n = Network(t)
        if n.devices.indices.contains(where: n.refusesTunOffloads) { return .init(valid: nil, network: nil, legPlans: nil) }
        guard problems(t).isEmpty else { return .init(valid: false, network: nil, legPlans: nil) }
        var plans = Simulator(t, network: n).plans(n)
        for (name, plan) in plans {
            for i in plan.legs.indices { plans[name]?.legs[i].frames = LegFrameCache() }
        }
        return .init(valid: true, network: n, legPlans: plans)
    }

    /// The lab with `changes` applied, as `Topology.set` applies them in order (nil: refused);
    /// with `edits` (`edit(_:)` of each change) without parsing a key per variant.
    /// `FixSearchReuseTests.editsMakeTheLabSetMakes` checks that both give the same lab.
    func applied(_ changes: [SettingChange], edits: [Edit]?) -> Topology? {
        var t = base
        if let edits {
            for (k, e) in edits.enumerated() {
                switch e {
                case let .interfaceFeature(n, i, f, on): t.nodes[n].interfaces[i].features.requested[f] = on
                case let .nodeFeature(n, f, on): t.nodes[n].features.requested[f] = on
                case let .other(c, n, alone):
                    // The only change on its node: the node as `set` left it, worked out once.
                    if let n, !edits.indices.contains(where: { $0 != k && edits[$0].node == n }) {
                        guard let alone else { return nil }
                        t.nodes[n] = alone
                        continue
                    }
                    do { try t.set(node: c.node, interface: c.interface, key: c.key, value: c.value) } catch { return nil }
                case .impossible: return nil
                }
            }
        } else {
            for c in changes {
                do { try t.set(node: c.node, interface: c.interface, key: c.key, value: c.value) } catch { return nil }
            }
        }
        return t
    }

    /// The toggles that can make a valid lab invalid in many ways: a router's flavour and
    /// placement decide which devices its interfaces must link to (the validator's roles).
    /// Offloads, TAP flags, guest offers and netfilter switches change no link or address, so
    /// variants made of them alone skip the validator; the one rule they can break, a TAP's
    /// TSO without TUN_F_CSUM, is checked on the variant's network (`tunFlagKeys`).
    /// FixSearchTests' brute force validates every set.
    static let structuralKeys: Set<String> = ["flavour", "place"]
    /// `structuralKeys.contains(key)` without hashing the key (asked per change of every variant).
    static func isStructural(_ key: String) -> Bool { key == "flavour" || key == "place" }

    /// The keys that decide a TAP's TUNSETOFFLOAD flags (`Network.tunFlags`): with TSO asked
    /// for explicitly (`tun-tso4: on`), turning the checksum offload off makes a lab the
    /// kernel refuses (`Network.refusesTunOffloads`, the validator's `checkTunOffloads`).
    static let tunFlagKeys: Set<String> = ["vnet-hdr", "tun-csum", "tun-tso4", "tun-tso6", "guest-csum", "guest-tso"]
    /// `tunFlagKeys.contains(key)` without hashing the key.
    static func isTunFlag(_ key: String) -> Bool {
        key == "vnet-hdr" || key == "tun-csum" || key == "tun-tso4" || key == "tun-tso6" || key == "guest-csum" || key == "guest-tso"
    }

    /// One change as the search applies it: an ethtool feature written straight into the node
    /// (no lookup by name, no list of allowed keys per change), anything else by `Topology.set`.
    enum Edit {
        case interfaceFeature(node: Int, interface: Int, feature: Feature, on: Bool)
        case nodeFeature(node: Int, feature: Feature, on: Bool)
        /// By `Topology.set`, in the set's order; `alone`: the node after `set` applied this
        /// change to the lab's node (nil: `set` refused it), which is what the change makes of
        /// the node when no other change of the set is on it (`set` reads and writes that
        /// node only).
        case other(SettingChange, node: Int?, alone: Node?)
        /// `Topology.set` refuses it on this lab whatever else changes.
        case impossible

        /// The node it changes (nil: unknown name, `set` refuses it).
        var node: Int? {
            switch self {
            case let .interfaceFeature(n, _, _, _), let .nodeFeature(n, _, _): return n
            case let .other(_, n, _): return n
            case .impossible: return nil
            }
        }
    }

    /// How `change` is applied. Only a feature on a node other than a router is written
    /// directly: whether `Topology.set` takes a feature key depends on the node's kind alone,
    /// which no fix changes — except a router's, whose flavour decides whether its interfaces
    /// have features, so a router's changes always go through `Topology.set` in order.
    func edit(_ change: SettingChange) -> Edit {
        guard let n = network.nodeIndex(named: change.node) else { return .other(change, node: nil, alone: nil) }
        // Whether `set` takes it, and what it makes of the node, depends on the node alone:
        // ask a lab of that one node.
        var probe = Topology(name: base.name, kernel: base.kernel, nodes: [base.nodes[n]])
        let accepted: Bool
        do { try probe.set(nodeAt: 0, interface: change.interface, key: change.key, value: change.value); accepted = true } catch { accepted = false }
        let other = Edit.other(change, node: n, alone: accepted ? probe.nodes[0] : nil)
        guard let f = Feature(named: change.key) else { return other }
        if case .router = base.nodes[n].kind { return other }
        guard accepted else { return .impossible }
        guard let on = Topology.parseBool(change.value) else { return other }
        if let name = change.interface {
            guard let i = base.nodes[n].interfaceIndex(named: name) else { return other }
            return .interfaceFeature(node: n, interface: i, feature: f, on: on)
        }
        return .nodeFeature(node: n, feature: f, on: on)
    }

    // MARK: Candidates

    /// Keys a fix may change; the rest of the options menu changes what the lab is. A bridge's
    /// `br-netfilter` is left out with them: turning it off takes every iptables/nftables rule
    /// off the bridged traffic (Docker's isolation, kube-proxy's rules), which is no fix for a
    /// checksum.
    static let fixKeys: Set<String> = ["vnet-hdr", "tun-csum", "tun-tso4", "tun-tso6", "guest-csum", "guest-tso",
                                       "flavour", "checksum-fill", "conntrack-checksum", "drop-invalid", "udpcsum",
                                       "udp6zerocsumtx", "udp6zerocsumrx"]

    /// Nodes whose settings can change what `flow`'s packets meet: those they cross, the
    /// endpoints, and every node linked to one of those.
    public func relevantNodes(_ ft: FlowTrace) -> Set<String> {
        var near: Set<String> = [ft.from, ft.to]
        for l in ft.legs { for s in l.steps { near.insert(s.element) } }
        var out = near
        for l in base.links where near.contains(l.a.node) || near.contains(l.b.node) {
            out.insert(l.a.node)
            out.insert(l.b.node)
        }
        return out
    }

    /// The nodes whose settings can change what `ft`'s walk met, by node index (the topology's
    /// order), for the proof in `run`: the nodes it crossed and its endpoints, and the linked
    /// nodes they depend on (`neighbours`). `FixSearchProofTests` compares the search with it
    /// against the search without it on every shipped lab that needs a fix.
    func relevantNodeSet(_ ft: FlowTrace) -> NodeSet {
        var near = NodeSet(count: base.nodes.count)
        if let i = network.nodeIndex(named: ft.from) { near.insert(i) }
        if let i = network.nodeIndex(named: ft.to) { near.insert(i) }
        for l in ft.legs { for n in l.visitedNodes { near.insert(n) } }
        var out = near
        for i in near.members { out.formUnion(neighbours[i]) }
        return out
    }

    /// Every toggle on `nodes` (all nodes when nil) with its other values, from the options menu.
    public func candidates(baseTrace: Trace, nodes: Set<String>? = nil) -> [Candidate] {
        var out: [Candidate] = []
        let tunnels = base.nodes.contains { if case .vxlan = $0.kind { return true }; return false }
        for n in base.nodes where nodes?.contains(n.name) ?? true {
            for item in SettingItem.items(for: n.name, topology: base, trace: baseTrace) where item.disabled == nil {
                guard Feature(rawValue: item.key) != nil || Self.fixKeys.contains(item.key) else { continue }
                // Tunnel segmentation concerns only an skb a UDP tunnel device encapsulated
                // (SKB_GSO_UDP_TUNNEL[_CSUM]; read by `Vxlan.tunnelGSOSoftwareReason` alone): in a
                // lab without a tunnel it changes nothing a flow meets (FixSearchTests checks it
                // on every such shipped lab), so it is not offered there.
                if !tunnels, let f = Feature(rawValue: item.key), f == .udpTunnelSegmentation || f == .udpTunnelCsumSegmentation { continue }
                let alternatives: [String]
                switch item.key {
                case "flavour": alternatives = RouterSettings.Flavour.allCases.map(\.rawValue)
                case "checksum-fill": alternatives = Netfilter.ChecksumFill.allCases.map(\.rawValue)
                default: alternatives = item.value == "auto" ? ["on", "off"] : [item.value == "on" ? "off" : "on"]
                }
                let others = alternatives.filter { $0 != item.value }
                if !others.isEmpty {
                    let key = Feature(rawValue: item.key)?.shortName ?? item.key
                    out.append(Candidate(node: item.node, interface: item.interface, key: key, current: item.value, alternatives: others))
                }
            }
        }
        return out
    }

    // MARK: The search

    public struct Result: Sendable {
        /// The lab as it is.
        public var baseline: Outcome
        /// Minimal sets that make every target flow work, smallest first (ties in search order;
        /// callers rank by cost).
        public var fixes: [Outcome]
        /// How many sets were simulated.
        public var evaluated: Int
        /// How many sets were decided without a walk: a change in them cannot reach the flow
        /// that failed without it (see `run`).
        public var decided = 0
        /// The largest set size searched.
        public var searchedUpTo: Int
        /// When nothing works within the limit: the set that made the most target flows work.
        public var bestPartial: Outcome?
    }

    /// Search sets of up to `maxChanges` changes. Sizes are searched in order and the search
    /// stops at the smallest size that works — except that a one-change fix is shown with the
    /// two-change fixes that do not contain it (they teach what else works, at another cost). Only minimal sets are kept: a set that
    /// contains a smaller fix is not a fix of its own.
    ///
    /// A set is decided without a walk when one of its changes cannot matter: if `S` minus a
    /// change `x` failed, and the flow that failed there crossed nothing `x`'s node can change
    /// (`Outcome.failedScope`), that flow meets the same hops with `x` and fails again, so `S`
    /// fails. Such a set inherits that scope for the next size; it cannot make more flows work
    /// than the set it was decided from, so the best partial result is the same
    /// (`FixSearchTests` checks the results against the search with `proveFailures: false` and
    /// against a brute force). Failing flows are tried narrowest scope first, so the scope a
    /// failure records is as small as the lab allows.
    public func run(maxChanges: Int = 3) -> Result? {
        run(maxChanges: maxChanges, proveFailures: true, workers: Self.defaultWorkers)
    }

    /// Walkers a search uses by default: one per online CPU, at most 8 (`sysconf`). The
    /// variants of one size are independent (see `run`), so a second core halves the wait for
    /// `csumlab fix` and the explorer's `F`; the result is the same with any number.
    public static var defaultWorkers: Int { min(8, max(1, onlineCPUs())) }

    /// `proveFailures` off: every set that passes the path-scope filter is walked (for tests
    /// that compare the proof with the plain search). `workers` > 1 walks the variants of a
    /// batch concurrently; the result does not depend on it (`FixSearchReuseTests`).
    public func run(maxChanges: Int, proveFailures: Bool, workers: Int = Self.defaultWorkers) -> Result? {
        guard let baseline = evaluate([]) else { return nil }
        var result = Result(baseline: baseline, fixes: [], evaluated: 1, searchedUpTo: 0, bestPartial: nil)
        if baseline.allWork { return result }
        var relevant: [String: Set<String>] = [:]
        for f in baseline.trace.flows { relevant[f.flow] = relevantNodes(f) }
        // Flows that fail now first, narrowest first: a set that leaves one failing is rejected
        // after one run, and the failure it records rules out the most sets of the next size.
        let failingNames = flowNames.filter { baseline.works[$0] == false }
        let failing = failingNames.enumerated().sorted { a, b in
            let (ca, cb) = (relevant[a.element]?.count ?? 0, relevant[b.element]?.count ?? 0)
            return ca != cb ? ca < cb : a.offset < b.offset
        }.map(\.element)
        let relevantPerFlow = failing.map { relevant[$0] ?? [] }
        let order = failing + flowNames.filter { baseline.works[$0] == true }
        let scope = relevantPerFlow.reduce(into: Set<String>()) { $0.formUnion($1) }
        let cands = candidates(baseTrace: baseline.trace, nodes: scope)
        let candidateNode = cands.map { network.nodeIndex(named: $0.node) ?? -1 }
        let relevantSets = relevantPerFlow.map { names in
            names.reduce(into: NodeSet(count: base.nodes.count)) { set, name in network.nodeIndex(named: name).map { set.insert($0) } }
        }
        // Option = one candidate with one of its alternatives, by id; a set is its ascending ids.
        var optionBase: [Int] = []
        var optionNode: [Int] = []
        for c in cands {
            optionBase.append(optionNode.count)
            optionNode += Array(repeating: candidateNode[optionBase.count - 1], count: c.alternatives.count)
        }
        var optionEdit: [Edit] = []
        for c in cands {
            for v in c.alternatives { optionEdit.append(edit(SettingChange(node: c.node, interface: c.interface, key: c.key, value: v))) }
        }
        // A set of the previous size as one integer (mixed radix over the option ids); the
        // proof is left out if that could overflow (never with the default three changes).
        let radix = optionNode.count + 1
        var prove = proveFailures
        var span = 1
        for _ in 0..<max(0, maxChanges - 1) {
            let (m, overflow) = span.multipliedReportingOverflow(by: radix)
            if overflow { prove = false; break }
            span = m
        }
        func key(_ ids: [Int], without k: Int) -> Int {
            var out = 0
            for (j, id) in ids.enumerated() where j != k { out = out &* radix &+ (id + 1) }
            return out
        }
        // The failure scope of each failing set of the previous size (evaluated or decided).
        var failedBefore: [Int: NodeSet] = [:]
        var bestCount = baseline.works.values.filter { $0 }.count
        var firstWorking: Int?
        var fixSets: [[Int]] = []
        var size = 1
        // Sets to walk, in the order the search meets them. Within one size nothing a walk
        // finds changes which other sets of that size are walked (the fixes that rule out
        // supersets and the failures that decide sets are of smaller sizes), so a batch is
        // walked on `workers` threads and its outcomes are taken in this order: the result is
        // the one a single walker finds.
        var batch: [(ids: [Int], changes: [SettingChange])] = []
        let batchLimit = workers > 1 ? 32 * workers : 1
        while size <= maxChanges, size <= cands.count {
            if let f = firstWorking, size > (f == 1 ? 2 : f) { break }
            result.searchedUpTo = size
            var failedNow: [Int: NodeSet] = [:]
            // Records serve the next size only: none when this size is the last one searched
            // (a fix of one change is shown with the pairs, and the search stops there).
            let last = firstWorking.map { min(maxChanges, $0 == 1 ? 2 : $0) } ?? maxChanges
            let record = prove && size < last
            func walkBatch() {
                let (jobs, edits, relevant, nodeOf) = (batch, optionEdit, relevant, optionNode)
                let outcomes = evaluateConcurrently(jobs.count, workers: workers) { i in
                    evaluate(jobs[i].changes, stopAtFirstFailure: true, baseline: baseline, order: order, relevant: relevant,
                             pruneLegs: true, wantScope: record, edits: jobs[i].ids.map { edits[$0] },
                             nodeIndices: jobs[i].ids.map { nodeOf[$0] })
                }
                for (job, outcome) in zip(batch, outcomes) {
                    result.evaluated += 1
                    guard let o = outcome else { continue }
                    let (ids, changes) = job
                    if o.allWork {
                        // Shown to the user: walked again in full (a lean walk records no steps).
                        result.fixes.append(o.pruned ? evaluate(changes, stopAtFirstFailure: true, baseline: baseline, order: order,
                                                                relevant: relevant, edits: ids.map { optionEdit[$0] }) ?? o : o)
                        fixSets.append(ids)
                        if firstWorking == nil { firstWorking = size }
                    } else {
                        if record, let failed = o.failedScope { failedNow[key(ids, without: -1)] = failed }
                        let n = o.works.values.filter { $0 }.count
                        if n > bestCount {
                            bestCount = n
                            // Shown to the user: walked again without pruning, as it would have been.
                            result.bestPartial = o.pruned
                                ? evaluate(changes, stopAtFirstFailure: true, baseline: baseline, order: order, relevant: relevant) : o
                        }
                    }
                }
                batch.removeAll(keepingCapacity: true)
            }
            forEachCombination(of: cands.count, size: size) { idx in
                // Every failing flow needs a change on a node that can affect it.
                for r in relevantSets where !idx.contains(where: { r.contains(candidateNode[$0]) }) { return }
                forEachChoice(idx.map { cands[$0].alternatives.count }) { choice in
                    let ids = zip(idx, choice).map { optionBase[$0] + $1 }
                    if fixSets.contains(where: { f in f.allSatisfy { ids.contains($0) } }) { return }
                    if prove, size > 1 {
                        for k in 0..<size {
                            if let failed = failedBefore[key(ids, without: k)], !failed.contains(optionNode[ids[k]]) {
                                result.decided += 1
                                if record { failedNow[key(ids, without: -1)] = failed }
                                return
                            }
                        }
                    }
                    let changes = zip(idx, choice).map { i, c in
                        SettingChange(node: cands[i].node, interface: cands[i].interface, key: cands[i].key, value: cands[i].alternatives[c])
                    }
                    batch.append((ids, changes))
                    if batch.count >= batchLimit { walkBatch() }
                }
            }
            if !batch.isEmpty { walkBatch() }
            failedBefore = failedNow
            size += 1
        }
        return result
    }
}

/// A fix with the software work it leaves the lab, as `csumlab fix` and the explorer's `F` list it.
public struct RankedFix: Sendable {
    public var outcome: FixSearch.Outcome
    public var cost: SoftwareWork
    /// Where it works only because a wrong checksum goes unchecked (empty for a sound fix).
    public var unchecked: [UncheckedChecksum]
    public var changes: [SettingChange] { outcome.changes }
}

extension FixSearch.Result {
    /// The fixes ranked: fewest changes, then those that do not rely on a wrong checksum going
    /// unchecked (`UncheckedChecksum`: they would fail through a real NIC), then least checksum
    /// CPU, then fewest segments built in software, then by their text (so equal fixes keep one
    /// order). The cost is computed once.
    public func ranked(bitsPerSecond: Double) -> [RankedFix] {
        fixes.map { RankedFix(outcome: $0, cost: SoftwareWork($0.trace, topology: $0.topology, bitsPerSecond: bitsPerSecond),
                              unchecked: $0.uncheckedChecksums) }
            .sorted { a, b in
                let ka = (a.changes.count, a.unchecked.isEmpty ? 0 : 1, a.cost.totalChecksumCPU, a.cost.totalSegments)
                let kb = (b.changes.count, b.unchecked.isEmpty ? 0 : 1, b.cost.totalChecksumCPU, b.cost.totalSegments)
                if ka != kb { return ka < kb }
                return a.changes.map(\.assignment).joined(separator: " ") < b.changes.map(\.assignment).joined(separator: " ")
            }
    }
}

/// Calls `body` with each `size`-element combination of `0..<n`, in lexicographic order.
func forEachCombination(of n: Int, size: Int, _ body: ([Int]) -> Void) {
    guard size > 0, size <= n else { return }
    var idx = Array(0..<size)
    while true {
        body(idx)
        var i = size - 1
        while i >= 0, idx[i] == n - size + i { i -= 1 }
        if i < 0 { return }
        idx[i] += 1
        for j in (i + 1)..<size { idx[j] = idx[j - 1] + 1 }
    }
}

/// Calls `body` with each choice vector `c` where `c[i] < counts[i]`.
func forEachChoice(_ counts: [Int], _ body: ([Int]) -> Void) {
    var c = Array(repeating: 0, count: counts.count)
    while true {
        body(c)
        var i = counts.count - 1
        while i >= 0 {
            c[i] += 1
            if c[i] < counts[i] { break }
            c[i] = 0
            i -= 1
        }
        if i < 0 { return }
    }
}

/// The structural bases one search has made, shared by its walkers (`FixSearch.makeStructuralBase`).
/// Why: a router's flavour change rebuilt and re-validated the whole lab in every variant that
/// contained it, which cost a structural variant several plain ones.
final class StructuralBases: Sendable {
    struct Base: Sendable {
        /// false: every variant with these changes is invalid; nil: validate each in full.
        var valid: Bool?
        var network: Network?
        var legPlans: [String: Simulator.LegPlan]?
    }

    private let bases = Mutex<[[SettingChange]: Base]>([:])

    /// The base for `key`, made once (two walkers may both make it; either result is the same).
    func base(for key: [SettingChange], make: () -> Base) -> Base {
        if let b = bases.withLock({ $0[key] }) { return b }
        let b = make()
        bases.withLock { $0[key] = b }
        return b
    }
}
