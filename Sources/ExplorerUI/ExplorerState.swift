import Simulation
import TopologyFile

/// A modal box over the main screen.
public enum Overlay: Sendable, Hashable {
    /// Settings of a node; `selected` indexes `SettingItem.items`.
    case menu(node: String, selected: Int)
    case flows(selected: Int)
    case kernels(selected: Int)
    case help(scroll: Int)
    case commands(scroll: Int)
    case search(text: String)
    /// The fixes `csumlab fix` finds for the current flow (`F`); Enter applies one.
    case fixes(selected: Int)

    var context: BindingContext {
        switch self {
        case .menu: return .menu
        case .flows, .kernels: return .chooser
        case .help: return .help
        case .commands: return .commands
        case .search: return .search
        case .fixes: return .fixes
        }
    }
}

/// One step of the current flow, addressed by packet (leg) and step within it.
public struct StepRef: Sendable, Hashable {
    public var leg: Int
    public var step: Int

    public init(leg: Int, step: Int) {
        self.leg = leg
        self.step = step
    }
}

/// The whole explorer: the topology as loaded, the toggles on top of it, the trace they give, and
/// where the user is. A value; actions (`perform`) return a new state and never touch a terminal.
public struct ExplorerState: Sendable {
    /// The topology as the file wrote it.
    public let base: Topology
    /// How the user named the file (for the `csumlab trace` line).
    public let fileLabel: String
    /// Toggles as `--set` assignments, in the order made; one per setting.
    public private(set) var assignments: [String] = []
    public private(set) var topology: Topology
    public private(set) var trace: Trace
    /// The trace of the file as written (to tell whether a toggle restores it).
    let baseTrace: Trace

    public var flowIndex = 0
    /// Index into `steps` of the current flow.
    public private(set) var position = 0
    public private(set) var selectedNode: String
    public var focus: Pane = .graph
    public var overlay: Overlay?
    public private(set) var playing = false
    public private(set) var speedIndex = 2
    /// What the last action did, for the status bar.
    public var message: String?
    /// Steps (flat indices in the current flow) whose state changed with the last toggle.
    public private(set) var changedSteps: Set<Int> = []
    /// Follow the current hop or the selected node when the graph is wider than its pane.
    public private(set) var graphFollowsSelection = false
    public var detailScroll = 0
    /// Manual pan of the graph (columns, rows) on top of following the current hop; reset when
    /// the position or the selection moves.
    public private(set) var graphPan = (x: 0, y: 0)
    public var hexScroll: Int?
    public private(set) var lastSearch = ""
    public private(set) var quitRequested = false
    /// The fixes found when `F` was last pressed, smallest first, then cheapest.
    public private(set) var fixes: [RankedFix] = []
    /// The toggles and flow `fixes` were found for (`F` again without a change reuses them).
    var fixesFor: (assignments: [String], flow: String)?

    /// Milliseconds between steps while playing, for each speed.
    public static let playIntervals = [2000, 1000, 500, 250, 100]

    /// Throws only for a topology that did not pass validation.
    public init(topology: Topology, fileLabel: String) throws(SimulationError) {
        self.init(topology: topology, trace: try Simulator(topology).run(), fileLabel: fileLabel)
    }

    /// A state over a trace already simulated (or, in tests, cut down to shapes a file cannot
    /// produce: a flow without packets, a packet without steps).
    init(topology: Topology, trace: Trace, fileLabel: String) {
        base = topology
        self.fileLabel = fileLabel
        self.topology = topology
        self.trace = trace
        baseTrace = trace
        selectedNode = topology.flows.first?.from ?? topology.nodes.first?.name ?? ""
        if topology.node(named: selectedNode) == nil { selectedNode = topology.nodes.first?.name ?? "" }
    }

    // MARK: Derived

    public var flow: FlowTrace? { trace.flows.indices.contains(flowIndex) ? trace.flows[flowIndex] : nil }

