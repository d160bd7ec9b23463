import Lessons
import Simulation
import TopologyFile

/// The whole explorer, as three parts that change for different reasons:
/// - `document`: the lab (as last saved, the user's edits and toggles on top, the topology and
///   trace they give) with its undo history;
/// - `view`: where the user is (flow, step, selected node, pane, playback), which undo does not
///   touch;
/// - feedback: the open overlay, the last message, the fixes found.
///
/// A value; actions (`perform`) return a new state and never touch a terminal. What each key
/// does is decided by the controller of the active context (`Controllers/`).
public struct ExplorerState: Sendable {
    public var document: LabDocument
    public var view: ViewState
    public var overlay: Overlay?
    /// What the last action did, for the status bar.
    public var message: String?
    /// Steps (flat indices in the current flow) that differ from the lab as last saved.
    public private(set) var changedSteps: Set<Int> = []
    /// Nodes that differ from the lab as last saved, or whose steps do (the `*` mark).
    public private(set) var changedNodes: Set<String> = []
    public internal(set) var quitRequested = false
    /// The `csumlab trace` line to print on exit (`y`).
    public internal(set) var printOnExit: [String] = []
    /// The fixes found when `F` was last pressed, smallest first, then cheapest.
    public internal(set) var fixes: [RankedFix] = []
    /// The toggles and flow `fixes` were found for (`F` again without a change reuses them).
    var fixesFor: (revision: LabDocument.Revision, flow: String)?
    /// Reads and writes lab files for `w`, `W`, `O` and the recovery file; nil in tests that
    /// never save.
    public var storage: (any LabStorage)?
    /// The labs `O` lists (filled when the browser opens).
    public internal(set) var browserEntries: [LabEntry] = []
    /// The lesson being followed, if any (`csumlab lesson NAME`, or `L`).
    public internal(set) var lesson: LessonSession?
    /// The fix under the cursor in the fixes list, applied for a look (see `FixPreview`).
    public internal(set) var preview: FixPreview?
    /// The lessons `L` lists, and each one's progress in words (read once, when the list opens).
    public internal(set) var lessonEntries: [LessonEntry] = []
    var lessonProgress: [String: String] = [:]
    /// What `x` offers for the selected node, each with the validator's refusal if it has one
    /// (filled when the list opens: the lab cannot change while it is open).
    public internal(set) var linkChoices: [LinkChoice] = []

    /// Milliseconds between steps while playing, for each speed.
    public static let playIntervals = [2000, 1000, 500, 250, 100]

    /// Throws only for a topology that did not pass validation.
    public init(topology: Topology, fileLabel: String) throws(SimulationError) {
        try self.init(document: LabDocument(structure: topology, path: nil, label: fileLabel))
    }

    public init(document: LabDocument, storage: (any LabStorage)? = nil) {
        self.document = document
        self.storage = storage
        let t = document.topology
        var first = t.flows.first?.from ?? t.nodes.first?.name ?? ""
        if t.node(named: first) == nil { first = t.nodes.first?.name ?? "" }
        view = ViewState(selectedNode: first)
        refreshMarks()
    }

    /// A state over a trace already simulated (or, in tests, cut down to shapes a file cannot
    /// produce: a flow without packets, a packet without steps).
    init(topology: Topology, trace: Trace, fileLabel: String) {
        self.init(document: LabDocument(topology: topology, trace: trace, label: fileLabel))
    }

    // MARK: The document, for the views

    /// The lab and trace the views show: the document's, or while a fix is previewed in the
    /// fixes list (`F`), the lab with that fix applied (nothing committed).
    public var topology: Topology { activePreview?.topology ?? document.topology }
    public var trace: Trace { activePreview?.trace ?? document.trace }

    /// The preview counts only while the fixes list is open: whatever closes it (a key, a test
    /// setting `overlay`) ends the preview with it.
    var activePreview: FixPreview? {
        if case .fixes? = overlay { return preview }
        return nil
    }
    /// Toggles made since the lab was last saved, as `--set` assignments.
    public var assignments: [String] { document.toggles }
    public var fileLabel: String { document.label }

    // MARK: The view, for the views

    public var flowIndex: Int {
        get { view.flowIndex }
        set { view.flowIndex = newValue }
    }
    public var position: Int { view.position }
    public var selectedNode: String { view.selectedNode }
    public var focus: Pane {
        get { view.focus }
        set { view.focus = newValue }
    }
    public var playing: Bool { view.playing }
    public var speedIndex: Int { view.speedIndex }
    public var graphFollowsSelection: Bool { view.graphFollowsSelection }
    public var detailScroll: Int {
        get { view.detailScroll }
        set { view.detailScroll = newValue }
    }
    public var graphPan: (x: Int, y: Int) { view.graphPan }
    public var hexScroll: Int? {
        get { view.hexScroll }
        set { view.hexScroll = newValue }
    }
    public var lastSearch: String { view.lastSearch }

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

