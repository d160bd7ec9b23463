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

/// One screen cell: a single-column character and its style.
public struct Cell: Sendable, Hashable {
    public var char: Character
    public var style: Style

    public init(_ char: Character = " ", _ style: Style = .plain) {
        self.char = char
        self.style = style
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
/// Characters are assumed to take one column; the views only use single-width characters
/// (box drawing, arrows, ASCII). The backend maps box drawing to ACS or ASCII when the locale is
/// not UTF-8.
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

    public subscript(x: Int, y: Int) -> Cell {
        get { x >= 0 && x < width && y >= 0 && y < height ? cells[y * width + x] : .blank }
        set { if clip.contains(x: x, y: y) && x >= 0 && x < width && y >= 0 && y < height { cells[y * width + x] = newValue } }
    }

    /// Write `text` from (x, y) on one line; returns the column after the last character.
    @discardableResult
    public mutating func put(_ text: String, x: Int, y: Int, style: Style = .plain, maxWidth: Int? = nil) -> Int {
        var cx = x
        let limit = maxWidth.map { x + $0 } ?? Int.max
        for ch in text {
            if cx >= limit { break }
            if ch == "\n" || ch == "\t" { self[cx, y] = Cell(" ", style) } else { self[cx, y] = Cell(ch, style) }
            cx += 1
        }
        return cx
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

    /// Copy `other` into this canvas with its (ox, oy) at (x, y), clipped to `area`.
    public mutating func blit(_ other: Canvas, from ox: Int, _ oy: Int, into area: Rect) {
        for y in 0..<area.height { for x in 0..<area.width {
            let sx = ox + x, sy = oy + y
            guard sx >= 0, sy >= 0, sx < other.width, sy < other.height else { continue }
            self[area.x + x, area.y + y] = other[sx, sy]
        } }
    }

    /// The text of each row, trailing spaces removed: what a snapshot compares.
    public var lines: [String] {
        (0..<height).map { y in
            var s = String((0..<width).map { cells[y * width + $0].char })
            while s.last == " " { s.removeLast() }
            return s
        }
    }

    public var text: String { lines.joined(separator: "\n") }
}

extension String {
    /// Cut to `n` columns, ending in `…` when cut.
    func truncated(_ n: Int) -> String {
        guard n > 0 else { return "" }
        if count <= n { return self }
        return String(prefix(n - 1)) + "…"
    }

    /// Pad with spaces (or cut) to exactly `n` columns.
    func padded(_ n: Int) -> String {
        let t = truncated(n)
        return t + String(repeating: " ", count: max(0, n - t.count))
    }

    /// Break into lines of at most `width` columns at spaces.
    func wrapped(_ width: Int) -> [String] {
        guard width > 0 else { return [] }
        var out: [String] = []
        for para in split(separator: "\n", omittingEmptySubsequences: false) {
            var line = ""
            for word in para.split(separator: " ") {
                var w = String(word)
                if line.isEmpty {
                    while w.count > width { out.append(String(w.prefix(width))); w = String(w.dropFirst(width)) }
                    line = w
                } else if line.count + 1 + w.count <= width {
                    line += " " + w
                } else {
                    out.append(line)
                    while w.count > width { out.append(String(w.prefix(width))); w = String(w.dropFirst(width)) }
                    line = w
                }
            }
            out.append(line)
        }
        return out
    }
}