    /// Every step of the current flow, packet after packet.
    public var steps: [StepRef] {
        guard let f = flow else { return [] }
        var out: [StepRef] = []
        for (li, leg) in f.legs.enumerated() { for si in leg.steps.indices { out.append(StepRef(leg: li, step: si)) } }
        return out
    }

    public var current: StepRef? {
        let s = steps
        return s.indices.contains(position) ? s[position] : nil
    }

    public func step(_ r: StepRef) -> Step? {
        guard let f = flow, f.legs.indices.contains(r.leg), f.legs[r.leg].steps.indices.contains(r.step) else { return nil }
        return f.legs[r.leg].steps[r.step]
    }

    public var currentStep: Step? { current.flatMap(step) }

    public var playInterval: Int { Self.playIntervals[speedIndex] }

    /// Nodes in the order the current flow first reaches them, then the rest in file order.
    public var nodeOrder: [String] {
        var seen = Set<String>()
        var out: [String] = []
        if let f = flow {
            for leg in f.legs { for s in leg.steps where !seen.contains(s.element) && topology.node(named: s.element) != nil {
                seen.insert(s.element)
                out.append(s.element)
            } }
        }
        for n in topology.nodes where !seen.contains(n.name) { out.append(n.name) }
        return out
    }

    public var menuItems: [SettingItem] {
        guard case let .menu(node, _) = overlay else { return [] }
        return SettingItem.items(for: node, topology: topology, trace: trace)
    }

    // MARK: Actions

    public mutating func handle(_ event: InputEvent, hits: [HitRegion] = []) {
        switch event {
        case let .key(k):
            if let a = Bindings.action(for: k, in: self) { perform(a) }
        case let .click(x, y):
            if overlay != nil { return }
            if let h = hits.last(where: { $0.rect.contains(x: x, y: y) }) { perform(h.action) }
        case .tick:
            guard playing else { return }
            if position + 1 < steps.count { setPosition(position + 1) } else { playing = false; message = "end of the flow" }
        }
    }

    public mutating func perform(_ a: Action) {
        switch a {
        case .nextStep: setPosition(position + 1)
        case .previousStep: setPosition(position - 1)
        case .firstStep: setPosition(0)
        case .lastStep: setPosition(steps.count - 1)
        case .pageDown: setPosition(position + 10)
        case .pageUp: setPosition(position - 10)
        case .jumpToStep(let i): setPosition(i); focus = .steps
        case .togglePlay:
            guard playing || !steps.isEmpty else { message = nothingToStep; return }
            playing.toggle()
            if playing && position + 1 >= steps.count { setPosition(0) }
            message = playing ? "playing (\(playInterval) ms a step; +/- to change)" : "paused"
        case .faster:
            speedIndex = min(speedIndex + 1, Self.playIntervals.count - 1)
            message = "\(playInterval) ms a step"
        case .slower:
            speedIndex = max(speedIndex - 1, 0)
            message = "\(playInterval) ms a step"
        case .nextNode: moveSelection(+1)
        case .previousNode: moveSelection(-1)
        case .selectNode(let n):
            selectedNode = n
            graphFollowsSelection = true
            focus = .graph
        case .nextPane: cyclePane(+1)
        case .previousPane: cyclePane(-1)
        case .openOptions:
            guard topology.node(named: selectedNode) != nil else { message = "this lab has no nodes to set"; return }
            overlay = .menu(node: selectedNode, selected: 0)
            if menuItems.isEmpty { overlay = nil; message = "\(selectedNode) has no settings to toggle" }
        case .openCommands: overlay = .commands(scroll: 0)
        case .openHelp: overlay = .help(scroll: 0)
        case .openFlows:
            guard !trace.flows.isEmpty else { message = Self.noFlows; return }
            overlay = .flows(selected: min(flowIndex, trace.flows.count - 1))
        case .openKernels: overlay = .kernels(selected: KernelProfile.allCases.firstIndex(of: topology.hostKernel) ?? 0)
        case .openSearch: overlay = .search(text: "")
        case .openFixes: openFixes()
        case .searchNext: search(lastSearch)
        case .resetToggles:
            let had = !assignments.isEmpty
            assignments = []
            rerun(described: had ? "reset to the file's settings" : "nothing to reset")
        case .quit: quitRequested = true
        case .scrollDown, .scrollUp: scroll(a == .scrollDown ? 1 : -1)
        case .panLeft: graphPan.x -= 10
        case .panRight: graphPan.x += 10
        case .panUp: graphPan.y -= 3
        case .panDown: graphPan.y += 3
        case .closeOverlay: overlay = nil
        case .menuUp, .menuDown: moveMenu(a == .menuDown ? 1 : -1)
        case .menuActivate: activate()
        case .searchType(let c):
            if case let .search(t) = overlay { overlay = .search(text: t + String(c)) }
        case .searchBackspace:
            if case let .search(t) = overlay { overlay = .search(text: String(t.dropLast())) }
        case .searchSubmit:
            if case let .search(t) = overlay {
                overlay = nil
                lastSearch = t
                search(t)
            }
        }
    }

