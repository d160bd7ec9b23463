import Testing
@testable import TerminalText

#if canImport(Glibc)
import Glibc
#endif

@Suite struct DisplayWidthTests {
    /// Widths stated by hand from the Unicode character names and blocks, not from the tables.
    @Test(arguments: [
        ("", 0), ("abc", 3), ("vm-1_a", 6), ("αβγ", 3), ("дом", 3),
        ("中文", 4), ("日本語", 6), ("한국어", 6), ("ＡＢ", 4), ("ｱｲ", 2), ("あ", 2),
        ("é", 1), ("e\u{301}", 1), ("a\u{200B}b", 2), ("\u{200D}", 0), ("\u{FE0F}", 0), ("\u{FEFF}", 0),
        ("\u{1100}\u{1161}\u{11A8}", 2), ("😀", 2), ("⌚", 2), ("☃", 1), ("\u{2603}\u{FE0F}", 1),
        ("\u{1B}", 0), ("\u{7F}", 0), ("\u{85}", 0), ("\u{AD}", 1), ("\u{600}", 1),
        ("\u{20000}", 2), ("\u{2A6DF}", 2), ("\u{30000}", 2), ("\u{4DC0}", 2), ("\u{3248}", 2),
        ("─┌┐│", 4), ("…→✓·", 4), ("\u{FF61}", 1), ("\u{3000}", 2),
    ])
    func knownWidths(_ text: String, _ columns: Int) {
        #expect(DisplayWidth.of(text) == columns, "\(text.unicodeScalars.map { String($0.value, radix: 16) })")
        #expect(text.displayWidth == columns)
    }

    @Test func charactersSumTheirScalars() {
        #expect(DisplayWidth.of(Character("e\u{301}")) == 1)
        #expect(DisplayWidth.of(Character("中")) == 2)
        #expect(DisplayWidth.of(Character("\u{1100}\u{1161}")) == 2)
        #expect(DisplayWidth.of(Character("a")) == 1)
        #expect(DisplayWidth.of(Character("\r\n")) == 0)
    }

    @Test func truncateCutsByColumnsNotCharacters() {
        #expect(DisplayWidth.truncate("中文字", toColumns: 6) == "中文字")
        #expect(DisplayWidth.truncate("中文字", toColumns: 5) == "中文…")
        // A wide character never straddles the limit: one column stays empty instead.
        #expect(DisplayWidth.truncate("中文字", toColumns: 4) == "中…")
        #expect(DisplayWidth.truncate("abcdef", toColumns: 4) == "abc…")
        #expect(DisplayWidth.truncate("abc", toColumns: 0) == "")
        #expect(DisplayWidth.truncate("中", toColumns: 1) == "…")
    }

    @Test func padMakesExactlyTheColumns() {
        for text in ["", "ab", "中文字", "ｱ中a", "e\u{301}中", "名前が長いノード"] {
            for n in 0...12 {
                #expect(DisplayWidth.of(DisplayWidth.pad(text, toColumns: n)) == n, "\(text) to \(n)")
            }
        }
        #expect(DisplayWidth.pad("中文字", toColumns: 4) == "中… ")
        #expect(DisplayWidth.pad("ab", toColumns: 4) == "ab  ")
    }

    @Test func prefixFitting() {
        let (p, w) = DisplayWidth.prefix("a中b", fitting: 2)
        #expect(p == "a" && w == 1)
        #expect(DisplayWidth.prefix("a中b", fitting: 3) == ("a中", 3))
        #expect(DisplayWidth.prefix("e\u{301}x", fitting: 1) == ("e\u{301}", 1))
    }

    /// The tables agree with the C library's `wcwidth` under C.UTF-8 (what ncurses and most
    /// terminals use) for every printable scalar assigned by Unicode 14.0, the tables' version.
    /// Skipped where the C.UTF-8 locale is missing; the widths above do not need it.
    @Test func agreesWithTheCLibrary() throws {
        // Glibc's module map hides wcwidth (it needs _XOPEN_SOURCE); look it up instead.
        typealias WCWidth = @convention(c) (Int32) -> Int32
        guard let sym = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "wcwidth"),
              let loc = newlocale(LC_CTYPE_MASK, "C.UTF-8", nil) else { return }
        let wcwidth = unsafeBitCast(sym, to: WCWidth.self)
        let old = uselocale(loc)
        defer {
            uselocale(old)
            freelocale(loc)
        }
        var differences: [String] = []
        var compared = 0
        for v in UInt32(0xA0)...0x10FFFF {
            guard let s = Unicode.Scalar(v), let age = s.properties.age, age.major < 14 || (age.major == 14 && age.minor == 0) else { continue }
            if s.properties.generalCategory == .lineSeparator || s.properties.generalCategory == .paragraphSeparator { continue }
            let c = Int(wcwidth(Int32(bitPattern: v)))
            compared += 1
            if c >= 0, c != DisplayWidth.of(s) { differences.append("U+\(String(v, radix: 16)): libc \(c), here \(DisplayWidth.of(s))") }
        }
        #expect(compared > 100_000)
        #expect(differences.isEmpty, "\(differences.prefix(20))")
    }
}
