import Testing
@testable import TerminalText

@Suite struct TerminalEscapeTests {
    @Test func plainTextIsUnchanged() {
        #expect(TerminalEscape.escaped("vm1 → tap2 · ✓ 名前") == "vm1 → tap2 · ✓ 名前")
    }

    @Test func escapeSequencesBecomeVisible() {
        // The window-title and clear-screen injection from a node name.
        let name = "a\u{1B}]0;PWNED\u{07}\u{1B}[2J"
        let out = TerminalEscape.escaped(name)
        #expect(out == "a\\e]0;PWNED\\a\\e[2J")
        #expect(!out.unicodeScalars.contains { $0.value < 0x20 })
    }

    @Test func c1ControlsAndDelAreEscaped() {
        #expect(TerminalEscape.escaped("x\u{9B}2Jy\u{7F}") == "x\\x9b2Jy\\x7f")
        #expect(TerminalEscape.escaped("\u{0}\u{1}") == "\\0\\x01")
    }

    @Test func layoutIsKeptOnlyWhenAsked() {
        #expect(TerminalEscape.escaped("a\nb\tc\r") == "a\\nb\\tc\\r")
        #expect(TerminalEscape.escaped("a\nb\tc\r", keepingLayout: true) == "a\nb\tc\\r")
    }
}