    mutating func setPosition(_ p: Int) {
        let n = steps.count
        position = n == 0 ? 0 : min(max(p, 0), n - 1)
        graphFollowsSelection = false
        graphPan = (0, 0)
        detailScroll = 0
        hexScroll = nil
    }

    mutating func moveSelection(_ d: Int) {
        let order = nodeOrder
        guard !order.isEmpty else { return }
        let i = order.firstIndex(of: selectedNode) ?? 0
        selectedNode = order[(i + d + order.count) % order.count]
        graphFollowsSelection = true
        graphPan = (0, 0)
    }

    mutating func cyclePane(_ d: Int) {
        let all = Pane.allCases
        let i = all.firstIndex(of: focus) ?? 0
        focus = all[(i + d + all.count) % all.count]
    }

    mutating func scroll(_ d: Int) {
        switch overlay {
        case let .help(s): overlay = .help(scroll: max(0, s + d))
        case let .commands(s): overlay = .commands(scroll: max(0, s + d))
        default:
            if focus == .detail { detailScroll = max(0, detailScroll + d) }
            if focus == .hex { hexScroll = max(0, (hexScroll ?? 0) + d) }
        }
    }

    mutating func moveMenu(_ d: Int) {
        switch overlay {
        case let .menu(node, s):
            let n = menuItems.count
            overlay = .menu(node: node, selected: n == 0 ? 0 : (s + d + n) % n)
        case let .flows(s):
            let n = trace.flows.count
            overlay = .flows(selected: n == 0 ? 0 : (s + d + n) % n)
        case let .kernels(s):
            let n = KernelProfile.allCases.count
            overlay = .kernels(selected: (s + d + n) % n)
        case let .fixes(s):
            let n = fixes.count
            overlay = .fixes(selected: n == 0 ? 0 : (s + d + n) % n)
        default: break
        }
    }

    mutating func activate() {
        switch overlay {
        case let .menu(_, s):
            let items = menuItems
            guard items.indices.contains(s) else { return }
            let item = items[s]
            guard let next = item.next else {
                message = "\(item.label): \(item.disabled ?? "cannot be changed here")"
                return
            }
            let original = SettingItem.items(for: item.node, topology: base, trace: baseTrace)
                .first { $0.interface == item.interface && $0.key == item.key }?.value
            setAssignment(item.assignment(next), key: item.assignment(""), restoresFile: original == next,
                          described: "\(item.node)\(item.interface.map { ".\($0)" } ?? "") \(item.key)=\(next)")
            // The list can change shape (a router that becomes a VM gains NIC features): keep
            // the same setting selected.
            if let i = menuItems.firstIndex(where: { $0.interface == item.interface && $0.key == item.key }) {
                overlay = .menu(node: item.node, selected: i)
            }
        case let .flows(s):
            overlay = nil
            guard trace.flows.indices.contains(s) else { return }
            flowIndex = s
            changedSteps = []
            setPosition(0)
            let f = trace.flows[s]
            message = "flow \(f.flow): \(f.verdict.summary)"
        case let .kernels(s):
            overlay = nil
            guard KernelProfile.allCases.indices.contains(s) else { return }
            let k = KernelProfile.allCases[s]
            setAssignment("kernel=\(k.rawValue)", key: "kernel=", restoresFile: k == base.hostKernel, described: "host kernel \(k.rawValue)")
        case let .fixes(s):
            overlay = nil
            guard fixes.indices.contains(s) else { return }
            let changes = fixes[s].changes
            setAssignments(changes.map { ($0.assignment, $0.setting + "=") },
                           described: "fix \(s + 1): " + changes.map(\.assignment).joined(separator: ", "))
        default: break
        }
    }

