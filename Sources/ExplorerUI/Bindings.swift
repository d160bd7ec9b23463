/// Everything the user can ask for. Keys map to actions through `Bindings.table`; clicks map to
/// actions through the hit regions of the last frame.
public enum Action: Sendable, Hashable {
    case nextStep, previousStep, firstStep, lastStep
    case togglePlay, faster, slower
    case nextNode, previousNode
    case nextPane, previousPane
    case openOptions, openCommands, openHelp, openFlows, openKernels, openSearch, openFixes
    case searchNext
    case resetToggles
    case quit
    case scrollUp, scrollDown, pageUp, pageDown
    /// Pan the graph by hand (it otherwise follows the current hop or the selected node).
    case panLeft, panRight, panUp, panDown
    // Editing the lab.
    case undo, redo
    case addNode, deleteNode, linkNode, editNode, editLab
    case addInterface, deleteInterface
    case addFlow, editFlow, deleteFlow
    case toggleDescription
    // Files.
    case save, saveAs, openBrowser, openFile
    /// Print the `csumlab trace` line for the current lab on exit.
    case copyCommand
    // Lessons.
    case openLessons, toggleLessonPane, nextPage, previousPage
    /// Answer a multiple-choice question with choice `n` (0-based; the binding's digit).
    case lessonChoose(Int)
    /// Enter on a question or task page: answer with what is under the cursor, type a value,
    /// check the task.
    case lessonAnswer
    case answerType(Character)
    case answerBackspace, answerSubmit
    // Overlays.
    case closeOverlay
    case menuUp, menuDown
    case menuActivate
    case searchBackspace, searchSubmit
    case searchType(Character)
    case confirmYes, confirmAlternative
    case formNext, formPrevious, formSubmit, formBackspace, formLeft, formRight
    case formType(Character)
    // Mouse.
    /// A click on a pane's empty space, or the wheel over it, gives it the focus.
    case focusPane(Pane)
    case selectNode(String)
    case jumpToStep(Int)
}

/// The panes of the main screen; Tab moves between them.
public enum Pane: String, Sendable, CaseIterable {
    case graph, steps, detail, hex

    public var title: String {
        switch self {
        case .graph: return "Graph"
        case .steps: return "Steps"
        case .detail: return "Detail"
        case .hex: return "Hex"
        }
    }
}

/// Where a binding applies: everywhere on the main screen, in one pane, or in one overlay.
public enum BindingContext: String, Sendable, CaseIterable {
    case global, graph, steps, detail, hex
    case menu, flows, chooser, help, commands, search, fixes, confirm, form
    /// A lesson page that asks (a question or a task) while the lesson pane shows: its keys come first.
    case lesson
    /// The typed answer of a lesson question.
    case answer

    public var title: String {
        switch self {
        case .global: return "Anywhere"
        case .graph: return "Graph pane"
        case .steps: return "Steps pane"
        case .detail: return "Detail pane"
        case .hex: return "Hex pane"
        case .menu: return "Settings menu (o)"
        case .flows: return "Flows (f)"
        case .chooser: return "Lists: kernel (K), add node (a), link (x), open lab (O), lessons (L)"
        case .confirm: return "Questions (delete, quit, overwrite)"
        case .form: return "Forms (e, E, W, flows)"
        case .help: return "Help (?)"
        case .commands: return "Commands (c)"
        case .search: return "Search (/)"
        case .fixes: return "Fixes (F)"
        case .lesson: return "Lesson questions and tasks (while the page asks; other keys explore)"
        case .answer: return "Typed answers (the field holds the keys until Enter or Esc)"
        }
    }

    init(_ pane: Pane) {
        switch pane {
        case .graph: self = .graph
        case .steps: self = .steps
        case .detail: self = .detail
        case .hex: self = .hex
        }
    }
}

/// One key binding: the single source for dispatch, the hint bar and the help screen.
public struct Binding: Sendable, Hashable {
    public var context: BindingContext
    public var keys: [Key]
    public var action: Action
    /// Short label for the hint bar.
    public var label: String
    /// One line for the help screen.
    public var help: String
    /// Shown in the hint bar (the keys that matter most).
    public var hint: Bool

    public var keyText: String {
        if keys.count > 2, keys.allSatisfy({ if case let .char(c) = $0 { return c.isWholeNumber } else { return false } }) {
            return "\(keys.first!)-\(keys.last!)"
        }
        return keys.map(\.description).joined(separator: "/")
    }
}

public enum Bindings {
    private static func b(_ c: BindingContext, _ keys: [Key], _ a: Action, _ label: String, _ help: String, hint: Bool = false) -> Binding {
        Binding(context: c, keys: keys, action: a, label: label, help: help, hint: hint)
    }

