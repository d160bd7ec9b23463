/// A pass over the YAML text that runs before Yams composes it, so that no input can make the
/// load explode: it rejects anchors and aliases, characters YAML's reader refuses, nesting deeper
/// than `maxDepth` and more than `maxTokens` tokens, each with the line and column where it occurs.
///
/// Why a pass of our own, and why before Yams: an alias bomb (`a: &a [x, x]`, `b: &b [*a, *a]`, …,
/// `? *i`) is a few hundred bytes, but the tree it denotes is exponential, and Yams' composer
/// hashes every mapping key in full (`checkDuplicates` in Yams' Parser.swift) while it builds the
/// tree — so an alias is already too late once Yams has seen it. The topology format never needs
/// anchors or aliases. The alternatives were weighed and set aside:
/// - libyaml's own scanner through the system `libyaml-dev`: Yams links its own bundled copy of
///   libyaml (`CYaml`) with the same `yaml_*` symbol names, so the executable's static copy would
///   silently interpose and we would drive Yams' copy through the system header's struct layouts
///   (an ABI match by luck, and a new system package for CI). `CYaml` itself is not a product.
/// - A fork of Yams with a bounded duplicate check: a vendored dependency to maintain, and it still
///   has to agree with us about what an anchor is.
///
/// So this is a port of the token-boundary rules of libyaml's scanner (the 0.2.5 copy inside
/// Yams: `scanner.c`): the indentation stack, the flow level, simple keys, plain scalars (with
/// their multi-line continuation), quoted scalars with escapes, block scalars (`|`, `>`) with
/// their indentation, comments, tags and directives. It builds no values; it only finds where each
/// token starts, which is where `&` and `*` mean an anchor or an alias. An `&` or `*` inside a plain
/// scalar (`R&D`, `see a *b`), a quoted scalar, a block scalar, a comment or a tag is text, as
/// it is for libyaml. Once libyaml would stop with a syntax error, what this pass does afterwards
/// no longer matters (Yams never reads further), so it never reports syntax errors itself: Yams
/// does, with its own location. Work is linear in the text: every step consumes a character or
/// ends a loop.
struct YAMLGate {
    /// Largest file read and parsed, in bytes (a 64,000-node lab is about 4 MB).
    static let maxBytes = 4 << 20
    /// Most YAML tokens (keys, values, indicators) in one file.
    static let maxTokens = 2_000_000
    /// Deepest nesting of lists and maps (the format needs 5).
    static let maxDepth = 64

    /// The first problem found, at a 1-based line and column (columns count Unicode scalars, as
    /// libyaml and Yams do).
    struct Problem: Error, Equatable {
        var line: Int
        var column: Int
        var message: String
    }

    /// The limits a check applies (tests lower them to reach them cheaply).
    struct Limits {
        var maxBytes = YAMLGate.maxBytes
        var maxTokens = YAMLGate.maxTokens
        var maxDepth = YAMLGate.maxDepth
    }

    /// Check `text`; nil if Yams may compose it.
    static func check(_ text: String, limits: Limits = Limits()) -> Problem? {
        if text.utf8.count > limits.maxBytes {
            return Problem(line: 1, column: 1, message: sizeMessage)
        }
        var copy = text
        return copy.withUTF8 { bytes -> Problem? in
            var scanner = YAMLGate(bytes, limits)
            if let p = scanner.firstForbiddenCharacter() { return p }
            var gate = YAMLGate(bytes, limits)
            return gate.scanned()
        }
    }

    /// A comment as libyaml's scanner finds it: from its `#` to the end of the line.
    struct Comment: Equatable {
        /// 1-based line and column (in Unicode scalars) of the `#`.
        var line: Int
        var column: Int
        /// Byte offsets of the `#` and of the end of the comment in the UTF-8 text.
        var start: Int
        var end: Int
    }

    /// Every comment in `text`, in order, found by the same scanner rules as `check`, so a `#` inside
    /// a quoted scalar, a block scalar (`|`, `>`) or a plain scalar (`a#b`) is text, as it is for
    /// libyaml, and a `#` that libyaml skips as a comment is one (also `"x"#y`, which libyaml takes
    /// as a comment although the YAML specification wants a space first). No limits apply and
    /// anchors are read as names; after a syntax error libyaml would refuse, the rest is scanned
    /// by the same rules, on a best-effort basis.
    static func comments(in text: String) -> [Comment] {
        var copy = text
        return copy.withUTF8 { bytes -> [Comment] in
            var gate = YAMLGate(bytes, Limits(maxBytes: .max, maxTokens: .max, maxDepth: .max))
            gate.comments = []
            _ = gate.scanned()
            return gate.comments ?? []
        }
    }

