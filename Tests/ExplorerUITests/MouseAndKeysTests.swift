import ExplorerUI
import Simulation
import Testing

/// What htop and lazygit users try (#14): the wheel scrolls the pane under the pointer, F1 is
/// help and F10 quits, a click on a pane focuses it; the help wraps instead of cutting lines.
@Suite struct MouseAndKeysTests {
    func center(of pane: Pane, in f: Frame) throws -> (x: Int, y: Int) {
        let r = try #require(f.hits.first { $0.action == .focusPane(pane) }?.rect)
        return (r.x + r.width / 2, r.y + r.height / 2)
    }

    @Test func theWheelOverTheStepsMovesTheCursor() throws {
        var s = try defaultState()
        let f = Screen.render(s, width: 120, height: 40)
        let (x, y) = try center(of: .steps, in: f)
        s.handle(.wheel(x: x, y: y, down: true), hits: f.hits)
        s.handle(.wheel(x: x, y: y, down: true), hits: f.hits)
        #expect(s.position == 2)
        s.handle(.wheel(x: x, y: y, down: false), hits: f.hits)
        #expect(s.position == 1)
    }

    @Test func theWheelOverTheDetailPaneScrollsIt() throws {
        var s = try defaultState()
        let f = Screen.render(s, width: 120, height: 40)
        let (x, y) = try center(of: .detail, in: f)
        s.handle(.wheel(x: x, y: y, down: true), hits: f.hits)
        #expect(s.focus == .detail)
        #expect(s.detailScroll == 1)
        #expect(s.position == 0)
    }

    @Test func theWheelInAListMovesTheChoice() throws {
        var s = try defaultState()
        s.perform(.openKernels)
        guard case let .kernels(before)? = s.overlay else { Issue.record("no kernel list"); return }
        s.handle(.wheel(x: 1, y: 1, down: true))
        #expect(s.overlay == .kernels(selected: (before + 1) % KernelProfile.allCases.count))
    }

    @Test func aClickOnAPaneFocusesIt() throws {
        var s = try defaultState()
        let f = Screen.render(s, width: 120, height: 40)
        let r = try #require(f.hits.first { $0.action == .focusPane(.hex) }?.rect)
        s.handle(.click(x: r.x + 2, y: r.y + 1), hits: f.hits)
        #expect(s.focus == .hex)
    }

    @Test func f1IsHelpAndF10Quits() throws {
        var s = try defaultState()
        s.handle(.key(.function(1)))
        #expect(s.overlay == .help(scroll: 0))
        s.handle(.key(.function(1)))
        #expect(s.overlay == nil)
        s.handle(.key(.function(10)))
        #expect(s.quitRequested)
    }

    /// At 80 columns every help line that is longer than the box wraps: each binding's whole
    /// help text is on the screen, over one or more rows.
    @Test func theHelpWrapsAtEightyColumns() throws {
        var s = try defaultState()
        s.perform(.openHelp)
        var seen = ""
        for _ in 0..<300 {
            let text = Screen.render(s, width: 80, height: 24).canvas.text
            seen += text.split(separator: "\n").map { String($0.dropFirst(2).dropLast(2)).trimmingCharacters(in: " │") }.joined(separator: " ") + " "
            s.perform(.scrollDown)
        }
        let words = Set(seen.split(separator: " ").map(String.init))
        let cut = Bindings.table.flatMap { b in b.help.split(separator: " ").map(String.init).filter { !words.contains($0) }.map { "'\($0)' of '\(b.help)'" } }
        #expect(cut.isEmpty, "cut: \(cut.prefix(5))")
    }
}

extension String {
    func trimmingCharacters(in set: String) -> String {
        String(drop { set.contains($0) }.reversed().drop { set.contains($0) }.reversed())
    }
}
