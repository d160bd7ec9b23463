import Simulation

/// The flows list (`f`): choose the flow to step through; add, edit or delete flows.
enum FlowsController {
    static func perform(_ a: Action, on s: inout ExplorerState) {
        guard case let .flows(sel) = s.overlay else { return }
        let n = s.trace.flows.count
        switch a {
        case .menuUp, .menuDown:
            let d = a == .menuDown ? 1 : -1
            s.overlay = .flows(selected: n == 0 ? 0 : (sel + d + n) % n)
        case .menuActivate:
            s.overlay = nil
            guard s.trace.flows.indices.contains(sel) else { return }
            s.flowIndex = sel
            s.setPosition(0)
            s.refreshMarks()
            let f = s.trace.flows[sel]
            s.message = "flow \(f.flow): \(f.verdict.summary)"
        case .addFlow: EditController.openFlowForm(nil, &s)
        case .editFlow:
            guard s.trace.flows.indices.contains(sel) else { s.message = "no flow to edit: a adds one"; return }
            EditController.openFlowForm(s.trace.flows[sel].flow, &s)
        case .deleteFlow:
            guard s.trace.flows.indices.contains(sel) else { s.message = "no flow to delete"; return }
            let name = s.trace.flows[sel].flow
            s.overlay = .confirm(Confirmation(purpose: .deleteFlow(name), title: "Delete flow \(name)?",
                                              lines: ["The flow and its expectation go; u undoes it."], yes: "delete it"))
        case .closeOverlay: s.overlay = nil
        default: break
        }
    }
}
