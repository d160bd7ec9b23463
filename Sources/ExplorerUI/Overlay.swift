import Simulation

/// A modal box over the main screen. Each kind has its own controller (`Controllers/`) that owns
/// what its keys do; `Bindings.table` maps the keys.
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
    /// The kinds of node `a` can add; `selected` indexes `NodeTemplate.allCases`.
    case addNode(selected: Int)
    /// Links the selected node can make or undo (`x`); `selected` indexes `ExplorerState.linkChoices`.
    case link(selected: Int)
    /// A question before something that cannot be taken back from here (delete, quit, overwrite).
    case confirm(Confirmation)
    /// A small form: rename, addresses, a flow, the lab, a file name.
    case form(Form)
    /// The labs that can be opened (`O`); `selected` indexes `ExplorerState.browserEntries`.
    case browser(selected: Int)
    /// The lessons (`L`); `selected` indexes `ExplorerState.lessonEntries`.
    case lessons(selected: Int)
    /// The typed answer of a lesson question: it holds the keys until Enter or Esc. Drawn in
    /// the lesson pane, not as a box.
    case answer(text: String)

    var context: BindingContext {
        switch self {
        case .menu: return .menu
        case .flows: return .flows
        case .kernels, .addNode, .link, .browser, .lessons: return .chooser
        case .answer: return .answer
        case .help: return .help
        case .commands: return .commands
        case .search: return .search
        case .fixes: return .fixes
        case .confirm: return .confirm
        case .form: return .form
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
