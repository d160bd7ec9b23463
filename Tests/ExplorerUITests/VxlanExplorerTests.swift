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
}
