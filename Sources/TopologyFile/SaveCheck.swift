/// What a save in the canonical layout would lose of a file a person wrote: its comments (Yams
/// keeps none, so `TopologyWriter` cannot write them back) and its layout (order, spacing, quoting,
/// flow or block style). The explorer asks before such a save and lists the comment lines.
public struct RewriteLosses: Equatable, Sendable {
    /// Comments of the original that the rewrite does not carry, in order.
    public var droppedComments: [CommentLine]
    /// The rewrite changes more than comments: with every comment taken out of both texts (and a
    /// line that held only a comment taken out whole), they still differ, other than in where a
    /// folded block scalar (`description: >-`) breaks its lines when both fold to the same text.
    public var layoutChanges: Bool
    /// The two texts are byte for byte the same.
    public var identical: Bool

    public init(droppedComments: [CommentLine], layoutChanges: Bool, identical: Bool) {
        self.droppedComments = droppedComments
        self.layoutChanges = layoutChanges
        self.identical = identical
    }

    /// Nothing the user wrote is lost: no comment dropped, no layout changed.
    public var isLossless: Bool { droppedComments.isEmpty && !layoutChanges }
}

/// One comment of a YAML text.
public struct CommentLine: Equatable, Sendable {
    /// 1-based line and column (in Unicode scalars) of the `#`; lines are YAML's (LF, CR LF, CR,
    /// NEL, LS, PS end a line), as in diagnostics.
    public var line: Int
    public var column: Int
    /// The comment, from `#` to the end of the line.
    public var text: String
    /// Something other than blanks comes before the `#` on its line (`port: 22  # ssh`).
    public var trailing: Bool

    public init(line: Int, column: Int, text: String, trailing: Bool) {
        self.line = line
        self.column = column
        self.text = text
        self.trailing = trailing
    }
}

public enum SaveCheck {
    /// What writing `rewritten` over `original` loses. A comment counts as kept when the rewrite
    /// holds a comment with the same text (each comment of the rewrite keeps one of the original).
    public static func rewriteLosses(original: String, rewritten: String) -> RewriteLosses {
        let before = comments(in: original)
        var kept: [String: Int] = [:]
        for c in comments(in: rewritten) { kept[c.text, default: 0] += 1 }
        var dropped: [CommentLine] = []
        for c in before {
            if let n = kept[c.text], n > 0 {
                kept[c.text] = n - 1
            } else {
                dropped.append(c)
            }
        }
        return RewriteLosses(droppedComments: dropped,
                             layoutChanges: foldedBlocksJoined(withoutComments(original)) != foldedBlocksJoined(withoutComments(rewritten)),
                             identical: original == rewritten)
    }

    /// Every comment of `text`, found by libyaml's scanner rules (`YAMLGate`): a `#` starts one
    /// at the start of a line or after blanks, never inside a quoted, plain or block scalar.
    public static func comments(in text: String) -> [CommentLine] {
        let utf8 = Array(text.utf8)
        return YAMLGate.comments(in: text).map { c in
            var lineStart = c.start
            while lineStart > 0 && utf8[lineStart - 1] != 0x0A && utf8[lineStart - 1] != 0x0D
                    && !endsSeparator(utf8, before: lineStart) { lineStart -= 1 }
            let trailing = utf8[lineStart..<c.start].contains { $0 != 0x20 && $0 != 0x09 && $0 != 0xEF && $0 != 0xBB && $0 != 0xBF }
            return CommentLine(line: c.line, column: c.column,
                               text: String(decoding: utf8[c.start..<c.end], as: UTF8.self), trailing: trailing)
        }
    }

    /// NEL, LS or PS ends just before `i`.
    private static func endsSeparator(_ b: [UInt8], before i: Int) -> Bool {
        (i >= 2 && b[i - 2] == 0xC2 && b[i - 1] == 0x85)
            || (i >= 3 && b[i - 3] == 0xE2 && b[i - 2] == 0x80 && (b[i - 1] == 0xA8 || b[i - 1] == 0xA9))
    }