    private mutating func skipComment() {
        let start = cur.p, line = cur.line, column = cur.column
        while !cur.isBreakZ() { cur.skip() }
        comments?.append(Comment(line: line + 1, column: column + 1, start: start, end: cur.p))
    }

    static let sizeMessage = "file is larger than \(maxBytes >> 20) MiB (the limit for a topology file)"

    // MARK: State (names follow libyaml's scanner)

    private struct SimpleKey {
        var possible = false
        var line = 0
        var column = 0
        var index = 0
    }

    private var flowLevel = 0
    private var indent = -1
    private var indents: [Int] = []
    private var simpleKeyAllowed = true
    private var simpleKeys = [SimpleKey()]
    private var tokens = 0
    private let limits: Limits
    /// Comments found, when scanning for them (`comments(in:)`) rather than gating.
    private var comments: [Comment]?

    private var cur: Cursor

    private init(_ bytes: UnsafeBufferPointer<UInt8>, _ limits: Limits) {
        cur = Cursor(b: bytes)
        self.limits = limits
    }



    /// The first character libyaml's reader refuses ("control characters are not allowed"):
    /// everything below U+0020 but tab, LF and CR; DEL; C1 controls but NEL; U+FFFE and U+FFFF.
    /// Reported here, located, rather than as a reader error at a byte offset.
    private mutating func firstForbiddenCharacter() -> Problem? {
        while !cur.atEnd {
            if cur.isBreak() {
                cur.skipLine()
                continue
            }
            let v = cur.scalarValue()
            cur.skip()
            let ok = v == 0x09 || (0x20...0x7E).contains(v) || v == 0x85 || (0xA0...0xD7FF).contains(v)
                || (0xE000...0xFFFD).contains(v) || (0x10000...0x10FFFF).contains(v)
            if !ok {
                let hex = String(v, radix: 16, uppercase: true)
                return Problem(line: cur.line + 1, column: cur.column,
                               message: "control character U+\(String(repeating: "0", count: max(0, 4 - hex.count)) + hex) is not allowed in a YAML file (write it as an escape in a double-quoted string, if it is wanted at all)")
            }
        }
        return nil
    }

    // MARK: Tokens

    private mutating func countToken() throws(Problem) {
        tokens += 1
        if tokens > limits.maxTokens {
            throw cur.problem("more than \(limits.maxTokens) YAML tokens (the limit for a topology file)")
        }
    }

    private mutating func scanned() -> Problem? {
        do {
            try scan()
            return nil
        } catch {
            return error
        }
    }

    private mutating func scan() throws(Problem) {
        while true {
            scanToNextToken()
            staleSimpleKeys()
            unrollIndent(cur.column)
            if cur.atEnd { return }
            try countToken()
            let c = cur.at()
            if cur.column == 0 && c == UInt8(ascii: "%") {
                unrollIndent(-1)
                removeSimpleKey()
                simpleKeyAllowed = false
                while !cur.isBreakZ() { cur.skip() }
                cur.skipLine()
                continue
            }
            if cur.column == 0 && cur.isDocumentIndicator() {
                unrollIndent(-1)
                removeSimpleKey()
                simpleKeyAllowed = false
                cur.skip(); cur.skip(); cur.skip()
                continue
            }
            switch c {
            case UInt8(ascii: "["), UInt8(ascii: "{"):
                saveSimpleKey()
                flowLevel += 1
                simpleKeys.append(SimpleKey())
                try checkDepth()
                simpleKeyAllowed = true
                cur.skip()
            case UInt8(ascii: "]"), UInt8(ascii: "}"):
                removeSimpleKey()
                if flowLevel > 0 {
                    flowLevel -= 1
                    simpleKeys.removeLast()
                }
                simpleKeyAllowed = false
                cur.skip()
            case UInt8(ascii: ","):
                removeSimpleKey()
                simpleKeyAllowed = true
                cur.skip()
            case UInt8(ascii: "-") where cur.isBlankZ(1):
                if flowLevel == 0 { try rollIndent(cur.column) }
                removeSimpleKey()
                simpleKeyAllowed = true
                cur.skip()
            case UInt8(ascii: "?") where flowLevel > 0 || cur.isBlankZ(1):
                if flowLevel == 0 { try rollIndent(cur.column) }
                removeSimpleKey()
                simpleKeyAllowed = flowLevel == 0
                cur.skip()
            case UInt8(ascii: ":") where flowLevel > 0 || cur.isBlankZ(1):
                try fetchValue()
            case UInt8(ascii: "*") where comments != nil, UInt8(ascii: "&") where comments != nil:
                // Looking for comments only: an anchor or alias is a name, as libyaml scans it.
                saveSimpleKey()
                simpleKeyAllowed = false
                cur.skip()
                while Cursor.isAlpha(cur.at()) { cur.skip() }
            case UInt8(ascii: "*"):
                throw cur.problem("YAML aliases (*name) are not supported in topology files: write the value out")
            case UInt8(ascii: "&"):
                throw cur.problem("YAML anchors (&name) are not supported in topology files: write the value out")
            case UInt8(ascii: "!"):
                saveSimpleKey()
                simpleKeyAllowed = false
                scanTag()
            case UInt8(ascii: "|") where flowLevel == 0, UInt8(ascii: ">") where flowLevel == 0:
                removeSimpleKey()
                simpleKeyAllowed = true
                scanBlockScalar()
            case UInt8(ascii: "'"), UInt8(ascii: "\""):
                saveSimpleKey()
                simpleKeyAllowed = false
                scanQuotedScalar(single: c == UInt8(ascii: "'"))
            default:
                if startsPlainScalar() {
                    saveSimpleKey()
                    simpleKeyAllowed = false
                    scanPlainScalar()
                } else {
                    // libyaml stops here ("found character that cannot start any token").
                    cur.skip()
                }
            }
        }
    }

