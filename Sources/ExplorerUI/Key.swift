/// A key as the explorer understands it; the terminal backend translates its key codes into these.
public enum Key: Sendable, Hashable, CustomStringConvertible {
    case char(Character)
    case up, down, left, right
    case home, end, pageUp, pageDown
    case tab, backTab, enter, escape, backspace, delete
    /// A control key other than Tab, Enter and Backspace: `.ctrl("r")` is Ctrl-R.
    case ctrl(Character)
    /// F1…F12.
    case function(Int)
    /// A key the explorer has no name for (a function key, an unmapped escape sequence): it
    /// binds to nothing, and the status bar says so.
    case unknown

    public var description: String {
        switch self {
        case .char(" "): return "Space"
        case let .char(c): return String(c)
        case .up: return "↑"
        case .down: return "↓"
        case .left: return "←"
        case .right: return "→"
        case .home: return "Home"
        case .end: return "End"
        case .pageUp: return "PgUp"
        case .pageDown: return "PgDn"
        case .tab: return "Tab"
        case .backTab: return "S-Tab"
        case .enter: return "Enter"
        case .escape: return "Esc"
        case .backspace: return "Bksp"
        case .delete: return "Del"
        case let .ctrl(c): return "Ctrl-" + String(c).uppercased()
        case let .function(n): return "F\(n)"
        case .unknown: return "?"
        }
    }
}

/// Something that happens to the explorer: a key, a click at a screen cell, a timer tick while
/// playing. Resizes need no event: the next frame is rendered at the new size.
public enum InputEvent: Sendable, Hashable {
    case key(Key)
    case click(x: Int, y: Int)
    /// The mouse wheel turned over a cell: it scrolls the pane under the pointer.
    case wheel(x: Int, y: Int, down: Bool)
    case tick
}
