import Simulation

/// The graph pane: node boxes joined by lines; each link the current packet crossed carries the
/// state it had there as a letter and a colour (dim ahead of the current step); the current hop is
/// reversed, the selected node bracketed, nodes that differ from the lab as last saved starred.
enum GraphView {
    /// For the current packet: the state on each link it crossed (unordered node pair), and the
    /// step index at which it crossed.
    static func linkStates(_ s: ExplorerState) -> [Set<String>: (ChecksumCondition, Int)] {
        guard let cur = s.current, let f = s.flow else { return [:] }
        let steps = f.legs[cur.leg].steps
        var out: [Set<String>: (ChecksumCondition, Int)] = [:]
        for i in steps.indices.dropLast() where steps[i].element != steps[i + 1].element {
            out[[steps[i].element, steps[i + 1].element]] = (steps[i].condition, i)
        }
        return out
    }

    static func draw(_ s: ExplorerState, layout g: GraphLayout, in r: Rect, on c: inout Canvas, hits: inout [HitRegion]) {
        let legendWidth = ChecksumCondition.allCases.map { $0.legendWord.columns + 4 }.reduce(0, +) - 2
        Screen.title(Pane.graph.title, focused: s.focus == .graph, in: r, on: &c)
        // Legend, right-aligned on the title row, each letter in its colour.
        var lx = max(r.x + 9, r.maxX - legendWidth - 1)
        if lx + legendWidth < r.maxX + 1 {
            c.put(" ", x: lx - 1, y: r.y)
            for k in ChecksumCondition.allCases {
                lx = c.put(String(k.glyph), x: lx, y: r.y, style: k.style)
                lx = c.put(" \(k.legendWord)" + (k == ChecksumCondition.allCases.last ? " " : "  "), x: lx, y: r.y)
            }
        }
        let area = Rect(x: r.x, y: r.y + 1, width: r.width, height: r.height - 1)
        guard !area.isEmpty else { return }
        if g.boxes.isEmpty {
            c.put("This lab has no nodes: add some under nodes: in the file.", x: area.x + 1, y: area.y + min(1, area.height - 1),
                  style: Theme.title, maxWidth: area.width - 1)
            return
        }
        let content = canvas(s, layout: g)
        // Pan so the followed box is in view.
        let followed = s.graphFollowsSelection ? s.selectedNode : (s.currentStep?.element ?? s.selectedNode)
        var ox = 0, oy = 0
        if let b = g.box(followed) {
            ox = b.rect.x + b.rect.width / 2 - area.width / 2
            oy = b.rect.y + 1 - area.height / 2
        }
        // Clamp the followed view first, then pan by hand from there (and clamp again).
        func clamp(_ v: Int, _ size: Int, _ view: Int) -> Int { size > view ? min(max(0, v), size - view) : 0 }
        ox = clamp(clamp(ox, g.width, area.width) + s.graphPan.x, g.width, area.width)
        oy = clamp(clamp(oy, g.height, area.height) + s.graphPan.y, g.height, area.height)
        c.blit(content, from: ox, oy, into: area)
        if ox > 0 { c.put("◀", x: area.x, y: area.y + min(1, area.height - 1), style: Theme.title) }
        if ox + area.width < g.width { c.put("▶", x: area.maxX - 1, y: area.y + min(1, area.height - 1), style: Theme.title) }
        for b in g.boxes {
            let vr = Rect(x: area.x + b.rect.x - ox, y: area.y + b.rect.y - oy, width: b.rect.width, height: b.rect.height)
            let x0 = max(vr.x, area.x), y0 = max(vr.y, area.y)
            let clipped = Rect(x: x0, y: y0, width: min(vr.maxX, area.maxX) - x0, height: min(vr.maxY, area.maxY) - y0)
            if !clipped.isEmpty { hits.append(HitRegion(rect: clipped, action: .selectNode(b.node))) }
        }
    }