    private func startsPlainScalar() -> Bool {
        let cur = self.cur
        let c = cur.at()
        let isIndicator: Bool
        switch c {
        case UInt8(ascii: "-"), UInt8(ascii: "?"), UInt8(ascii: ":"), UInt8(ascii: ","), UInt8(ascii: "["),
             UInt8(ascii: "]"), UInt8(ascii: "{"), UInt8(ascii: "}"), UInt8(ascii: "#"), UInt8(ascii: "&"),
             UInt8(ascii: "*"), UInt8(ascii: "!"), UInt8(ascii: "|"), UInt8(ascii: ">"), UInt8(ascii: "'"),
             UInt8(ascii: "\""), UInt8(ascii: "%"), UInt8(ascii: "@"), UInt8(ascii: "`"):
            isIndicator = true
        default:
            isIndicator = false
        }
        if !(cur.isBlankZ() || isIndicator) { return true }
        if c == UInt8(ascii: "-") && !cur.isBlank(1) { return true }
        return flowLevel == 0 && (c == UInt8(ascii: "?") || c == UInt8(ascii: ":")) && !cur.isBlankZ(1)
    }

    private mutating func scanToNextToken() {
        while true {
            if cur.column == 0 && cur.at() == 0xEF && cur.at(1) == 0xBB && cur.at(2) == 0xBF { cur.skip() }
            while cur.at() == 0x20 || ((flowLevel > 0 || !simpleKeyAllowed) && cur.at() == 0x09) { cur.skip() }
            if cur.at() == UInt8(ascii: "#") { skipComment() }
            guard cur.isBreak() else { return }
            cur.skipLine()
            if flowLevel == 0 { simpleKeyAllowed = true }
        }
    }

    // MARK: Indentation and simple keys

    private mutating func checkDepth() throws(Problem) {
        if indents.count + flowLevel > limits.maxDepth {
            throw cur.problem("lists and maps nested more than \(limits.maxDepth) deep (the limit for a topology file)")
        }
    }

    private mutating func rollIndent(_ col: Int) throws(Problem) {
        guard flowLevel == 0, indent < col else { return }
        indents.append(indent)
        indent = col
        try checkDepth()
    }

    private mutating func unrollIndent(_ col: Int) {
        guard flowLevel == 0 else { return }
        while indent > col { indent = indents.removeLast() }
    }

    private mutating func saveSimpleKey() {
        guard simpleKeyAllowed else { return }
        simpleKeys[simpleKeys.count - 1] = SimpleKey(possible: true, line: cur.line, column: cur.column, index: cur.index)
    }

    private mutating func removeSimpleKey() {
        simpleKeys[simpleKeys.count - 1].possible = false
    }

    /// A key stops being possible on the next cur.line or 1024 characters on. Only the innermost
    /// level can change state here, the outer ones are checked when they become innermost again
    /// (libyaml walks them all; the result is the same because only the top key is ever used).
    private mutating func staleSimpleKeys() {
        let k = simpleKeys[simpleKeys.count - 1]
        if k.possible && (k.line < cur.line || k.index + 1024 < cur.index) {
            simpleKeys[simpleKeys.count - 1].possible = false
        }
    }