    /// Length in bytes of the line break at `i` (CR LF is one), or 0.
    private static func breakLength(_ b: [UInt8], at i: Int) -> Int {
        guard i < b.count else { return 0 }
        switch b[i] {
        case 0x0A: return 1
        case 0x0D: return i + 1 < b.count && b[i + 1] == 0x0A ? 2 : 1
        case 0xC2: return i + 1 < b.count && b[i + 1] == 0x85 ? 2 : 0
        case 0xE2: return i + 2 < b.count && b[i + 1] == 0x80 && (b[i + 2] == 0xA8 || b[i + 2] == 0xA9) ? 3 : 0
        default: return 0
        }
    }

    /// `text` (without comments) with each simple folded block scalar on one line: a `key: >`
    /// (a plain key),
    /// `>-` or `>+` line, then lines indented alike, none blank, more indented or ending in a
    /// blank (those fold differently), become the header and one line of their words joined by
    /// single spaces, which is the text the block folds to. Two blocks that fold to the same text
    /// come out the same; any other block is left as it is.
    static func foldedBlocksJoined(_ text: [UInt8]) -> [UInt8] {
        let lines = text.split(separator: 0x0A, omittingEmptySubsequences: false)
        func indent(_ l: ArraySlice<UInt8>) -> Int { l.prefix { $0 == 0x20 }.count }
        func isFoldedHeader(_ l: ArraySlice<UInt8>) -> Bool {
            var t = l
            while let last = t.last, last == 0x20 || last == 0x0D { t = t.dropLast() }
            if let last = t.last, last == 0x2D || last == 0x2B { t = t.dropLast() }   // >- or >+
            guard t.last == 0x3E else { return false }                                  // >
            t = t.dropLast()
            while let last = t.last, last == 0x20 { t = t.dropLast() }
            guard t.last == 0x3A else { return false }                                  // key:
            let key = t.dropLast().drop { $0 == 0x20 }
            return !key.isEmpty && key.allSatisfy { c in
                (0x30...0x39).contains(c) || (0x41...0x5A).contains(c) || (0x61...0x7A).contains(c) || c == 0x2D || c == 0x5F
            }
        }
        var out: [ArraySlice<UInt8>] = []
        var i = 0
        while i < lines.count {
            let header = lines[i]
            out.append(header)
            i += 1
            guard isFoldedHeader(header) else { continue }
            func blank(_ l: ArraySlice<UInt8>) -> Bool { l.allSatisfy { $0 == 0x20 || $0 == 0x0D } }
            var j = i
            let first = j < lines.count ? indent(lines[j]) : 0
            var simple = first > indent(header)
            while j < lines.count, !blank(lines[j]), indent(lines[j]) >= first {
                let l = lines[j]
                if indent(l) != first || l.last == 0x20 || l.last == 0x09 || l.last == 0x0D || l.contains(0x09) { simple = false }
                j += 1
            }
            // Blank lines and more of the block after them: a line break in the text, not modelled.
            var k = j
            while k < lines.count, blank(lines[k]) { k += 1 }
            if k > j, k < lines.count, indent(lines[k]) >= first { simple = false }
            guard simple, j > i else { continue }
            var joined = ArraySlice([UInt8](repeating: 0x20, count: indent(header) + 1))
            for (k, l) in lines[i..<j].enumerated() {
                if k > 0 { joined.append(0x20) }
                joined += l.dropFirst(first)
            }
            out.append(joined)
            i = j
        }
        var result: [UInt8] = []
        for (k, l) in out.enumerated() {
            if k > 0 { result.append(0x0A) }
            result += l
        }
        return result
    }

    /// `text` with its comments cut: each comment and the blanks before it; a line left blank by
    /// that (a full-line comment) goes with its line break.
    static func withoutComments(_ text: String) -> [UInt8] {
        let utf8 = Array(text.utf8)
        var out: [UInt8] = []
        out.reserveCapacity(utf8.count)
        var p = 0
        for c in YAMLGate.comments(in: text) {
            out += utf8[p..<c.start]
            while let last = out.last, last == 0x20 || last == 0x09 { out.removeLast() }
            p = c.end
            let lineBlank = out.isEmpty || out.last == 0x0A || out.last == 0x0D || endsSeparator(out, before: out.count)
            if lineBlank {
                p += breakLength(utf8, at: p)
            }
        }
        out += utf8[p...]
        return out
    }
}
