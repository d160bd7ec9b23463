/// Help (`?`) and commands (`c`): read-only text that scrolls.
enum ScrollController {
    static func perform(_ a: Action, on s: inout ExplorerState) {
        let d = a == .scrollDown ? 1 : a == .scrollUp ? -1 : 0
        switch (a, s.overlay) {
        case (.closeOverlay, _): s.overlay = nil
        case let (_, .help(x)?) where d != 0: s.overlay = .help(scroll: max(0, x + d))
        case let (_, .commands(x)?) where d != 0: s.overlay = .commands(scroll: max(0, x + d))
        default: break
        }
    }
}
