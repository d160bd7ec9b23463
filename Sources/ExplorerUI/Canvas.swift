import TerminalText

/// A terminal colour. `.standard` is the terminal's own foreground/background.
public enum Color: UInt8, Sendable, Hashable, CaseIterable {
    case standard, black, red, green, yellow, blue, magenta, cyan, white
}

/// How a cell is drawn. Attributes (bold, reverse…) carry meaning on their own so that the screen
/// stays readable under `NO_COLOR`; colour only adds to them.
public struct Style: Sendable, Hashable {
    public var fg: Color = .standard
    public var bg: Color = .standard
    public var bold = false
    public var dim = false
    public var reverse = false
    public var underline = false

    public init(fg: Color = .standard, bg: Color = .standard, bold: Bool = false, dim: Bool = false, reverse: Bool = false, underline: Bool = false) {
        self.fg = fg
        self.bg = bg
        self.bold = bold
        self.dim = dim
        self.reverse = reverse
        self.underline = underline
    }

    public static let plain = Style()
}

/// One screen cell: a character and its style. A wide character (CJK, most emoji: two columns,
/// `DisplayWidth`) sits in the left cell of a pair whose right cell is a continuation, which the
/// terminal backend does not draw (the character covers it) and `Canvas.lines` leaves out.
public struct Cell: Sendable, Hashable {
    public private(set) var char: Character
    public var style: Style
    /// The right half of the wide character in the cell to the left.
    public private(set) var isContinuation = false
    /// The character takes two columns (and the cell to the right is its continuation).
    public private(set) var isWide = false

    public init(_ char: Character = " ", _ style: Style = .plain) {
        self.char = char
        self.style = style
        isWide = !char.isASCII && DisplayWidth.of(char) >= 2
    }

    /// The right half of a wide character.
    public static func continuation(_ style: Style) -> Cell {
        var c = Cell(" ", style)
        c.isContinuation = true
        return c
    }

    public static let blank = Cell()
}

/// A rectangle of cells, in screen coordinates.
public struct Rect: Sendable, Hashable {
    public var x: Int
    public var y: Int
    public var width: Int
    public var height: Int

    public init(x: Int, y: Int, width: Int, height: Int) {
        self.x = x
        self.y = y
        self.width = max(0, width)
        self.height = max(0, height)
    }

    public var maxX: Int { x + width }
    public var maxY: Int { y + height }
    public var isEmpty: Bool { width == 0 || height == 0 }

    public func contains(x px: Int, y py: Int) -> Bool {
        px >= x && px < maxX && py >= y && py < maxY
    }
}

/// A cell buffer the views draw into. Every write is clipped to the buffer (and to an optional
/// clip rectangle), so a view can never crash on a tiny or zero-size area. The terminal backend
/// draws only the cells that differ from the previous frame.
///
/// Text is measured in terminal columns (`DisplayWidth`): a wide character takes two cells, the
/// second a continuation; combining marks stay with their base character in its cell. Writes
/// keep the pairs whole: a wide character that would cross the clip or the edge is drawn as a
/// space, and overwriting either half of a wide character blanks the other half, as a terminal
/// does. The backend maps box drawing to ACS or ASCII when the locale is not UTF-8.
public struct Canvas: Sendable, Equatable {
    public let width: Int
    public let height: Int
    public private(set) var cells: [Cell]
    /// Writes outside this rectangle are dropped.
    public var clip: Rect

    public init(width: Int, height: Int) {
        self.width = max(0, width)
        self.height = max(0, height)
        cells = Array(repeating: .blank, count: self.width * self.height)
        clip = Rect(x: 0, y: 0, width: self.width, height: self.height)
    }

    func writable(_ x: Int, _ y: Int) -> Bool {
        x >= 0 && x < width && y >= 0 && y < height && clip.contains(x: x, y: y)
    }

    public subscript(x: Int, y: Int) -> Cell {
        get { x >= 0 && x < width && y >= 0 && y < height ? cells[y * width + x] : .blank }
        set {
            guard writable(x, y) else { return }
            let i = y * width + x
            var cell = newValue
            if cell.isContinuation {
                // Only the right half of the wide character just left of it (writing that
                // character wrote it already); anywhere else it is a space.
                guard x > 0, cells[i - 1].isWide else { self[x, y] = Cell(" ", cell.style); return }
                if cells[i].isWide { blankRightHalf(i) }
                cells[i] = cell
                return
            }
            if cell.isWide && !writable(x + 1, y) { cell = Cell(" ", cell.style) }
            // Break the pairs the old cell belonged to.
            if x > 0, cells[i].isContinuation { cells[i - 1] = Cell(" ", cells[i - 1].style) }
            if cells[i].isWide { blankRightHalf(i) }
            cells[i] = cell
            if cell.isWide {
                if cells[i + 1].isWide { blankRightHalf(i + 1) }
                cells[i + 1] = .continuation(cell.style)
            }
        }
    }

    /// The continuation right of the wide character at `i` becomes a space.
    private mutating func blankRightHalf(_ i: Int) {
        let x = i % width
        if x + 1 < width, cells[i + 1].isContinuation { cells[i + 1] = Cell(" ", cells[i + 1].style) }
    }

