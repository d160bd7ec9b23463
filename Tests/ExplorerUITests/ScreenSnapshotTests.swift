import ExplorerUI
import Simulation
import Testing
import TopologyFile

@Suite struct ScreenSnapshotTests {
    @Test func openingScreen80x24() throws {
        assertSnapshot(try defaultState(), width: 80, height: 24, "default-80x24")
    }

    @Test func openingScreen120x40() throws {
        assertSnapshot(try defaultState(), width: 120, height: 40, "default-120x40")
    }

    @Test func tooSmall() throws {
        assertSnapshot(try defaultState(), width: 50, height: 12, "too-small-50x12")
    }

    @Test func tinyAndZeroSizesDoNotCrash() throws {
        var s = try defaultState()
        s.perform(.openHelp)
        for (w, h) in [(0, 0), (1, 1), (0, 24), (80, 0), (3, 2), (64, 18)] {
            let f = Screen.render(s, width: w, height: h)
            #expect(f.canvas.width == w && f.canvas.height == h)
        }
    }

    @Test func atTheRouter80x24() throws {
        var s = try defaultState()
        for _ in 0..<5 { s.perform(.nextStep) }
        assertSnapshot(s, width: 80, height: 24, "router-step-80x24")
    }

    @Test func afterTogglingVM1TxOff120x40() throws {
        var s = try defaultState()
        s.perform(.openOptions)
        s.perform(.menuActivate)
        assertSnapshot(s, width: 120, height: 40, "vm1-tx-off-menu-120x40")
        s.perform(.closeOverlay)
        for _ in 0..<14 { s.perform(.nextStep) }
        assertSnapshot(s, width: 120, height: 40, "vm1-tx-off-synack-120x40")
    }

    @Test func routerNetns80x24() throws {
        var s = try defaultState()
        s.perform(.selectNode("router"))
        s.perform(.openOptions)
        s.perform(.menuActivate)
        s.perform(.closeOverlay)
        s.perform(.lastStep)
        assertSnapshot(s, width: 80, height: 24, "router-netns-last-80x24")
    }

    @Test func helpAndCommands() throws {
        var s = try defaultState()
        s.perform(.openHelp)
        assertSnapshot(s, width: 80, height: 24, "help-80x24")
        s.perform(.closeOverlay)
        s.perform(.openOptions)
        s.perform(.menuActivate)
        s.perform(.closeOverlay)
        s.perform(.openCommands)
        assertSnapshot(s, width: 120, height: 40, "commands-120x40")
    }

    @Test func noColourStillDistinguishesStates() throws {
        // Every link state has its own letter on the screen, not only a colour.
        let letters = Set(ChecksumCondition.allCases.map(\.glyph))
        #expect(letters.count == ChecksumCondition.allCases.count)
        var s = try defaultState()
        s.perform(.nextStep)
        let text = Screen.render(s, width: 120, height: 40).canvas.text
        #expect(text.contains("─P─"))
        #expect(text.contains("─X─"))
    }
}