    public static let table: [Binding] = [
        // Anywhere on the main screen.
        b(.global, [.char("o")], .openOptions, "options", "Settings of the selected node: toggle offloads, vnet_hdr, flavour, NAT…", hint: true),
        b(.global, [.char("u")], .undo, "undo", "Undo the last edit or toggle (no limit)", hint: true),
        b(.global, [.right, .char("l")], .nextStep, "step", "Next step (into the next packet at the end of one)", hint: true),
        b(.global, [.left, .char("h")], .previousStep, "back", "Previous step", hint: true),
        b(.global, [.home, .char("g")], .firstStep, "first", "First step of the flow"),
        b(.global, [.end, .char("G")], .lastStep, "last", "Last step of the flow"),
        b(.global, [.char(" ")], .togglePlay, "play", "Play / pause", hint: true),
        b(.global, [.char("+"), .char("=")], .faster, "faster", "Play faster"),
        b(.global, [.char("-")], .slower, "slower", "Play slower"),
        b(.global, [.char("c")], .openCommands, "cmds", "Real commands for the current toggles, and the csumlab trace --set line", hint: true),
        b(.global, [.char("f")], .openFlows, "flow", "Choose the flow", hint: true),
        b(.global, [.char("F")], .openFixes, "fixes", "The smallest changes that make the current flow work (csumlab fix), with their commands", hint: true),
        b(.global, [.char("K")], .openKernels, "kernel", "Choose the host kernel profile"),
        b(.global, [.char("r")], .resetToggles, "reset", "Return to the lab as last saved (undo with u)"),
        b(.global, [.ctrl("r")], .redo, "redo", "Redo what u undid"),
        b(.global, [.char("w")], .save, "save", "Save the lab (toggles become part of it); asks before dropping comments", hint: true),
        b(.global, [.char("W")], .saveAs, "save as", "Save the lab under a new file name"),
        b(.global, [.char("O")], .openBrowser, "open", "Open another lab: the shipped labs and your own files"),
        b(.global, [.char("E")], .editLab, "lab", "Edit the lab's name, description and kernel profile"),
        b(.global, [.char("i")], .toggleDescription, "about", "Show the lab's description in the detail pane (i again: the step)"),
        b(.global, [.char("L")], .openLessons, "lessons", "The lessons: a guided walk through a lab with questions and tasks"),
        b(.global, [.char(">")], .nextPage, "next page", "Next lesson page (a lesson is open)", hint: true),
        b(.global, [.char("<")], .previousPage, "prev page", "Previous lesson page"),
        b(.global, [.char("t")], .toggleLessonPane, "lesson⇄detail", "Switch between the lesson pane and the step's details"),
        b(.global, [.char("y")], .copyCommand, "copy cmd", "Print the csumlab trace line for this lab on exit (to copy it)"),
        b(.global, [.char("/")], .openSearch, "search", "Search steps (element, function, explanation)"),
        b(.global, [.char("n")], .searchNext, "next match", "Next search match"),
        b(.global, [.tab], .nextPane, "pane", "Next pane", hint: true),
        b(.global, [.backTab], .previousPane, "pane back", "Previous pane"),
        b(.global, [.char("?"), .function(1)], .openHelp, "help", "This help", hint: true),
        b(.global, [.char("q"), .function(10)], .quit, "quit", "Quit (Ctrl-C too)", hint: true),
        // Graph pane.
        b(.graph, [.down, .char("j")], .nextNode, "node", "Select the next node along the path", hint: true),
        b(.graph, [.up, .char("k")], .previousNode, "node back", "Select the previous node along the path"),
        b(.graph, [.enter], .openOptions, "options", "Settings of the selected node"),
        b(.graph, [.char("a")], .addNode, "add", "Add a node: vm, netns, tap, bridge, veth pair, router, host-nic", hint: true),
        b(.graph, [.char("d"), .delete], .deleteNode, "del", "Delete the selected node (asks first; its links go with it)", hint: true),
        b(.graph, [.char("x")], .linkNode, "link", "Link or unlink the selected node: choose the other end", hint: true),
        b(.graph, [.char("e")], .editNode, "edit", "Rename the node, its interfaces, addresses, gateways, its kernel", hint: true),
        b(.graph, [.char("I")], .addInterface, "add iface", "Add an interface to the selected vm, netns or router (name, address, gateway)"),
        b(.graph, [.char("D")], .deleteInterface, "del iface", "Delete an interface of the selected vm, netns or router (its links go with it)"),
        b(.graph, [.char("[")], .panLeft, "pan ←", "Pan the graph left (a large topology)"),
        b(.graph, [.char("]")], .panRight, "pan →", "Pan the graph right"),
        b(.graph, [.char("{")], .panUp, "pan ↑", "Pan the graph up"),
        b(.graph, [.char("}")], .panDown, "pan ↓", "Pan the graph down"),
        // Steps pane.
        b(.steps, [.down, .char("j")], .nextStep, "step", "Next step", hint: true),
        b(.steps, [.up, .char("k")], .previousStep, "back", "Previous step"),
        b(.steps, [.pageDown], .pageDown, "page", "Ten steps on"),
        b(.steps, [.pageUp], .pageUp, "page back", "Ten steps back"),
        // Detail and hex panes.
        b(.detail, [.down, .char("j")], .scrollDown, "scroll", "Scroll down", hint: true),
        b(.detail, [.up, .char("k")], .scrollUp, "scroll up", "Scroll up"),
        b(.hex, [.down, .char("j")], .scrollDown, "scroll", "Scroll down", hint: true),
        b(.hex, [.up, .char("k")], .scrollUp, "scroll up", "Scroll up"),
        // Settings menu.
        b(.menu, [.down, .char("j")], .menuDown, "down", "Next setting", hint: true),
        b(.menu, [.up, .char("k")], .menuUp, "up", "Previous setting", hint: true),
        b(.menu, [.enter, .char(" ")], .menuActivate, "toggle", "Toggle or cycle the setting; the trace re-runs at once", hint: true),
        b(.menu, [.escape, .char("o"), .char("q")], .closeOverlay, "close", "Close the menu", hint: true),
        // Flows.
        b(.flows, [.down, .char("j")], .menuDown, "down", "Next flow", hint: true),
        b(.flows, [.up, .char("k")], .menuUp, "up", "Previous flow", hint: true),
        b(.flows, [.enter, .char(" ")], .menuActivate, "choose", "Step through this flow", hint: true),
        b(.flows, [.char("a")], .addFlow, "add", "Add a flow (type, endpoints, port, payload, expectation)", hint: true),
        b(.flows, [.char("e")], .editFlow, "edit", "Edit the selected flow", hint: true),
        b(.flows, [.char("d"), .delete], .deleteFlow, "delete", "Delete the selected flow (asks first)", hint: true),
        b(.flows, [.escape, .char("q")], .closeOverlay, "close", "Close", hint: true),
        // Lists.
        b(.chooser, [.down, .char("j")], .menuDown, "down", "Next entry", hint: true),
        b(.chooser, [.up, .char("k")], .menuUp, "up", "Previous entry", hint: true),
        b(.chooser, [.enter, .char(" ")], .menuActivate, "choose", "Choose it", hint: true),
        b(.chooser, [.escape, .char("q")], .closeOverlay, "close", "Close", hint: true),
        // Help.
        b(.help, [.down, .char("j")], .scrollDown, "scroll", "Scroll down", hint: true),
        b(.help, [.up, .char("k")], .scrollUp, "scroll up", "Scroll up"),
        b(.help, [.escape, .char("?"), .char("q"), .function(1)], .closeOverlay, "close", "Close help", hint: true),
        // Commands.
        b(.commands, [.down, .char("j")], .scrollDown, "scroll", "Scroll down", hint: true),
        b(.commands, [.up, .char("k")], .scrollUp, "scroll up", "Scroll up"),
        b(.commands, [.escape, .char("c"), .char("q")], .closeOverlay, "close", "Close", hint: true),
        // Fixes.
        b(.fixes, [.down, .char("j")], .menuDown, "down", "Next fix", hint: true),
        b(.fixes, [.up, .char("k")], .menuUp, "up", "Previous fix", hint: true),
        b(.fixes, [.enter, .char(" ")], .menuActivate, "apply", "Apply the fix: its toggles, as one change (r resets)", hint: true),
        b(.fixes, [.escape, .char("F"), .char("q")], .closeOverlay, "close", "Close", hint: true),
        // Questions.
        b(.confirm, [.char("y"), .enter], .confirmYes, "yes", "Do it", hint: true),
        b(.confirm, [.char("s")], .confirmAlternative, "other", "The other way offered (save as a new file; save, then quit)"),
        b(.confirm, [.char("n"), .escape, .char("q")], .closeOverlay, "no", "Do nothing", hint: true),
        // Forms (other printable keys type into the field).
        b(.form, [.enter], .formSubmit, "apply", "Apply the form (the validator may refuse it: the reason shows)", hint: true),
        b(.form, [.tab, .down], .formNext, "next field", "Next field", hint: true),
        b(.form, [.backTab, .up], .formPrevious, "prev field", "Previous field"),
        b(.form, [.right], .formRight, "next choice", "Next choice (choice fields)", hint: true),
        b(.form, [.left], .formLeft, "prev choice", "Previous choice (choice fields)"),
        b(.form, [.backspace], .formBackspace, "delete", "Delete a character"),
        b(.form, [.escape], .closeOverlay, "cancel", "Cancel: nothing changes", hint: true),
        // Lesson pages that ask.
        b(.lesson, (1...9).map { .char(Character(String($0))) }, .lessonChoose(0), "choose", "Answer a multiple-choice question", hint: true),
        b(.lesson, [.enter], .lessonAnswer, "answer", "Answer with the step (or node) under the cursor; type a value; check the task now", hint: true),
        // Typed answers (other printable keys type into the field).
        b(.answer, [.enter], .answerSubmit, "check", "Check the answer", hint: true),
        b(.answer, [.backspace], .answerBackspace, "delete", "Delete a character"),
        b(.answer, [.escape], .closeOverlay, "cancel", "Cancel", hint: true),
        // Search input (other printable keys type into the field).
        b(.search, [.enter], .searchSubmit, "find", "Jump to the next step that matches", hint: true),
        b(.search, [.backspace], .searchBackspace, "delete", "Delete a character"),
        b(.search, [.escape], .closeOverlay, "cancel", "Cancel", hint: true),
    ]

