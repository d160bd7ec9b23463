@testable import ExplorerUI
import Simulation
import Testing
import TerminalText
import TopologyFile

/// A row as the terminal shows it: one entry per column, a wide character followed by a
/// placeholder for the column it also covers.
func terminalColumns(_ line: String) -> [Character] {
    var out: [Character] = []
    for ch in line {
        let w = DisplayWidth.of(ch)
        guard w > 0 else { continue }
        out.append(ch)
        if w == 2 { out.append("\u{0}") }
    }
    return out
}

/// The screen as a terminal shows it, column by column.
func terminalGrid(_ c: Canvas) -> [[Character]] {
    c.lines.map { l in
        var row = terminalColumns(l)
        row += Array(repeating: " ", count: max(0, c.width - row.count))
        return row
    }
}

@Suite struct CanvasWideCharacterTests {
    @Test func aWideCharacterTakesTwoCells() {
        var c = Canvas(width: 8, height: 1)
        let end = c.put("a中b", x: 0, y: 0)
        #expect(end == 4)
        #expect(c[1, 0].char == "中" && c[1, 0].isWide)
        #expect(c[2, 0].isContinuation)
        #expect(c[3, 0].char == "b")
        #expect(c.lines == ["a中b"])
        #expect(terminalColumns(c.lines[0]).count == 4)
    }

    @Test func combiningMarksStayWithTheirBase() {
        var c = Canvas(width: 4, height: 1)
        #expect(c.put("e\u{301}x", x: 0, y: 0) == 2)
        #expect(c[0, 0].char == "e\u{301}")
        #expect(c[1, 0].char == "x")
    }

    @Test func aWideCharacterThatDoesNotFitIsLeftOut() {
        var c = Canvas(width: 8, height: 1)
        #expect(c.put("ab中", x: 0, y: 0, maxWidth: 3) == 2)
        #expect(c.lines == ["ab"])
        // At the canvas edge it becomes a space, never half a character.
        var d = Canvas(width: 3, height: 1)
        d.put("ab中", x: 0, y: 0)
        #expect(!d[2, 0].isWide && !d[2, 0].isContinuation)
        // At the clip edge too.
        var e = Canvas(width: 6, height: 1)
        e.clip = Rect(x: 0, y: 0, width: 3, height: 1)
        e.put("ab中", x: 0, y: 0)
        #expect(!e[2, 0].isWide && e[3, 0] == .blank)
    }

    @Test func overwritingHalfAWideCharacterBlanksTheOtherHalf() {
        var c = Canvas(width: 6, height: 1)
        c.put("中文", x: 0, y: 0)
        c[1, 0] = Cell("x")  // the right half of 中
        #expect(c.lines == [" x文"])
        c[2, 0] = Cell("y")  // the left half of 文
        #expect(c.lines == [" xy"])
        #expect(!c.cells.contains { $0.isContinuation })
        var d = Canvas(width: 6, height: 1)
        d.put("中文", x: 0, y: 0)
        d.put("日", x: 1, y: 0)  // across both
        #expect(d.lines == [" 日"])
        #expect(terminalColumns(d.lines[0]).count == 3)
        // A stray continuation is a space.
        d[5, 0] = .continuation(.plain)
        #expect(!d[5, 0].isContinuation)
    }