    /// Write `text` from (x, y) on one line, at most `maxWidth` columns; returns the column after
    /// the last character. A wide character that does not fit whole is left out (the text is cut
    /// there); characters of no width (a stray combining mark, a control) are skipped.
    @discardableResult
    public mutating func put(_ text: String, x: Int, y: Int, style: Style = .plain, maxWidth: Int? = nil) -> Int {
        var cx = x
        let limit = maxWidth.map { x + $0 } ?? Int.max
        for ch in text {
            if ch == "\n" || ch == "\t" {
                if cx >= limit { break }
                self[cx, y] = Cell(" ", style)
                cx += 1
                continue
            }
            // A cluster of several spacing characters (an emoji sequence, a flag) is written one
            // spacing character (with its marks) per cell group, as `wcswidth` counts it.
            for part in Self.spacingParts(ch) {
                let w = part.isASCII ? 1 : min(2, DisplayWidth.of(part))
                if w == 0 { continue }
                if cx + w > limit { return cx }
                self[cx, y] = Cell(part, style)
                cx += w
            }
        }
        return cx
    }

    /// `ch` split before every scalar that takes columns, so each part has one spacing scalar
    /// followed by its zero-width ones.
    static func spacingParts(_ ch: Character) -> [Character] {
        let scalars = ch.unicodeScalars
        if ch.isASCII || scalars.count == 1 { return [ch] }
        var parts: [String.UnicodeScalarView] = []
        for s in scalars {
            if DisplayWidth.of(s) > 0 || parts.isEmpty { parts.append(String.UnicodeScalarView([s])) } else { parts[parts.count - 1].append(s) }
        }
        return parts.map { Character(String($0)) }
    }

    /// Change the style of existing cells (keeps the characters).
    public mutating func restyle(_ r: Rect, _ change: (inout Style) -> Void) {
        for y in r.y..<r.maxY { for x in r.x..<r.maxX {
            var c = self[x, y]
            change(&c.style)
            self[x, y] = c
        } }
    }

    public mutating func fill(_ r: Rect, _ cell: Cell = .blank) {
        for y in r.y..<r.maxY { for x in r.x..<r.maxX { self[x, y] = cell } }
    }

    /// Draw a single-line box on the rectangle's border.
    public mutating func box(_ r: Rect, style: Style = .plain, title: String? = nil, titleStyle: Style? = nil) {
        guard r.width >= 2, r.height >= 2 else { return }
        let x1 = r.maxX - 1, y1 = r.maxY - 1
        for x in r.x + 1..<x1 {
            self[x, r.y] = Cell("─", style)
            self[x, y1] = Cell("─", style)
        }
        for y in r.y + 1..<y1 {
            self[r.x, y] = Cell("│", style)
            self[x1, y] = Cell("│", style)
        }
        self[r.x, r.y] = Cell("┌", style)
        self[x1, r.y] = Cell("┐", style)
        self[r.x, y1] = Cell("└", style)
        self[x1, y1] = Cell("┘", style)
        if let title, r.width > 4 {
            put(" \(title) ", x: r.x + 1, y: r.y, style: titleStyle ?? style, maxWidth: r.width - 2)
        }
    }

    /// Copy `other` into this canvas with its (ox, oy) at (x, y), clipped to `area`. A wide
    /// character cut by the area's edge becomes a space.
    public mutating func blit(_ other: Canvas, from ox: Int, _ oy: Int, into area: Rect) {
        let saved = clip
        clip = Rect(x: max(clip.x, area.x), y: max(clip.y, area.y),
                    width: min(clip.maxX, area.maxX) - max(clip.x, area.x), height: min(clip.maxY, area.maxY) - max(clip.y, area.y))
        defer { clip = saved }
        for y in 0..<area.height { for x in 0..<area.width {
            let sx = ox + x, sy = oy + y
            guard sx >= 0, sy >= 0, sx < other.width, sy < other.height else { continue }
            self[area.x + x, area.y + y] = other[sx, sy]
        } }
    }

    /// The text of each row as a terminal shows it (a wide character once, not its
    /// continuation), trailing spaces removed: what a snapshot compares.
    public var lines: [String] {
        (0..<height).map { y in
            var s = ""
            for x in 0..<width where !cells[y * width + x].isContinuation { s.append(cells[y * width + x].char) }
            while s.last == " " { s.removeLast() }
            return s
        }
    }

    public var text: String { lines.joined(separator: "\n") }
}

extension String {
    /// Cut to `n` columns, ending in `…` when cut.
    func truncated(_ n: Int) -> String { DisplayWidth.truncate(self, toColumns: n) }

    /// Pad with spaces (or cut) to exactly `n` columns.
    func padded(_ n: Int) -> String { DisplayWidth.pad(self, toColumns: n) }

    /// Terminal columns the text takes.
    var columns: Int { DisplayWidth.of(self) }

    /// Break into lines of at most `width` columns at spaces (a word longer than a line is cut
    /// by columns).
    func wrapped(_ width: Int) -> [String] {
        guard width > 0 else { return [] }
        var out: [String] = []
        /// Cut off and emit whole lines of `w` while it is longer than a line; returns the rest.
        func breakLong(_ word: String) -> String {
            var w = Substring(word)
            while w.displayWidth > width {
                var head = DisplayWidth.prefix(w, fitting: width).text
                if head.isEmpty { head = w.prefix(1) }  // a character wider than the line
                out.append(String(head))
                w = w[head.endIndex...]
            }
            return String(w)
        }
        for para in split(separator: "\n", omittingEmptySubsequences: false) {
            var line = ""
            for word in para.split(separator: " ") {
                let w = String(word)
                if line.isEmpty {
                    line = breakLong(w)
                } else if line.columns + 1 + w.columns <= width {
                    line += " " + w
                } else {
                    out.append(line)
                    line = breakLong(w)
                }
            }
            out.append(line)
        }
        return out
    }
}