    /// The contexts searched for a key, most specific first.
    public static func contexts(for state: ExplorerState) -> [BindingContext] {
        if let o = state.overlay { return [o.context] }
        if state.view.showsLesson, state.lesson?.asks == true { return [.lesson, BindingContext(state.focus), .global] }
        return [BindingContext(state.focus), .global]
    }

    /// Keys that only mean something with a lesson open: without one they are neither hinted
    /// nor dispatched (`L` opens the list).
    static func lessonOnly(_ a: Action) -> Bool {
        a == .nextPage || a == .previousPage || a == .toggleLessonPane
    }

    public static func action(for key: Key, in state: ExplorerState) -> Action? {
        let cs = contexts(for: state)
        for c in cs {
            if let b = table.first(where: { $0.context == c && $0.keys.contains(key) }) {
                if lessonOnly(b.action) && state.lesson == nil { continue }
                // The digit bindings answer with the choice the digit names.
                if b.action == .lessonChoose(0), case let .char(ch) = key, let d = ch.wholeNumberValue { return .lessonChoose(d - 1) }
                return b.action
            }
        }
        if cs == [.answer], case let .char(ch) = key, !ch.isNewline { return .answerType(ch) }
        if cs == [.search], case let .char(ch) = key, !ch.isNewline { return .searchType(ch) }
        if cs == [.form], case let .char(ch) = key, !ch.isNewline { return .formType(ch) }
        return nil
    }

