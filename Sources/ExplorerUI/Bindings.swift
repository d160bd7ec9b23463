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
    // Overlays.
    case closeOverlay
    case menuUp, menuDown
    case menuActivate
    case searchBackspace, searchSubmit
    case searchType(Character)
    // Mouse.
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
    case menu, chooser, help, commands, search, fixes

    public var title: String {
        switch self {
        case .global: return "Anywhere"
        case .graph: return "Graph pane"
        case .steps: return "Steps pane"
        case .detail: return "Detail pane"
        case .hex: return "Hex pane"
        case .menu: return "Settings menu (o)"
        case .chooser: return "Flow / kernel chooser (f, K)"
        case .help: return "Help (?)"
        case .commands: return "Commands (c)"
        case .search: return "Search (/)"
        case .fixes: return "Fixes (F)"
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

    public var keyText: String { keys.map(\.description).joined(separator: "/") }
}

public enum Bindings {
    private static func b(_ c: BindingContext, _ keys: [Key], _ a: Action, _ label: String, _ help: String, hint: Bool = false) -> Binding {
        Binding(context: c, keys: keys, action: a, label: label, help: help, hint: hint)
    }

    public static let table: [Binding] = [
        // Anywhere on the main screen.
        b(.global, [.right, .char("l")], .nextStep, "step", "Next step (into the next packet at the end of one)", hint: true),
        b(.global, [.left, .char("h")], .previousStep, "back", "Previous step", hint: true),
        b(.global, [.home, .char("g")], .firstStep, "first", "First step of the flow"),
        b(.global, [.end, .char("G")], .lastStep, "last", "Last step of the flow"),
        b(.global, [.char(" ")], .togglePlay, "play", "Play / pause", hint: true),
        b(.global, [.char("+"), .char("=")], .faster, "faster", "Play faster"),
        b(.global, [.char("-")], .slower, "slower", "Play slower"),
        b(.global, [.char("o")], .openOptions, "options", "Settings of the selected node: toggle offloads, vnet_hdr, flavour, NAT…", hint: true),
        b(.global, [.char("c")], .openCommands, "cmds", "Real commands for the current toggles, and the csumlab trace --set line", hint: true),
        b(.global, [.char("f")], .openFlows, "flow", "Choose the flow", hint: true),
        b(.global, [.char("F")], .openFixes, "fixes", "The smallest changes that make the current flow work (csumlab fix), with their commands", hint: true),
        b(.global, [.char("K")], .openKernels, "kernel", "Choose the host kernel profile"),
        b(.global, [.char("r")], .resetToggles, "reset", "Reset all toggles to the file's settings"),
        b(.global, [.char("/")], .openSearch, "search", "Search steps (element, function, explanation)"),
        b(.global, [.char("n")], .searchNext, "next match", "Next search match"),
        b(.global, [.tab], .nextPane, "pane", "Next pane", hint: true),
        b(.global, [.backTab], .previousPane, "pane back", "Previous pane"),
        b(.global, [.char("?")], .openHelp, "help", "This help", hint: true),
        b(.global, [.char("q")], .quit, "quit", "Quit (Ctrl-C too)", hint: true),
        // Graph pane.
        b(.graph, [.down, .char("j")], .nextNode, "node", "Select the next node along the path", hint: true),
        b(.graph, [.up, .char("k")], .previousNode, "node back", "Select the previous node along the path"),
        b(.graph, [.enter], .openOptions, "options", "Settings of the selected node"),
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
        // Flow and kernel choosers.
        b(.chooser, [.down, .char("j")], .menuDown, "down", "Next entry", hint: true),
        b(.chooser, [.up, .char("k")], .menuUp, "up", "Previous entry", hint: true),
        b(.chooser, [.enter, .char(" ")], .menuActivate, "choose", "Choose it", hint: true),
        b(.chooser, [.escape, .char("q")], .closeOverlay, "close", "Close", hint: true),
        // Help.
        b(.help, [.down, .char("j")], .scrollDown, "scroll", "Scroll down", hint: true),
        b(.help, [.up, .char("k")], .scrollUp, "scroll up", "Scroll up"),
        b(.help, [.escape, .char("?"), .char("q")], .closeOverlay, "close", "Close help", hint: true),
        // Commands.
        b(.commands, [.down, .char("j")], .scrollDown, "scroll", "Scroll down", hint: true),
        b(.commands, [.up, .char("k")], .scrollUp, "scroll up", "Scroll up"),
        b(.commands, [.escape, .char("c"), .char("q")], .closeOverlay, "close", "Close", hint: true),
        // Fixes.
        b(.fixes, [.down, .char("j")], .menuDown, "down", "Next fix", hint: true),
        b(.fixes, [.up, .char("k")], .menuUp, "up", "Previous fix", hint: true),
        b(.fixes, [.enter, .char(" ")], .menuActivate, "apply", "Apply the fix: its toggles, as one change (r resets)", hint: true),
        b(.fixes, [.escape, .char("F"), .char("q")], .closeOverlay, "close", "Close", hint: true),
        // Search input (other printable keys type into the field).
        b(.search, [.enter], .searchSubmit, "find", "Jump to the next step that matches", hint: true),
        b(.search, [.backspace], .searchBackspace, "delete", "Delete a character"),
        b(.search, [.escape], .closeOverlay, "cancel", "Cancel", hint: true),
    ]

    /// The contexts searched for a key, most specific first.
    public static func contexts(for state: ExplorerState) -> [BindingContext] {
        if let o = state.overlay { return [o.context] }
        return [BindingContext(state.focus), .global]
    }

    public static func action(for key: Key, in state: ExplorerState) -> Action? {
        let cs = contexts(for: state)
        for c in cs {
            if let b = table.first(where: { $0.context == c && $0.keys.contains(key) }) { return b.action }
        }
        if cs == [.search], case let .char(ch) = key, !ch.isNewline { return .searchType(ch) }
        return nil
    }

    /// The hint bar: the hinted bindings of the active contexts, pane first.
    public static func hints(for state: ExplorerState) -> [Binding] {
        var seen = Set<Action>()
        var out: [Binding] = []
        for c in contexts(for: state) {
            for b in table where b.context == c && b.hint && !seen.contains(b.action) {
                seen.insert(b.action)
                out.append(b)
            }
        }
        return out
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
        out.append("Mouse")
        out.append("  " + "click".padded(16) + " " + "Select a node in the graph, or jump to a step in the list")
        return out
    }
}