    private mutating func fetchValue() throws(Problem) {
        let k = simpleKeys[simpleKeys.count - 1]
        if k.possible {
            try rollIndent(k.column)
            simpleKeys[simpleKeys.count - 1].possible = false
            simpleKeyAllowed = false
        } else {
            if flowLevel == 0 { try rollIndent(cur.column) }
            simpleKeyAllowed = flowLevel == 0
        }
        cur.skip()
    }

    // MARK: Scalars and tags

    private mutating func scanPlainScalar() {
        let minIndent = indent + 1
        var leadingBlanks = false
        while true {
            if cur.column == 0 && cur.isDocumentIndicator() { break }
            if cur.at() == UInt8(ascii: "#") { break }
            while !cur.isBlankZ() {
                let c = cur.at()
                if c == UInt8(ascii: ":") && cur.isBlankZ(1) { break }
                if flowLevel > 0 && (c == UInt8(ascii: ",") || c == UInt8(ascii: "[") || c == UInt8(ascii: "]")
                                     || c == UInt8(ascii: "{") || c == UInt8(ascii: "}")) { break }
                leadingBlanks = false
                cur.skip()
            }
            guard cur.isBlank() || cur.isBreak() else { break }
            while cur.isBlank() || cur.isBreak() {
                if cur.isBlank() {
                    cur.skip()
                } else {
                    cur.skipLine()
                    leadingBlanks = true
                }
            }
            if flowLevel == 0 && cur.column < minIndent { break }
        }
        if leadingBlanks { simpleKeyAllowed = true }
    }

    private mutating func scanQuotedScalar(single: Bool) {
        let quote = single ? UInt8(ascii: "'") : UInt8(ascii: "\"")
        cur.skip()
        while true {
            if cur.atEnd { return }
            while !cur.isBlankZ() {
                let c = cur.at()
                if single && c == quote && cur.at(1) == quote {
                    cur.skip(); cur.skip()
                } else if c == quote {
                    break
                } else if !single && c == UInt8(ascii: "\\") && cur.isBreak(1) {
                    cur.skip()
                    cur.skipLine()
                    break
                } else if !single && c == UInt8(ascii: "\\") {
                    cur.skip()
                    cur.skip()
                } else {
                    cur.skip()
                }
            }
            if cur.at() == quote && !cur.atEnd { break }
            while cur.isBlank() || cur.isBreak() {
                if cur.isBlank() { cur.skip() } else { cur.skipLine() }
            }
        }
        cur.skip()
    }

    private mutating func scanBlockScalar() {
        cur.skip()
        var increment = 0
        func digit(_ c: UInt8) -> Int? { c >= 0x31 && c <= 0x39 ? Int(c - 0x30) : nil }
        if cur.at() == UInt8(ascii: "+") || cur.at() == UInt8(ascii: "-") {
            cur.skip()
            if let d = digit(cur.at()) { increment = d; cur.skip() }
        } else if let d = digit(cur.at()) {
            increment = d
            cur.skip()
            if cur.at() == UInt8(ascii: "+") || cur.at() == UInt8(ascii: "-") { cur.skip() }
        }
        while cur.isBlank() { cur.skip() }
        if cur.at() == UInt8(ascii: "#") { skipComment() }
        // libyaml stops unless the header cur.line ends here.
        guard cur.isBreakZ() else { return }
        cur.skipLine()
        var blockIndent = increment > 0 ? (indent >= 0 ? indent + increment : increment) : 0
        blockScalarBreaks(&blockIndent)
        while cur.column == blockIndent && !cur.atEnd {
            while !cur.isBreakZ() { cur.skip() }
            cur.skipLine()
            blockScalarBreaks(&blockIndent)
        }
    }

    private mutating func blockScalarBreaks(_ blockIndent: inout Int) {
        var maxIndent = 0
        while true {
            while (blockIndent == 0 || cur.column < blockIndent) && cur.at() == 0x20 { cur.skip() }
            if cur.column > maxIndent { maxIndent = cur.column }
            // A tab in the indentation: libyaml stops here.
            if (blockIndent == 0 || cur.column < blockIndent) && cur.at() == 0x09 { break }
            guard cur.isBreak() else { break }
            cur.skipLine()
        }
        if blockIndent == 0 {
            blockIndent = max(maxIndent, indent + 1, 1)
        }
    }