    /// The whole graph at full size, before panning.
    static func canvas(_ s: ExplorerState, layout g: GraphLayout) -> Canvas {
        var c = Canvas(width: g.width, height: g.height)
        let states = linkStates(s)
        let stepInLeg = s.current?.step ?? 0
        // Lines: collect directions per cell, then pick the box-drawing character.
        var mask = [Int](repeating: 0, count: g.width * g.height)
        var style = [Style](repeating: Style(dim: true), count: g.width * g.height)
        let L = 1, R = 2, U = 4, D = 8
        for route in g.routes {
            let st = states[[route.a, route.b]]
            let lineStyle: Style
            if let (cond, at) = st { lineStyle = Style(fg: cond.color, dim: at >= stepInLeg) } else { lineStyle = Style(dim: true) }
            for (p, q) in zip(route.points, route.points.dropFirst()) {
                let (x0, y0) = p, (x1, y1) = q
                if y0 == y1 {
                    for x in min(x0, x1)...max(x0, x1) {
                        guard x >= 0, x < g.width, y0 >= 0, y0 < g.height else { continue }
                        if x > min(x0, x1) { mask[y0 * g.width + x] |= L }
                        if x < max(x0, x1) { mask[y0 * g.width + x] |= R }
                        style[y0 * g.width + x] = lineStyle
                    }
                } else {
                    for y in min(y0, y1)...max(y0, y1) {
                        guard x0 >= 0, x0 < g.width, y >= 0, y < g.height else { continue }
                        if y > min(y0, y1) { mask[y * g.width + x0] |= U }
                        if y < max(y0, y1) { mask[y * g.width + x0] |= D }
                        style[y * g.width + x0] = lineStyle
                    }
                }
            }
            // Line ends touch the boxes.
            if let first = route.points.first, first.0 >= 0, first.0 < g.width { mask[first.1 * g.width + first.0] |= L }
            if let last = route.points.last, last.0 >= 0, last.0 < g.width {
                mask[last.1 * g.width + last.0] |= last.0 >= (route.points.dropLast().last?.0 ?? 0) ? R : L
            }
        }
        for y in 0..<g.height { for x in 0..<g.width where mask[y * g.width + x] != 0 {
            c[x, y] = Cell(lineChar(mask[y * g.width + x]), style[y * g.width + x])
        } }
        for route in g.routes {
            guard let (mx, my) = route.marker else { continue }
            if let (cond, at) = states[[route.a, route.b]] {
                var st = cond.style
                st.dim = at >= stepInLeg
                c[mx, my] = Cell(cond.glyph, st)
            } else {
                c[mx, my] = Cell("·", Style(dim: true))
            }
        }
        let hop = s.currentStep?.element
        let changedNodes = s.changedNodes
        for b in g.boxes {
            let selected = b.node == s.selectedNode
            let isHop = b.node == hop
            let border = selected ? Theme.selectedBox : isHop ? Style(fg: .yellow, bold: true) : .plain
            c.box(b.rect, style: border)
            let name = selected ? "[\(b.node)]" : " \(b.node) "
            c.put(name, x: b.rect.x + 1, y: b.rect.y + 1, style: isHop ? Theme.currentHop : selected ? Theme.selectedBox : Theme.title)
            if changedNodes.contains(b.node) { c[b.rect.x + 1, b.rect.y] = Cell("*", Theme.changed) }
        }
        for route in g.routes {
            for a in route.attachments { c[a.x, a.y] = Cell(a.char, c[a.x, a.y].style) }
        }
        return c
    }

    static func lineChar(_ m: Int) -> Character {
        let L = 1, R = 2, U = 4, D = 8
        switch m {
        case L, R, L | R: return "─"
        case U, D, U | D: return "│"
        case R | D: return "┌"
        case L | D: return "┐"
        case R | U: return "└"
        case L | U: return "┘"
        case U | D | R: return "├"
        case U | D | L: return "┤"
        case L | R | D: return "┬"
        case L | R | U: return "┴"
        default: return "┼"
        }
    }
}
