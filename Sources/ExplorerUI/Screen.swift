/// A clickable area of the last frame and what a click there does.
public struct HitRegion: Sendable, Hashable {
    public var rect: Rect
    public var action: Action
}

/// One rendered frame: the cells and where clicks go.
public struct Frame: Sendable {
    public var canvas: Canvas
    public var hits: [HitRegion]
}

/// Where the panes go for a terminal size.
public struct ScreenLayout: Sendable, Equatable {
    public static let minWidth = 64
    public static let minHeight = 18

    public var graph: Rect
    public var steps: Rect
    public var detail: Rect
    public var hex: Rect
    public var status: Rect

    /// Nil when the terminal is too small.
    public init?(width w: Int, height h: Int, graphHeight: Int, hexRows: Int) {
        guard w >= Self.minWidth, h >= Self.minHeight else { return nil }
        let statusH = 4
        let avail = h - statusH
        let graphCap = max(4, avail * 2 / 5)
        let g = min(max(graphHeight + 1, 4), graphCap)
        let hexCap = h < 30 ? 5 : max(5, (avail - g) / 3)
        let x = min(max(hexRows, 1) + 1, hexCap)
        let middle = avail - g - x
        let stepsW = w < 100 ? w * 52 / 100 : w * 45 / 100
        graph = Rect(x: 0, y: 0, width: w, height: g)
        steps = Rect(x: 0, y: g, width: stepsW, height: middle)
        detail = Rect(x: stepsW, y: g, width: w - stepsW, height: middle)
        hex = Rect(x: 0, y: g + middle, width: w, height: x)
        status = Rect(x: 0, y: h - statusH, width: w, height: statusH)
    }
}

public enum Screen {
    /// Render the whole screen for a state at a size. Pure: the same state and size give the same
    /// cells, which is what the snapshot tests compare.
    public static func render(_ s: ExplorerState, width: Int, height: Int, layout graph: GraphLayout? = nil) -> Frame {
        var c = Canvas(width: width, height: height)
        var hits: [HitRegion] = []
        let g = graph ?? GraphLayout.make(s.topology, root: s.flow?.from)
        let frameLen = s.flow?.legs.flatMap(\.steps).map(\.frame.count).max() ?? 0
        let perRow = HexView.bytesPerRow(width: width)
        // With the lesson pane open on a small terminal, its text gets the hex pane's rows (one
        // row of bytes stays; Tab and j/k still scroll it).
        let lessonFirst = s.view.showsLesson && s.lesson != nil && height < 30
        let hexRows = lessonFirst ? 1 : (frameLen + perRow - 1) / perRow
        guard let L = ScreenLayout(width: width, height: height, graphHeight: g.height, hexRows: hexRows) else {
            tooSmall(&c, width: width, height: height)
            return Frame(canvas: c, hits: [])
        }
        // The panes first: a click on a node or a step (a later region) wins over its pane.
        hits += [(Pane.graph, L.graph), (.steps, L.steps), (.detail, L.detail), (.hex, L.hex)].map { HitRegion(rect: $1, action: .focusPane($0)) }
        GraphView.draw(s, layout: g, in: L.graph, on: &c, hits: &hits)
        StepsView.draw(s, in: L.steps, on: &c, hits: &hits)
        if s.view.showsLesson, let l = s.lesson { LessonView.draw(s, l, in: L.detail, on: &c) } else { DetailView.draw(s, in: L.detail, on: &c) }
        HexView.draw(s, in: L.hex, on: &c)
        StatusView.draw(s, in: L.status, on: &c)
        if let o = s.overlay { OverlayView.draw(o, s, on: &c) }
        return Frame(canvas: c, hits: hits)
    }

    static func tooSmall(_ c: inout Canvas, width: Int, height: Int) {
        let lines = ["terminal too small: \(width)×\(height)",
                     "csumlab needs at least \(ScreenLayout.minWidth)×\(ScreenLayout.minHeight)",
                     "enlarge the window, or press q to quit"]
        let top = max(0, (height - lines.count) / 2)
        for (i, l) in lines.enumerated() {
            let t = l.truncated(width)
            c.put(t, x: max(0, (width - t.columns) / 2), y: top + i, style: i == 0 ? Theme.title : .plain)
        }
    }

    /// A pane's title row: a rule with the title, reversed when the pane has the focus.
    static func title(_ text: String, extra: String = "", focused: Bool, in r: Rect, on c: inout Canvas) {
        guard r.height > 0, r.width > 0 else { return }
        for x in r.x..<r.maxX { c[x, r.y] = Cell("─", Theme.rule) }
        let end = c.put(" \(text) ", x: r.x + 1, y: r.y, style: focused ? Theme.focusTitle : Theme.title, maxWidth: r.width - 1)
        if !extra.isEmpty { c.put(" \(extra) ", x: end + 1, y: r.y, style: .plain, maxWidth: r.maxX - end - 1) }
    }
}
