@testable import ExplorerUI
import Simulation
import Testing
import TestSupport
import TopologyFile

/// Labs at the edges of what the explorer shows: nothing at all, nodes but no flows, nodes
/// without interfaces, and flows whose packets have no steps (a file cannot produce those, so
/// they are cut out of a real trace), next to an ordinary lab.
enum EdgeLab: String, CaseIterable, CustomTestStringConvertible {
    case empty, oneBridge, bareNodes, stepless, ordinary

    var testDescription: String { rawValue }

    func state() throws -> ExplorerState {
        switch self {
        case .empty: return try Self.load("csumlab: 1\nnodes: {}\n")
        case .oneBridge: return try Self.load("csumlab: 1\nnodes:\n  br0: {kind: bridge}\n")
        case .bareNodes:
            return try Self.load("csumlab: 1\nnodes:\n  vm1: {kind: vm}\n  ns1: {kind: netns}\n  br0: {kind: bridge}\n  tap1: {kind: tap}\n  r1: {kind: router}\n")
        case .stepless:
            // The default lab's trace with the first flow's packets emptied and the second
            // flow's packets gone.
            let s = try defaultState()
            var trace = s.trace
            for i in trace.flows[0].legs.indices { trace.flows[0].legs[i].steps = [] }
            trace.flows[1].legs = []
            return ExplorerState(topology: s.topology, trace: trace, fileLabel: "stepless")
        case .ordinary: return try defaultState()
        }
    }

    static func load(_ text: String) throws -> ExplorerState {
        let loaded = try TopologyFile.parse(text, file: "edge.yaml")
        return try ExplorerState(topology: loaded.topology, fileLabel: "edge.yaml")
    }
}

/// Render at sizes from roomy to nothing and check what must always hold.
func expectSane(_ s: ExplorerState, _ context: String, sourceLocation: SourceLocation = #_sourceLocation) {
    let n = s.steps.count
    #expect(n == 0 ? s.position == 0 : (0..<n).contains(s.position), "position \(s.position) of \(n) after \(context)", sourceLocation: sourceLocation)
    if s.trace.flows.isEmpty {
        #expect(s.flow == nil, sourceLocation: sourceLocation)
    } else {
        #expect(s.trace.flows.indices.contains(s.flowIndex), "flow \(s.flowIndex) after \(context)", sourceLocation: sourceLocation)
    }
    if s.topology.nodes.isEmpty {
        #expect(s.selectedNode == "", sourceLocation: sourceLocation)
    } else {
        #expect(s.topology.node(named: s.selectedNode) != nil, "selected \(s.selectedNode) after \(context)", sourceLocation: sourceLocation)
    }
    switch s.overlay {
    case let .menu(_, sel)?:
        // Empty only when forced open on a node without settings (the key refuses to open it).
        #expect(s.menuItems.isEmpty ? sel == 0 : s.menuItems.indices.contains(sel), "menu selection \(sel) of \(s.menuItems.count) after \(context)", sourceLocation: sourceLocation)
    case let .flows(sel)?:
        #expect(s.trace.flows.isEmpty ? sel == 0 : s.trace.flows.indices.contains(sel), "flow chooser at \(sel) after \(context)", sourceLocation: sourceLocation)
    case let .kernels(sel)?:
        #expect(KernelProfile.allCases.indices.contains(sel), sourceLocation: sourceLocation)
    default:
        break
    }
    for (w, h) in [(120, 40), (80, 24), (64, 18), (63, 17), (30, 8), (1, 1), (0, 0)] {
        let f = Screen.render(s, width: w, height: h)
        #expect(f.canvas.width == w && f.canvas.height == h, sourceLocation: sourceLocation)
        for hit in f.hits {
            #expect(hit.rect.x >= 0 && hit.rect.y >= 0 && hit.rect.maxX <= w && hit.rect.maxY <= h, "hit \(hit) outside \(w)×\(h)", sourceLocation: sourceLocation)
        }
    }
}

