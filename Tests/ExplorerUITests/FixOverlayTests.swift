import ExplorerUI
import Simulation
import Testing

/// `F`: the fixes for the current flow, and Enter applies one as a single change.
@Suite struct FixOverlayTests {
    @Test func fixesForTheSeedQuestion() throws {
        var s = try defaultState()
        #expect(s.flow?.verdict.completes == false)
        // The status bar points at F while the flow fails.
        let before = Screen.render(s, width: 120, height: 40).canvas.lines.joined(separator: "\n")
        #expect(before.contains("press F for fixes"))
        press(&s, .char("F"))
        guard case .fixes(0)? = s.overlay else { Issue.record("no fix list: \(s.message ?? "")"); return }
        #expect(s.fixes.first?.changes.count == 1, "a one-change fix at the router comes first")
        #expect(s.fixes.contains { Set($0.changes.map(\.assignment)) == ["router.vnet-hdr=on"] })
        let screen = Screen.render(s, width: 120, height: 40).canvas.lines.joined(separator: "\n")
        #expect(screen.contains("Fixes for flow ssh"))
        // Apply the second one: its toggles become the lab's, in one step, and the flow works.
        press(&s, .down)
        let chosen = s.fixes[1].changes.map(\.assignment)
        press(&s, .enter)
        #expect(s.overlay == nil)
        #expect(Set(s.assignments) == Set(chosen))
        #expect(s.flow?.verdict.completes == true)
        #expect(s.message?.contains("fix 2") == true)
        // r returns to the file.
        press(&s, .char("r"))
        #expect(s.assignments.isEmpty)
    }

    /// A fix that works only because a wrong checksum goes unchecked is marked in the list and
    /// explained under it when selected (vxlan-outer-masquerade: tx on for the veth standing in
    /// for a NIC, ranked last).
    @Test func aFixRelyingOnAnUncheckedChecksumIsMarked() throws {
        var s = try state(file: "vxlan-outer-masquerade.yaml")
        press(&s, .char("F"))
        guard case .fixes(0)? = s.overlay else { Issue.record("no fix list: \(s.message ?? "")"); return }
        let i = try #require(s.fixes.firstIndex { $0.changes.map(\.assignment) == ["wire.wireA.tx=on"] })
        #expect(i == s.fixes.count - 1)
        for _ in 0..<i { press(&s, .down) }
        let screen = Screen.render(s, width: 160, height: 50).canvas.lines.joined(separator: "\n")
        #expect(screen.contains("· unchecked bad csum)"))
        #expect(screen.contains("works only because a bad checksum goes unchecked"))
    }

    @Test func aWorkingFlowHasNothingToFix() throws {
        var s = try state(file: "seed-routed-netns.yaml")
        press(&s, .char("F"))
        #expect(s.overlay == nil)
        #expect(s.message?.contains("already works") == true)
    }

    /// Moving through the list previews each fix: the trace behind the list is the lab with that
    /// fix, its changed hops are marked, nothing is committed; Esc returns to the lab as it was.
    @Test func selectingAFixPreviewsItAndEscReturns() throws {
        var s = try defaultState()
        let position = 3
        s.perform(.jumpToStep(position))
        let before = s.trace
        press(&s, .char("F"))
        #expect(s.preview?.fix == 0)
        #expect(s.flow?.verdict.completes == true, "the preview shows the flow working")
        #expect(!s.changedSteps.isEmpty)
        #expect(s.assignments.isEmpty, "nothing committed")
        #expect(!s.document.canUndo)
        let screen = Screen.render(s, width: 120, height: 40).canvas.lines.joined(separator: "\n")
        #expect(screen.contains("preview (behind this list): connection completes"))
        press(&s, .down)
        #expect(s.preview?.fix == 1)
        var expected = s.document.current.materialized().topology
        for ch in s.fixes[1].changes { try expected.apply(assignment: ch.assignment) }
        #expect(s.trace == (try Simulator(expected).run()))
        press(&s, .escape)
        #expect(s.preview == nil)
        // Closing the list any other way ends the preview too.
        press(&s, .char("F"))
        #expect(s.flow?.verdict.completes == true)
        s.overlay = nil
        #expect(s.trace == before)
        press(&s, .escape)
        #expect(s.trace == before)
        #expect(s.position == position)
        #expect(s.changedSteps.isEmpty)
    }
}