    @Test func blitCutsWideCharactersAtTheAreaEdges() {
        var src = Canvas(width: 6, height: 1)
        src.put("中文字", x: 0, y: 0)
        var dst = Canvas(width: 10, height: 1)
        dst.put("..........", x: 0, y: 0)
        dst.blit(src, from: 1, 0, into: Rect(x: 2, y: 0, width: 4, height: 1))
        // Source columns 1–4: the half of 中, 文, the half of 字.
        #expect(dst.lines == [".. 文 ...."])
        for (i, cell) in dst.cells.enumerated() where cell.isContinuation { #expect(dst.cells[i - 1].isWide) }
    }
}

@Suite struct WideNamesTests {
    static let lab = """
        csumlab: 1
        name: 中文-lab
        nodes:
          虚拟机一:
            kind: vm
            interfaces:
              eth0: {address: [10.0.0.1/24]}
          虚拟机二:
            kind: vm
            interfaces:
              eth0: {address: [10.0.0.2/24]}
          タップ1: {kind: tap}
          タップ2: {kind: tap}
          ブリッジ: {kind: bridge}
        links:
          - endpoints: ["虚拟机一:eth0", "タップ1"]
          - endpoints: ["タップ1", "ブリッジ"]
          - endpoints: ["ブリッジ", "タップ2"]
          - endpoints: ["タップ2", "虚拟机二:eth0"]
        flows:
          网络: {type: tcp, from: 虚拟机一, to: 虚拟机二, port: 22}
        """

    func state() throws -> ExplorerState {
        let loaded = try TopologyFile.parse(Self.lab, file: "cjk.yaml")
        return try ExplorerState(topology: loaded.topology, fileLabel: "cjk.yaml")
    }

    /// Every node box closes: as the terminal shows the graph, each border is where the layout
    /// put it, on all three rows, and the name sits inside.
    @Test func graphBoxesClose() throws {
        let s = try state()
        let g = GraphLayout.make(s.topology, root: s.flow?.from)
        let grid = terminalGrid(GraphView.canvas(s, layout: g))
        for b in g.boxes {
            let r = b.rect
            #expect(r.width == DisplayWidth.of(b.node) + 4)
            let top = grid[r.y], mid = grid[r.y + 1], bottom = grid[r.maxY - 1]
            #expect(top[r.x] == "┌" && top[r.maxX - 1] == "┐", "\(b.node): \(String(top))")
            #expect("│├┤".contains(mid[r.x]) && "│├┤".contains(mid[r.maxX - 1]), "\(b.node): \(String(mid))")
            #expect(bottom[r.x] == "└" && bottom[r.maxX - 1] == "┘", "\(b.node): \(String(bottom))")
            let inside = String(mid[(r.x + 1)..<(r.maxX - 1)].filter { $0 != "\u{0}" })
            #expect(inside.contains(b.node), "\(b.node) not inside its box: \(inside)")
        }
    }

    /// The steps list's columns line up in terminal columns: the state column starts at the
    /// same column on every step row, and the separator to the detail pane stays put.
    @Test func stepColumnsAlign() throws {
        let s = try state()
        let r = Rect(x: 0, y: 0, width: 60, height: 40)
        var c = Canvas(width: 60, height: 40)
        var hits: [HitRegion] = []
        StepsView.draw(s, in: r, on: &c, hits: &hits)
        let lines = c.lines
        let f = try #require(s.flow)
        var stateColumns = Set<Int>(), separators = Set<Int>(), stepRows = 0
        for (i, row) in StepsView.rows(s).enumerated() where i + 1 < lines.count {
            guard case let .step(_, ref) = row else { continue }
            let st = f.legs[ref.leg].steps[ref.step]
            let line = lines[i + 1]
            let state = st.before.short + "→" + st.after.short
            let at = try #require(line.range(of: state), "no \(state) in \(line)")
            stateColumns.insert(DisplayWidth.of(line[..<at.lowerBound]))
            separators.insert(terminalColumns(line).lastIndex(of: "│") ?? -1)
            stepRows += 1
        }
        #expect(stepRows > 10)
        #expect(stateColumns.count == 1, "state column at \(stateColumns.sorted())")
        #expect(separators == [r.maxX - 1], "separator at \(separators.sorted())")
    }

    @Test func wideNamesScreen() throws {
        var s = try state()
        s.perform(.nextStep)
        s.perform(.nextStep)
        assertSnapshot(s, width: 100, height: 30, "wide-names-100x30")
        s.perform(.selectNode("タップ1"))
        s.perform(.openOptions)
        assertSnapshot(s, width: 100, height: 30, "wide-names-menu-100x30")
    }
}
