/// Byte-level mutations of a YAML text, shared by the fuzz tests of topology and lesson files
/// (each picks its own mix and vocabulary). Deterministic for a given `SplitMix` state.
public struct YAMLMutations: Sendable {
    /// Bytes besides letters, digits and `_ . : / -` that belong to a word (lessons add `=`, for
    /// `--set` assignments).
    public var extraWordBytes: Set<UInt8>

    public init(extraWordBytes: Set<UInt8> = []) {
        self.extraWordBytes = extraWordBytes
    }

    /// Characters per line, lines split at YAML's line breaks as the diagnostics count them.
    public static func lineLengths(_ text: String) -> [Int] {
        var out: [Int] = []
        var count = 0
        var previousCR = false
        for s in text.unicodeScalars {
            switch s {
            case "\n" where previousCR:
                break
            case "\n", "\r", "\u{85}", "\u{2028}", "\u{2029}":
                out.append(count)
                count = 0
            default:
                count += 1
            }
            previousCR = s == "\r"
        }
        out.append(count)
        return out
    }

    /// The line around a random byte, its line break included.
    public func lineRange(_ b: [UInt8], _ rng: inout SplitMix) -> Range<Int> {
        let i = Int.random(in: 0..<b.count, using: &rng)
        var start = i, end = i
        while start > 0 && b[start - 1] != 0x0A { start -= 1 }
        while end < b.count && b[end] != 0x0A { end += 1 }
        return start..<min(end + 1, b.count)
    }

    public func isWord(_ c: UInt8) -> Bool {
        switch c {
        case 0x30...0x39, 0x41...0x5A, 0x61...0x7A, 0x80...0xFF, UInt8(ascii: "_"), UInt8(ascii: "."),
             UInt8(ascii: ":"), UInt8(ascii: "/"), UInt8(ascii: "-"):
            return true
        default:
            return extraWordBytes.contains(c)
        }
    }

    /// The word (a run of name and value characters) at or after a random byte.
    public func randomWord(_ b: [UInt8], _ rng: inout SplitMix) -> Range<Int>? {
        guard !b.isEmpty else { return nil }
        var i = Int.random(in: 0..<b.count, using: &rng)
        while i < b.count && !isWord(b[i]) { i += 1 }
        guard i < b.count else { return nil }
        var start = i, end = i
        while start > 0 && isWord(b[start - 1]) { start -= 1 }
        while end < b.count && isWord(b[end]) { end += 1 }
        return start..<end
    }

    public func replaceWord(_ b: inout [UInt8], from vocabulary: [String], _ rng: inout SplitMix) {
        guard let r = randomWord(b, &rng) else { return }
        let w = vocabulary.randomElement(using: &rng)!
        b.replaceSubrange(r, with: Array(w.utf8))
    }

    public func flip(_ b: inout [UInt8], _ rng: inout SplitMix) {
        guard !b.isEmpty else { return }
        let i = Int.random(in: 0..<b.count, using: &rng)
        if Bool.random(using: &rng) {
            b[i] ^= UInt8(1) << UInt8.random(in: 0..<8, using: &rng)
        } else {
            b[i] = Array("{}[],:-?&*!|>'\"%@`# \t\n".utf8).randomElement(using: &rng)!
        }
    }

    public func deleteLine(_ b: inout [UInt8], _ rng: inout SplitMix) {
        guard !b.isEmpty else { return }
        b.removeSubrange(lineRange(b, &rng))
    }

    public func duplicateLine(_ b: inout [UInt8], _ rng: inout SplitMix) {
        guard !b.isEmpty else { return }
        let r = lineRange(b, &rng)
        b.insert(contentsOf: Array(b[r]), at: r.lowerBound)
    }

    public func insertUnicode(_ b: inout [UInt8], _ rng: inout SplitMix) {
        guard let r = randomWord(b, &rng) else { return }
        let u = ["日本語", "e\u{301}", "\u{200B}", "\u{FFFD}", "😀", "\u{202E}", "Ω", String(repeating: "x", count: 70)].randomElement(using: &rng)!
        b.insert(contentsOf: Array(u.utf8), at: r.upperBound)
    }

    public func shiftIndent(_ b: inout [UInt8], _ rng: inout SplitMix) {
        guard !b.isEmpty else { return }
        let r = lineRange(b, &rng)
        if Bool.random(using: &rng) {
            b.insert(contentsOf: Array(String(repeating: " ", count: Int.random(in: 1...4, using: &rng)).utf8), at: r.lowerBound)
        } else if b[r.lowerBound] == 0x20 {
            b.remove(at: r.lowerBound)
        }
    }
}