    // MARK: Input

    public mutating func handle(_ event: InputEvent, hits: [HitRegion] = []) {
        // A fix preview whose list was closed without its keys: the marks and cursor go back.
        if preview != nil && activePreview == nil { FixesController.endPreview(&self) }
        switch event {
        case let .key(k):
            if let a = Bindings.action(for: k, in: self) {
                perform(a)
            } else if overlay == nil {
                message = "unknown key \(k) — ? for help"
            }
        case let .click(x, y):
            if overlay != nil { return }
            if let h = hits.last(where: { $0.rect.contains(x: x, y: y) }) { perform(h.action) }
        case let .wheel(x, y, down):
            if let o = overlay {
                switch o.context {
                case .menu, .flows, .chooser, .fixes: perform(down ? .menuDown : .menuUp)
                case .help, .commands: perform(down ? .scrollDown : .scrollUp)
                default: break
                }
                return
            }
            let pane = hits.lazy.compactMap { h -> Pane? in
                if case let .focusPane(p) = h.action, h.rect.contains(x: x, y: y) { return p }
                return nil
            }.first
            guard let pane else { return }
            switch pane {
            case .steps: perform(down ? .nextStep : .previousStep)
            case .graph: perform(down ? .panDown : .panUp)
            case .detail, .hex:
                focus = pane
                perform(down ? .scrollDown : .scrollUp)
            }
        case .tick:
            guard playing else { return }
            if position + 1 < steps.count { setPosition(position + 1) } else { view.playing = false; message = "end of the flow" }
        }
    }

    /// Hand the action to the controller of the active context.
    public mutating func perform(_ a: Action) {
        switch overlay?.context {
        case nil: MainController.perform(a, on: &self)
        case .menu?: MenuController.perform(a, on: &self)
        case .flows?: FlowsController.perform(a, on: &self)
        case .chooser?: ChooserController.perform(a, on: &self)
        case .help?, .commands?: ScrollController.perform(a, on: &self)
        case .search?: SearchController.perform(a, on: &self)
        case .fixes?: FixesController.perform(a, on: &self)
        case .confirm?: ConfirmController.perform(a, on: &self)
        case .form?: FormController.perform(a, on: &self)
        case .answer?: LessonController.perform(a, on: &self)
        case .lesson?, .global?, .graph?, .steps?, .detail?, .hex?: MainController.perform(a, on: &self)
        }
    }

    // MARK: View moves

    mutating func setPosition(_ p: Int) {
        let n = steps.count
        view.position = n == 0 ? 0 : min(max(p, 0), n - 1)
        view.graphFollowsSelection = false
        view.graphPan = (0, 0)
        view.detailScroll = 0
        view.hexScroll = nil
    }

    mutating func select(node n: String) {
        view.selectedNode = n
        view.graphFollowsSelection = true
        view.graphPan = (0, 0)
    }

    /// What the status bar says when there is nothing to step through.
    static let noFlows = "no flows in this lab: press f then a to add one (or add one under flows: in the file)"

    /// Why stepping, playing or searching does nothing.
    var nothingToStep: String { flow == nil ? Self.noFlows : "this flow has no steps" }

    // MARK: Changing the lab

    /// Commit a new revision of the lab; on success re-lay the view over the new trace and say
    /// what changed. Returns the validator's reason when it refuses (also put in the status
    /// bar), nil when the lab changed.
    @discardableResult
    mutating func change(to next: LabDocument.Revision, described: String) -> String? {
        let old = captureView()
        do {
            try document.commit(next, label: described)
        } catch {
            message = "\(described): not possible here — \(error.message)"
            return error.message
        }
        settle(after: old, described: described)
        return nil
    }

    /// Undo (`u`) or redo (Ctrl-R) and say what.
    mutating func undo(_ redo: Bool) {
        let old = captureView()
        let label = redo ? document.redo() : document.undo()
        guard let label else {
            message = redo ? "nothing to redo" : "nothing to undo"
            return
        }
        settle(after: old, described: (redo ? "redone: " : "undone: ") + label)
    }

    /// What the view was on before a change, to find the same hop after it.
    struct ViewAnchor {
        var flow: FlowTrace?
        var step: Step?
        var ref: StepRef?
        var devices: [DeviceFeatures]
    }

    func captureView() -> ViewAnchor {
        ViewAnchor(flow: flow, step: currentStep, ref: current, devices: trace.devices)
    }