@Suite struct EmptyLabTests {
    /// The crash of issue #10: `/ x Enter` in a lab without flows took a step modulo zero.
    @Test(arguments: [EdgeLab.empty, .oneBridge, .stepless])
    func searchWithNothingToSearch(_ lab: EdgeLab) throws {
        var s = try lab.state()
        press(&s, .char("/"), .char("x"), .enter)
        #expect(s.overlay == nil)
        #expect(s.position == 0)
        #expect(s.message?.contains(lab == .stepless ? "no steps" : "no flows") == true, "\(s.message ?? "no message")")
        press(&s, .char("n"))
        #expect(s.position == 0)
        expectSane(s, "search")
    }

    /// Every key of the binding table, in the context it is bound in (pane or overlay, the
    /// overlay opened as a user would or, when the lab has nothing to open it on, forced open),
    /// three times over, on every edge lab.
    @Test(arguments: EdgeLab.allCases)
    func everyBindingInItsContext(_ lab: EdgeLab) throws {
        // Search the fixes once: every copy of `start` then reuses them (F does not search again
        // until the toggles change), which keeps a debug run to one search per lab.
        var start = try lab.state()
        start.perform(.openFixes)
        start.overlay = nil
        start.message = nil
        for b in Bindings.table {
            for key in b.keys {
                for s0 in try Self.states(in: b.context, from: start) {
                    var s = s0
                    for i in 1...3 {
                        s.handle(.key(key))
                        expectSane(s, "\(key) ×\(i) in \(b.context.rawValue)")
                    }
                }
            }
        }
    }

    /// The states in which a binding's context is active.
    static func states(in context: BindingContext, from s: ExplorerState) throws -> [ExplorerState] {
        func with(_ change: (inout ExplorerState) -> Void) -> ExplorerState {
            var t = s
            change(&t)
            return t
        }
        switch context {
        case .global: return Pane.allCases.map { p in with { $0.focus = p } }
        case .graph: return [with { $0.focus = .graph }]
        case .steps: return [with { $0.focus = .steps }]
        case .detail: return [with { $0.focus = .detail }]
        case .hex: return [with { $0.focus = .hex }]
        case .menu:
            // Through the key when the selected node has settings; else (no node, or a bridge
            // with nothing to set) the menu as a stale overlay would leave it.
            let opened = with { $0.perform(.openOptions) }
            return opened.overlay != nil ? [opened] : [with { $0.overlay = .menu(node: $0.selectedNode, selected: 0) }]
        case .flows:
            let flows = with { $0.perform(.openFlows) }
            return [flows.overlay != nil ? flows : with { $0.overlay = .flows(selected: 0) }]
        case .chooser:
            return [with { $0.perform(.openKernels) }, with { $0.perform(.addNode) }, with { $0.overlay = .link(selected: 0) },
                    with { $0.overlay = .browser(selected: 0) }]
        case .confirm:
            return [with { $0.perform(.deleteNode) }, with { $0.overlay = .confirm(Confirmation(purpose: .quit, title: "q", lines: [], yes: "y", alternative: "s")) }]
        case .form:
            return [with { $0.perform(.editNode) }, with { $0.perform(.editLab) }, with { $0.perform(.addFlow) }]
        case .help: return [with { $0.perform(.openHelp) }]
        case .commands: return [with { $0.perform(.openCommands) }]
        case .search: return [with { $0.perform(.openSearch) }, with { $0.perform(.openSearch); $0.perform(.searchType("x")) }]
        case .fixes:
            let opened = with { $0.perform(.openFixes) }
            return opened.overlay != nil ? [opened] : [with { $0.overlay = .fixes(selected: 0) }]
        case .lesson:
            // No lesson is open in an edge lab: the keys fall through to the panes (LessonPaneTests
            // covers them with a lesson); the list is forced open empty.
            return [with { $0.view.showsLesson = true }, with { $0.overlay = .lessons(selected: 0) }]
        case .answer: return [with { $0.overlay = .answer(text: "") }]
        }
    }