    /// `!tag`, `!handle!suffix` or `!<verbatim>`: URI characters, among them `&` and `*`.
    private mutating func scanTag() {
        cur.skip()
        let verbatim = cur.at() == UInt8(ascii: "<")
        if verbatim { cur.skip() }
        func isURI(_ c: UInt8) -> Bool {
            switch c {
            case UInt8(ascii: ";"), UInt8(ascii: "/"), UInt8(ascii: "?"), UInt8(ascii: ":"), UInt8(ascii: "@"),
                 UInt8(ascii: "&"), UInt8(ascii: "="), UInt8(ascii: "+"), UInt8(ascii: "$"), UInt8(ascii: "."),
                 UInt8(ascii: "%"), UInt8(ascii: "!"), UInt8(ascii: "~"), UInt8(ascii: "*"), UInt8(ascii: "'"),
                 UInt8(ascii: "("), UInt8(ascii: ")"):
                return true
            case UInt8(ascii: ","), UInt8(ascii: "["), UInt8(ascii: "]"):
                return verbatim
            default:
                return Cursor.isAlpha(c)
            }
        }
        while !cur.atEnd && isURI(cur.at()) { cur.skip() }
        if verbatim && cur.at() == UInt8(ascii: ">") { cur.skip() }
    }
}

/// The reading position: bytes, and the line, column and character count libyaml keeps.
/// Trivial to copy (no references), so the scanner's many small reads stay cheap in debug builds.
private struct Cursor {
    let b: UnsafeBufferPointer<UInt8>
    var p = 0
    var line = 0
    var column = 0
    /// Characters consumed (libyaml's `mark.index`), for the 1024-character simple-key limit.
    var index = 0

    // MARK: Characters

    /// The byte `k` bytes ahead, or 0 at the end (libyaml's `IS_Z` is a NUL; a real NUL byte is
    /// refused before scanning, so 0 only ever means the end here).
    func at(_ k: Int = 0) -> UInt8 {
        p + k < b.count ? b[p + k] : 0
    }

    var atEnd: Bool { p >= b.count }

    /// Length in bytes of a line break at `p + k`, or 0.
    func breakLength(_ k: Int = 0) -> Int {
        switch at(k) {
        case 0x0A: return 1
        case 0x0D: return at(k + 1) == 0x0A ? 2 : 1
        case 0xC2: return at(k + 1) == 0x85 ? 2 : 0                                   // NEL
        case 0xE2: return at(k + 1) == 0x80 && (at(k + 2) == 0xA8 || at(k + 2) == 0xA9) ? 3 : 0  // LS, PS
        default: return 0
        }
    }

    func isBreak(_ k: Int = 0) -> Bool { breakLength(k) > 0 }
    func isBlank(_ k: Int = 0) -> Bool { at(k) == 0x20 || at(k) == 0x09 }
    func isBreakZ(_ k: Int = 0) -> Bool { p + k >= b.count || isBreak(k) }
    func isBlankZ(_ k: Int = 0) -> Bool { isBlank(k) || isBreakZ(k) }

    static func isAlpha(_ c: UInt8) -> Bool {
        (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A) || c == 0x5F || c == 0x2D
    }

    /// Consume one character (not a line break).
    mutating func skip() {
        guard !atEnd else { return }
        let c = b[p]
        p += c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4
        if p > b.count { p = b.count }
        column += 1
        index += 1
    }

    /// Consume a line break (CR LF counts as one).
    mutating func skipLine() {
        let n = breakLength()
        guard n > 0 else { return }
        index += (n == 2 && at() == 0x0D) ? 2 : 1
        p += n
        line += 1
        column = 0
    }

    func problem(_ message: String) -> YAMLGate.Problem {
        YAMLGate.Problem(line: line + 1, column: column + 1, message: message)
    }


    /// The Unicode scalar at `p` (the text is valid UTF-8: it came from a `String`).
    func scalarValue() -> UInt32 {
        let c = UInt32(at())
        if c < 0x80 { return c }
        if c < 0xE0 { return (c & 0x1F) << 6 | UInt32(at(1) & 0x3F) }
        if c < 0xF0 { return (c & 0x0F) << 12 | UInt32(at(1) & 0x3F) << 6 | UInt32(at(2) & 0x3F) }
        return (c & 0x07) << 18 | UInt32(at(1) & 0x3F) << 12 | UInt32(at(2) & 0x3F) << 6 | UInt32(at(3) & 0x3F)
    }

    func isDocumentIndicator() -> Bool {
        let c = at()
        return (c == UInt8(ascii: "-") || c == UInt8(ascii: ".")) && at(1) == c && at(2) == c && isBlankZ(3)
    }
}