    /// After the lab changed: the same flow, the same hop (leg, element, function), a node that
    /// still exists, fresh marks, and a message that says what the change did to the flow.
    mutating func settle(after old: ViewAnchor, described: String) {
        // Last, after the message below: an open lesson task is measured on the new lab.
        defer { LessonController.labChanged(&self) }
        let oldFlowName = old.flow?.flow
        if let name = oldFlowName, let i = trace.flows.firstIndex(where: { $0.flow == name }) { view.flowIndex = i } else { view.flowIndex = 0 }
        let follow = view.graphFollowsSelection
        setPosition(Self.sameHop(old.ref, old.step, in: flow, fallback: position))
        view.graphFollowsSelection = follow
        if topology.node(named: view.selectedNode) == nil {
            view.selectedNode = flow?.from ?? topology.nodes.first?.name ?? ""
            if topology.node(named: view.selectedNode) == nil { view.selectedNode = topology.nodes.first?.name ?? "" }
        }
        refreshMarks()
        var parts = [described]
        let dependent = Self.newAdjustments(old: old.devices, new: trace.devices)
        if !dependent.isEmpty { parts.append("⇒ " + dependent.joined(separator: ", ")) }
        let errors = document.current.materialized().errors
        message = parts.joined(separator: " ") + ": " + Self.verdictChange(old: old.flow, new: flow) + (errors.isEmpty ? "" : " (" + errors.joined(separator: "; ") + ")")
    }

    /// The flat index in `flow` of the step that is the same hop as `step` was (same packet,
    /// element, interface and function), nearest the old place; else the old number.
    static func sameHop(_ ref: StepRef?, _ step: Step?, in flow: FlowTrace?, fallback: Int) -> Int {
        guard let ref, let step, let flow, flow.legs.indices.contains(ref.leg) else { return fallback }
        var flatStart = 0
        for l in flow.legs.prefix(ref.leg) { flatStart += l.steps.count }
        let leg = flow.legs[ref.leg].steps
        func best(_ match: (Step) -> Bool) -> Int? {
            leg.indices.filter { match(leg[$0]) }.min { abs($0 - ref.step) < abs($1 - ref.step) }
        }
        if let i = best({ $0.element == step.element && $0.interface == step.interface && $0.function == step.function })
            ?? best({ $0.element == step.element && $0.interface == step.interface })
            ?? best({ $0.element == step.element }) {
            return flatStart + i
        }
        return fallback
    }

    /// Mark the steps and nodes of the current flow that differ from `before` (a fix preview).
    mutating func markChanges(from before: FlowTrace?) {
        changedSteps = Self.changed(old: before, new: flow)
        changedNodes = nodesOfChangedSteps
    }

    /// The elements of the current flow's steps marked changed.
    var nodesOfChangedSteps: Set<String> {
        guard let f = flow else { return [] }
        var nodes = Set<String>()
        for (i, ref) in steps.enumerated() where changedSteps.contains(i) { nodes.insert(f.legs[ref.leg].steps[ref.step].element) }
        return nodes
    }

    /// `*` marks: what differs from the lab as last saved.
    mutating func refreshMarks() {
        let savedFlow = document.savedTrace.flows.first { $0.flow == flow?.flow }
        changedSteps = document.current == document.saved ? [] : Self.changed(old: savedFlow, new: flow)
        var nodes = Set<String>()
        if document.current != document.saved {
            let saved = document.saved.structure
            let savedIndex = saved.nodeIndexesByName()
            for n in topology.nodes where savedIndex[n.name].map({ saved.nodes[$0] }) != n { nodes.insert(n.name) }
            nodes.formUnion(nodesOfChangedSteps)
        }
        let present = topology.nodeIndexesByName()
        changedNodes = nodes.filter { present[$0] != nil }
    }

    static func newAdjustments(old: [DeviceFeatures], new: [DeviceFeatures]) -> [String] {
        var out: [String] = []
        var byName: [String: DeviceFeatures] = [:]
        for d in old where byName[d.device] == nil { byName[d.device] = d }
        for d in new {
            let before = Set(byName[d.device]?.adjustments.map(\.feature) ?? [])
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
                } else {
                    out.insert(flat)
                }
                flat += 1
            }
        }
        return out
    }
}


extension ExplorerState {
    /// The lab as a file would hold it now (toggles folded in, canonical layout).
    public var fileText: String { FileController.text(self) }

    /// At start: offer back an unsaved lab that a signal or a crash left for this file.
    public mutating func offerRecovery() { FileController.offerRecovery(&self) }

    /// When the user cannot be asked (a signal, a typed Ctrl-C): keep unsaved changes in the
    /// recovery store. Returns what to print once the terminal is restored.
    public func keepUnsavedChanges() -> String? { FileController.writeRecovery(self) }

    /// `csumlab explore DIR`: open the lab browser on a directory's labs (and the shipped ones).
    public mutating func browse(directory: String) {
        guard let storage else { return }
        var entries = storage.labs(in: directory)
        for e in storage.labs(in: nil) where !entries.contains(where: { $0.path == e.path }) { entries.append(e) }
        browserEntries = entries
        if entries.isEmpty { message = "no labs in \(directory)"; return }
        overlay = .browser(selected: 0)
    }
}