    /// Search the toggles that make the current flow work (as `csumlab fix --flow` does, on the
    /// lab with the current toggles) and list them.
    mutating func openFixes() {
        guard let f = flow else { message = "no flows in this lab: nothing to fix"; return }
        if f.verdict.completes && !f.verdict.corruptedData && topology.flows.first(where: { $0.name == f.flow })?.corruptAfter == nil {
            message = "flow \(f.flow) already works: nothing to fix"
            return
        }
        if let k = fixesFor, k.assignments == assignments, k.flow == f.flow, !fixes.isEmpty {
            overlay = .fixes(selected: 0)
            return
        }
        let label = fileLabel
        guard let search = try? FixSearch(topology, flow: f.flow, problems: { TopologyFile.validate($0, file: label).map(\.message) }),
              let result = search.run(maxChanges: 3) else {
            message = "the fix search cannot run on this lab"
            return
        }
        if result.baseline.allWork { message = "flow \(f.flow) already works: nothing to fix"; return }
        fixesFor = (assignments, f.flow)
        fixes = result.ranked(bitsPerSecond: 1e9)
        if fixes.isEmpty {
            message = "no set of up to 3 changes makes flow \(f.flow) work (\(result.evaluated) tried)"
            return
        }
        overlay = .fixes(selected: 0)
        message = nil
    }

    /// Apply several toggles as one change (a fix), replacing earlier values of the same settings.
    mutating func setAssignments(_ list: [(assignment: String, key: String)], described: String) {
        var candidate = assignments
        for (a, key) in list {
            candidate.removeAll { $0.hasPrefix(key) }
            candidate.append(a)
        }
        var t = base
        for x in candidate { try? t.apply(assignment: x) }
        if let problem = TopologyFile.validate(t, file: fileLabel).first {
            message = "\(described): not possible here — \(problem.message)"
            return
        }
        assignments = candidate
        rerun(described: described)
    }

    /// Replace any earlier assignment of the same setting, drop it if it restores the file's
    /// value, and re-run the simulation.
    mutating func setAssignment(_ a: String, key: String, restoresFile: Bool, described: String) {
        var candidate = assignments
        candidate.removeAll { $0.hasPrefix(key) }
        if !restoresFile { candidate.append(a) }
        // A toggle may describe a lab that cannot exist (a router flavour whose interfaces no
        // longer fit its links): refuse it with the reason instead of simulating nonsense.
        var t = base
        for x in candidate { try? t.apply(assignment: x) }
        if let problem = TopologyFile.validate(t, file: fileLabel).first {
            message = "\(described): not possible here — \(problem.message)"
            return
        }
        assignments = candidate
        rerun(described: described)
    }

    /// Build the topology from the file plus the toggles, simulate, and say what changed.
    mutating func rerun(described: String) {
        var t = base
        var errors: [String] = []
        for a in assignments {
            do { try t.apply(assignment: a) } catch { errors.append(error.message) }
        }
        guard let newTrace = try? Simulator(t).run() else {
            message = "\(described): the simulation cannot run this topology"
            return
        }
        let oldTrace = trace
        let oldFlowName = flow?.flow
        let oldDevices = trace.devices
        topology = t
        trace = newTrace
        if let name = oldFlowName, let i = trace.flows.firstIndex(where: { $0.flow == name }) { flowIndex = i } else { flowIndex = 0 }
        let oldFlow = oldTrace.flows.first { $0.flow == oldFlowName }
        changedSteps = Self.changed(old: oldFlow, new: flow)
        let follow = graphFollowsSelection
        setPosition(position)
        graphFollowsSelection = follow
        var parts = [described]
        let dependent = Self.newAdjustments(old: oldDevices, new: trace.devices)
        if !dependent.isEmpty { parts.append("⇒ " + dependent.joined(separator: ", ")) }
        message = parts.joined(separator: " ") + ": " + Self.verdictChange(old: oldFlow, new: flow) + (errors.isEmpty ? "" : " (" + errors.joined(separator: "; ") + ")")
    }

