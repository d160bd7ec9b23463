import Simulation

/// The main screen without an overlay: stepping, playback, selection, panes, and the keys that
/// open overlays or start an edit.
enum MainController {
    static func perform(_ a: Action, on s: inout ExplorerState) {
        switch a {
        case .nextStep: s.setPosition(s.position + 1)
        case .previousStep: s.setPosition(s.position - 1)
        case .firstStep: s.setPosition(0)
        case .lastStep: s.setPosition(s.steps.count - 1)
        case .pageDown: s.setPosition(s.position + 10)
        case .pageUp: s.setPosition(s.position - 10)
        case .jumpToStep(let i): s.setPosition(i); s.focus = .steps
        case .togglePlay:
            guard s.playing || !s.steps.isEmpty else { s.message = s.nothingToStep; return }
            s.view.playing.toggle()
            if s.playing && s.position + 1 >= s.steps.count { s.setPosition(0) }
            s.message = s.playing ? "playing (\(s.playInterval) ms a step; +/- to change)" : "paused"
        case .faster:
            s.view.speedIndex = min(s.speedIndex + 1, ExplorerState.playIntervals.count - 1)
            s.message = "\(s.playInterval) ms a step"
        case .slower:
            s.view.speedIndex = max(s.speedIndex - 1, 0)
            s.message = "\(s.playInterval) ms a step"
        case .nextNode: moveSelection(+1, &s)
        case .previousNode: moveSelection(-1, &s)
        case .focusPane(let p): s.focus = p
        case .selectNode(let n):
            s.select(node: n)
            s.focus = .graph
        case .nextPane: cyclePane(+1, &s)
        case .previousPane: cyclePane(-1, &s)
        case .scrollDown, .scrollUp:
            let d = a == .scrollDown ? 1 : -1
            if s.focus == .detail { s.detailScroll = max(0, s.detailScroll + d) }
            if s.focus == .hex { s.hexScroll = max(0, (s.hexScroll ?? 0) + d) }
        case .panLeft: s.view.graphPan.x -= 10
        case .panRight: s.view.graphPan.x += 10
        case .panUp: s.view.graphPan.y -= 3
        case .panDown: s.view.graphPan.y += 3
        case .openOptions:
            guard s.topology.node(named: s.selectedNode) != nil else { s.message = "this lab has no nodes to set: press a to add one"; return }
            s.overlay = .menu(node: s.selectedNode, selected: 0)
            if s.menuItems.isEmpty { s.overlay = nil; s.message = "\(s.selectedNode) has no settings to toggle" }
        case .openCommands: s.overlay = .commands(scroll: 0)
        case .openHelp: s.overlay = .help(scroll: 0)
        case .openFlows: s.overlay = .flows(selected: min(s.flowIndex, max(0, s.trace.flows.count - 1)))
        case .openKernels: s.overlay = .kernels(selected: KernelProfile.allCases.firstIndex(of: s.topology.hostKernel) ?? 0)
        case .openSearch: s.overlay = .search(text: "")
        case .openFixes: FixesController.open(&s)
        case .searchNext: SearchController.search(s.lastSearch, &s)
        case .resetToggles:
            guard s.document.current != s.document.saved else { s.message = "nothing to reset: the lab is as last saved"; return }
            s.change(to: s.document.saved, described: "reset to the lab as last saved (u undoes it)")
        case .undo: s.undo(false)
        case .redo: s.undo(true)
        case .addNode: s.overlay = .addNode(selected: 0)
        case .deleteNode: EditController.confirmDelete(&s)
        case .linkNode: EditController.openLinks(&s)
        case .editNode: EditController.openNodeForm(&s)
        case .addInterface: EditController.openInterfaceForm(adding: true, &s)
        case .deleteInterface: EditController.openInterfaceForm(adding: false, &s)
        case .editLab: EditController.openLabForm(&s)
        case .addFlow: EditController.openFlowForm(nil, &s)
        case .editFlow, .deleteFlow: s.overlay = .flows(selected: s.flowIndex)
        case .toggleDescription:
            s.view.showsDescription.toggle()
            s.view.detailScroll = 0
            s.message = s.view.showsDescription ? "the detail pane shows the lab's description (i again: the step)" : nil
        case .save: FileController.save(&s)
        case .saveAs: FileController.openSaveAs(&s)
        case .openBrowser: FileController.openBrowser(&s)
        case .openFile: FileController.openPathForm(&s)
        case .copyCommand:
            s.printOnExit = Commands.reproduce(s)
            s.message = "will print on exit: " + s.printOnExit.joined(separator: " ")
        case .quit: FileController.quit(&s)
        case .openLessons: LessonController.openList(&s)
        case .toggleLessonPane: LessonController.togglePane(&s)
        case .nextPage: LessonController.turn(+1, &s)
        case .previousPage: LessonController.turn(-1, &s)
        case .lessonChoose(let n): LessonController.choose(n, &s)
        case .lessonAnswer: LessonController.answerHere(&s)
        case .answerType, .answerBackspace, .answerSubmit,
             .closeOverlay, .menuUp, .menuDown, .menuActivate, .searchBackspace, .searchSubmit, .searchType,
             .confirmYes, .confirmAlternative, .formNext, .formPrevious, .formSubmit, .formBackspace, .formLeft, .formRight, .formType:
            break
        }
    }

    static func moveSelection(_ d: Int, _ s: inout ExplorerState) {
        let order = s.nodeOrder
        guard !order.isEmpty else { return }
        let i = order.firstIndex(of: s.selectedNode) ?? 0
        s.select(node: order[(i + d + order.count) % order.count])
    }

    static func cyclePane(_ d: Int, _ s: inout ExplorerState) {
        let all = Pane.allCases
        let i = all.firstIndex(of: s.focus) ?? 0
        s.focus = all[(i + d + all.count) % all.count]
    }
}