    /// A long random walk of keys (bound and not), clicks anywhere on the last frame, ticks and
    /// resizes down to nothing; the state stays sane after every event.
    @Test(arguments: EdgeLab.allCases)
    func randomWalk(_ lab: EdgeLab) throws {
        var s = try lab.state()
        var rng = SplitMix(state: 0x10_0001 &+ UInt64(EdgeLab.allCases.firstIndex(of: lab)!))
        // F runs the fix search (thousands of simulations, seconds in a debug build) each time
        // the toggles changed; `everyBinding` and FixOverlayTests press it.
        let keys = Array(Set(Bindings.table.flatMap(\.keys))).filter { $0 != .char("F") } + [.char("x"), .char("中"), .char("\u{301}"), .escape, .backspace]
        let sizes = [(120, 40), (80, 24), (64, 18), (40, 10), (0, 0), (200, 60)]
        var size = sizes[0]
        var frame = Screen.render(s, width: size.0, height: size.1)
        for i in 0..<1500 {
            switch Int.random(in: 0..<10, using: &rng) {
            case 0..<6: s.handle(.key(keys.randomElement(using: &rng)!), hits: frame.hits)
            case 6, 7: s.handle(.click(x: Int.random(in: -1...size.0, using: &rng), y: Int.random(in: -1...size.1, using: &rng)), hits: frame.hits)
            case 8: s.handle(.tick)
            default: size = sizes.randomElement(using: &rng)!
            }
            if s.quitRequested { s = try lab.state() }
            frame = Screen.render(s, width: size.0, height: size.1)
            #expect(frame.canvas.width == size.0)
            if i % 50 == 0 { expectSane(s, "event \(i)") }
        }
        expectSane(s, "the walk")
    }

    /// Every clickable place of the opening screen, clicked.
    @Test(arguments: EdgeLab.allCases)
    func everyHitRegion(_ lab: EdgeLab) throws {
        let s0 = try lab.state()
        let frame = Screen.render(s0, width: 120, height: 40)
        for h in frame.hits {
            var s = s0
            s.handle(.click(x: h.rect.x, y: h.rect.y), hits: frame.hits)
            expectSane(s, "a click on \(h.action)")
        }
    }

    @Test func playingNothingSaysSo() throws {
        var s = try EdgeLab.empty.state()
        press(&s, .char(" "))
        #expect(!s.playing)
        #expect(s.message?.contains("no flows") == true)
        s.handle(.tick)
        #expect(s.position == 0)
    }

    @Test func choosersAndMenusOnAnEmptyLabExplainThemselves() throws {
        var s = try EdgeLab.empty.state()
        // The flows list opens empty (it is where a flow is added) and says so.
        press(&s, .char("f"))
        #expect(s.overlay == .flows(selected: 0))
        #expect(Screen.render(s, width: 80, height: 24).canvas.text.contains("No flows yet: a adds one."))
        press(&s, .char("e"))
        #expect(s.message?.contains("no flow to edit") == true)
        press(&s, .escape)
        #expect(s.overlay == nil)
        press(&s, .char("o"))
        #expect(s.overlay == nil)
        #expect(s.message?.contains("no nodes") == true)
        press(&s, .char(" "), .char("l"), .char("G"), .char("K"))
        press(&s, .up, .enter)
        #expect(s.overlay == nil)
        #expect(s.assignments.count == 1)
        #expect(s.message?.contains("host kernel") == true)
        expectSane(s, "a kernel on an empty lab")
    }

    @Test func emptyLabScreens() throws {
        assertSnapshot(try EdgeLab.empty.state(), width: 80, height: 24, "empty-lab-80x24")
        assertSnapshot(try EdgeLab.oneBridge.state(), width: 80, height: 24, "one-bridge-no-flows-80x24")
        var s = try EdgeLab.stepless.state()
        s.perform(.openFlows)
        assertSnapshot(s, width: 80, height: 24, "stepless-flows-80x24")
    }
}