    /// The hint bar: the hinted bindings of the active contexts, pane first.
    /// Stepping is the explorer's first use: its key stays in the hint line of every pane, right
    /// after the pane's own keys, however narrow the terminal.
    public static func hints(for state: ExplorerState) -> [Binding] {
        var seen = Set<Action>()
        var out: [Binding] = []
        for c in contexts(for: state) {
            var own = table.filter { $0.context == c && $0.hint && (state.lesson != nil || !lessonOnly($0.action)) }
            if c == .lesson { own = lessonHints(own, state) }
            // With a lesson open, turning its page comes first of all.
            let first: [Action] = state.lesson != nil ? [.nextPage, .nextStep] : [.nextStep]
            let ordered = c == .global ? first.flatMap { a in own.filter { $0.action == a } } + own.filter { !first.contains($0.action) } : own
            for b in ordered where !seen.contains(b.action) {
                seen.insert(b.action)
                out.append(b)
            }
        }
        return out
    }

    /// The question keys the open page uses: digits only for a choice, and Enter named for what
    /// it does there.
    static func lessonHints(_ bs: [Binding], _ state: ExplorerState) -> [Binding] {
        guard let p = state.lesson?.current else { return bs }
        return bs.compactMap { b in
            var b = b
            switch (p.content, b.action) {
            case (.choice, _): return b
            case (_, .lessonChoose): return nil
            case (.value, .lessonAnswer): b.label = "type answer"
            case (.task, .lessonAnswer): b.label = "check task"
            default: break
            }
            return b
        }
    }

    /// The help screen, grouped by context.
    public static func helpLines() -> [String] {
        var out: [String] = []
        for c in BindingContext.allCases {
            let bs = table.filter { $0.context == c }
            guard !bs.isEmpty else { continue }
            if !out.isEmpty { out.append("") }
            out.append(c.title)
            for b in bs { out.append("  " + b.keyText.padded(16) + " " + b.help) }
        }
        out.append("")
        out.append("Marks")
        out.append("  " + "*".padded(16) + " " + "A node or step that differs from the lab as last saved (r returns to it, u undoes one change)")
        out.append("")
        out.append("Mouse")
        out.append("  " + "click".padded(16) + " " + "Select a node in the graph, jump to a step in the list, or focus a pane")
        out.append("  " + "wheel".padded(16) + " " + "Over the steps: next / previous step; over the detail or hex pane: scroll it; over the graph: pan; in a list: move")
        return out
    }
}