    static func newAdjustments(old: [DeviceFeatures], new: [DeviceFeatures]) -> [String] {
        var out: [String] = []
        for d in new {
            let before = Set(old.first { $0.device == d.device }?.adjustments.map(\.feature) ?? [])
            for a in d.adjustments where !before.contains(a.feature) { out.append("\(d.device) \(a.feature.shortName) off") }
        }
        return out
    }

    /// "connection now completes", "still fails, now at SYN-ACK"…
    static func verdictChange(old: FlowTrace?, new: FlowTrace?) -> String {
        guard let new else { return "no flow" }
        let what = new.verdict.summary.split(separator: " ").first.map(String.init) ?? "flow"
        guard let old else { return new.verdict.summary }
        switch (old.verdict.completes, new.verdict.completes) {
        case (false, true): return "\(what) now completes" + (new.verdict.corruptedData ? " (with corrupted data)" : "")
        case (true, false): return "\(what) now fails at \(new.verdict.failedLeg ?? "?")"
        case (true, true):
            if old.verdict.corruptedData != new.verdict.corruptedData {
                return new.verdict.corruptedData ? "\(what) completes, now with corrupted data" : "\(what) completes, data no longer corrupted"
            }
            return "\(what) still completes"
        case (false, false):
            if old.verdict.failedLeg != new.verdict.failedLeg { return "\(what) still fails, now at \(new.verdict.failedLeg ?? "?")" }
            return "\(what) still fails at \(new.verdict.failedLeg ?? "?")"
        }
    }

    /// Flat indices of steps that differ from the step at the same place in the old trace.
    static func changed(old: FlowTrace?, new: FlowTrace?) -> Set<Int> {
        guard let new else { return [] }
        var out = Set<Int>()
        var flat = 0
        for (li, leg) in new.legs.enumerated() {
            let oldLeg = old.flatMap { o in o.legs.indices.contains(li) ? o.legs[li] : nil }
            for (si, s) in leg.steps.enumerated() {
                if let o = oldLeg, o.steps.indices.contains(si) {
                    let p = o.steps[si]
                    if p.element != s.element || p.function != s.function || p.after != s.after || p.before != s.before
                        || p.l4Field != s.l4Field || p.condition != s.condition || p.drop != s.drop || p.frame != s.frame {
                        out.insert(flat)
                    }
                } else if old != nil {
                    out.insert(flat)
                }
                flat += 1
            }
        }
        return out
    }

    /// What the status bar says when there is nothing to step through.
    static let noFlows = "no flows in this lab: add one under flows: in the file to trace a packet"

    /// Why stepping, playing or searching does nothing.
    var nothingToStep: String { flow == nil ? Self.noFlows : "this flow has no steps" }

    mutating func search(_ text: String) {
        guard !text.isEmpty else { return }
        let all = steps
        // An empty lab, or a flow without steps: nothing to look through (and no index to take
        // modulo of).
        guard !all.isEmpty else {
            message = "/\(text): \(nothingToStep)"
            return
        }
        let needle = text.lowercased()
        for k in 1...all.count {
            let i = (position + k) % all.count
            guard let s = step(all[i]) else { continue }
            let hay = [s.element, s.interface ?? "", s.function, s.explanation, s.before.summary, s.after.summary].joined(separator: " ").lowercased()
            if hay.contains(needle) {
                setPosition(i)
                message = "/\(text): step \(i + 1)"
                return
            }
        }
        message = "/\(text): no step matches"
    }
}
