import Testing
@testable import ExplorerUI
import Simulation

/// The explorer on the VXLAN labs: every step renders (outer and inner checksums in the detail),
/// the graph draws the tunnel between its endpoints, and the menus open on the new kind.
@Suite struct VxlanExplorerTests {
    @Test(arguments: ["vxlan-udpcsum.yaml", "vxlan-outer-masquerade.yaml"])
    func everyStepRendersWithBothChecksums(file: String) throws {
        var s = try state(file: file)
        s.focus = .steps
        var sawInner = false
        for _ in 0..<60 {
            let text = Screen.render(s, width: 160, height: 50).canvas.text
            if text.contains("inner TCP") || text.contains("inner UDP") { sawInner = true }
            press(&s, .down)
        }
        #expect(sawInner)
        // Keys that open menus and forms on whatever is selected must not trap either.
        for k: Key in [.tab, .char("o"), .escape, .tab, .char("e"), .escape, .char("a"), .escape] {
            press(&s, k)
            _ = Screen.render(s, width: 100, height: 30).canvas.text
        }
    }

    @Test func theTunnelIsALinkBetweenItsEndpoints() throws {
        let s = try state(file: "vxlan-udpcsum.yaml")
        let layout = GraphLayout.make(s.document.current.structure, root: "nodeA")
        #expect(layout.routes.contains { Set([$0.a, $0.b]) == ["vxA", "vxB"] })
    }

    @Test func theHexPaneMarksTheOuterAndTheInnerField() throws {
        var s = try state(file: "vxlan-udpcsum.yaml")
        s.focus = .steps
        // Move to the first step that carries a tunnelled frame.
        for _ in 0..<10 where s.currentStep?.inner == nil { press(&s, .down) }
        let st = try #require(s.currentStep)
        let inner = try #require(st.inner)
        var c = Canvas(width: 80, height: 30)
        HexView.draw(s, in: Rect(x: 0, y: 0, width: 80, height: 30), on: &c)
        // 16 bytes a row from x = 6 ("0000 " after the border), three columns a byte, one more after the eighth.
        func marked(_ i: Int) -> Bool {
            let row = i / 16, col = i % 16
            let x = 1 + 5 + col * 3 + (col >= 8 ? 1 : 0)
            return c[x, 1 + row].style == Theme.checksumField
        }
        let innerField = inner.l4Offset + (inner.l4Protocol == .tcp ? 16 : 6)
        #expect(marked(40) && marked(41))                  // outer UDP checksum
        #expect(marked(innerField) && marked(innerField + 1))
        #expect(!marked(0) && !marked(24))
    }

    /// Both checksum ranges: the outer UDP range's own part (outer UDP header up to the inner L4
    /// header) in one colour, the inner range (inner L4 header to the end, which the outer sum
    /// also covers) in the other; nothing before the outer UDP header.
    @Test func theHexPaneShowsTheOuterAndTheInnerRange() throws {
        var s = try state(file: "vxlan-udpcsum.yaml")
        s.focus = .steps
        // A tunnelled frame on a step that changed nothing (so no byte is drawn as changed).
        for _ in 0..<40 where s.currentStep.map({ $0.inner == nil || !$0.changedBytes.isEmpty }) ?? true { press(&s, .down) }
        let st = try #require(s.currentStep)
        let inner = try #require(st.inner)
        #expect(st.changedBytes.isEmpty)
        var c = Canvas(width: 80, height: 40)
        HexView.draw(s, in: Rect(x: 0, y: 0, width: 80, height: 40), on: &c)
        func style(_ i: Int) -> Style {
            let row = i / 16, col = i % 16
            return c[1 + 5 + col * 3 + (col >= 8 ? 1 : 0), 1 + row].style
        }
        let outerUDP = 34  // 14 (Ethernet) + 20 (IPv4): the lab's outer header
        #expect(style(outerUDP - 1) == .plain)
        #expect(style(outerUDP) == Theme.outerCsumRange && style(inner.l4Offset - 1) == Theme.outerCsumRange)
        #expect(style(inner.l4Offset) == Theme.csumRange && style(st.frame.count - 1) == Theme.csumRange)
        #expect(c.text.contains("|_range_ outer blue, inner cyan"))
        // Without colour the two ranges still differ: a `|` in the gap before each one's first
        // byte, and in no other gap.
        func gapBefore(_ i: Int) -> Character {
            let row = i / 16, col = i % 16
            return c[1 + 5 + col * 3 + (col >= 8 ? 1 : 0) - 1, 1 + row].char
        }
        #expect(gapBefore(outerUDP) == "|" && gapBefore(inner.l4Offset) == "|")
        let marks = (1..<st.frame.count).filter { gapBefore($0) == "|" }
        #expect(marks == [outerUDP, inner.l4Offset])
    }
}
