import Simulation

/// Where each node box and each link line goes, in graph coordinates (a canvas of its own that the
/// graph pane shows through a scrolling window). Nodes are placed in columns by their distance
/// from the flow's sender, so the packet travels left to right; a node with several neighbours
/// in the next column (a bridge with three ports) fans out downwards. Links between adjacent
/// columns are drawn as orthogonal lines in the gap between them; anything else (a cycle, a link
/// inside a column, a link skipping columns) goes through a channel below the boxes, so nothing
/// is ever drawn across a box.
public struct GraphLayout: Sendable, Equatable {
    public struct Box: Sendable, Equatable {
        public var node: String
        public var column: Int
        public var row: Int
        public var rect: Rect
        /// Where links attach: the middle row of the left and right sides.
        public var midY: Int { rect.y + 1 }
    }

    /// A line as a list of points; consecutive points share x or y.
    public struct Route: Sendable, Equatable {
        public var a: String
        public var b: String
        public var points: [(Int, Int)]
        /// Where the checksum-state marker of this link goes.
        public var marker: (Int, Int)?

        public static func == (l: Route, r: Route) -> Bool {
            l.a == r.a && l.b == r.b && l.points.elementsEqual(r.points, by: ==) && l.marker.map { [$0.0, $0.1] } == r.marker.map { [$0.0, $0.1] }
        }

        /// The box-border cells where the line attaches, and the tee drawn there.
        public var attachments: [(x: Int, y: Int, char: Character)] {
            guard let first = points.first, let last = points.last, points.count >= 2 else { return [] }
            let beforeLast = points[points.count - 2]
            // The first point is just right of its box; the last is just left of its box, or just
            // right of it when the route comes back from a channel.
            return [(first.0 - 1, first.1, "├"), last.0 < beforeLast.0 ? (last.0 - 1, last.1, "├") : (last.0 + 1, last.1, "┤")]
        }
    }

    public var boxes: [Box]
    public var routes: [Route]
    public var width: Int
    public var height: Int

    public static let boxHeight = 3
    public static let rowPitch = 4
    public static let gap = 5

    public func box(_ node: String) -> Box? { boxes.first { $0.node == node } }

    /// Lay out a topology with the packet leaving `root`.
    public static func make(_ t: Topology, root: String?) -> GraphLayout {
        let names = t.nodes.map(\.name)
        let known = Set(names)
        guard !names.isEmpty else { return GraphLayout(boxes: [], routes: [], width: 0, height: 0) }
        var adj: [String: [String]] = [:]
        var edges: [(String, String)] = []
        var seenEdge = Set<[String]>()
        // Links, then VXLAN tunnels: a tunnel is drawn as a link between its two endpoints.
        let pairs = t.links.map { ($0.a.node, $0.b.node) } + t.tunnels.map { ($0.a, $0.b) }
        for (a, b) in pairs where a != b && known.contains(a) && known.contains(b) {
            let key = [a, b].sorted()
            if seenEdge.insert(key).inserted {
                edges.append((a, b))
                adj[a, default: []].append(b)
                adj[b, default: []].append(a)
            }
        }
        // Columns: BFS distance from the root; other components follow to the right.
        var column: [String: Int] = [:]
        var discovery: [String] = []
        var next = 0
        let starts = ([root].compactMap { $0 }.filter { known.contains($0) }) + names
        for s in starts where column[s] == nil {
            column[s] = next
            var queue = [s]
            var qi = 0
            var maxCol = next
            while qi < queue.count {
                let n = queue[qi]; qi += 1
                discovery.append(n)
                for m in adj[n, default: []] where column[m] == nil {
                    column[m] = column[n]! + 1
                    maxCol = max(maxCol, column[m]!)
                    queue.append(m)
                }
            }
            next = maxCol + 1
        }
        let ncol = (column.values.max() ?? 0) + 1
        var cols: [[String]] = Array(repeating: [], count: ncol)
        for n in discovery { cols[column[n]!].append(n) }
        // Order within a column by the mean row of the neighbours in the previous column.
        for _ in 0..<2 {
            for c in 1..<max(ncol, 1) {
                let prev = Dictionary(uniqueKeysWithValues: cols[c - 1].enumerated().map { ($1, Double($0)) })
                let keyed = cols[c].enumerated().map { (i, n) -> (Double, Int, String) in
                    let ps = adj[n, default: []].compactMap { prev[$0] }
                    return (ps.isEmpty ? Double(i) : ps.reduce(0, +) / Double(ps.count), i, n)
                }
                cols[c] = keyed.sorted { ($0.0, $0.1) < ($1.0, $1.1) }.map(\.2)
            }
        }
        // Rows: a node sits level with its first neighbour in the previous column when that row
        // is free, so a chain stays on one line; otherwise below the column's last node.
        var row: [String: Int] = [:]
        for c in 0..<ncol {
            var used = Set<Int>()
            for n in cols[c] {
                let wanted = adj[n, default: []].compactMap { column[$0] == c - 1 ? row[$0] : nil }.min() ?? 0
                var r = wanted
                while used.contains(r) { r += 1 }
                used.insert(r)
                row[n] = r
            }
        }
        // Geometry.
        var colX: [Int] = []
        var x = 0
        var colWidth: [Int] = []
        for c in 0..<ncol {
            let w = cols[c].map { boxWidth($0) }.max() ?? 6
            colX.append(x)
            colWidth.append(w)
            x += w + gap
        }
        var boxes: [Box] = []
        for c in 0..<ncol {
            for n in cols[c] {
                let w = boxWidth(n)
                let bx = colX[c] + (colWidth[c] - w) / 2
                boxes.append(Box(node: n, column: c, row: row[n]!, rect: Rect(x: bx, y: row[n]! * rowPitch, width: w, height: boxHeight)))
            }
        }
        let maxRow = row.values.max() ?? 0
        var height = maxRow * rowPitch + boxHeight
        let width = max(0, x - gap)
        var routes: [Route] = []
        let byName = Dictionary(uniqueKeysWithValues: boxes.map { ($0.node, $0) })
        var channel = height
        // Same-column lines drawn beside their column (by column: the rows each one spans), and
        // the rightmost cell any route uses (the layout is at least that wide).
        var lanes: [Int: [ClosedRange<Int>]] = [:]
        var rightmost = 0
        // Links into the same box from the left share their last segment; give the marker to
        // the side that is not shared.
        var inCount: [String: Int] = [:]
        var outCount: [String: Int] = [:]
        for (a, b) in edges {
            guard let ba = byName[a], let bb = byName[b] else { continue }
            let (l, r) = ba.column <= bb.column ? (ba, bb) : (bb, ba)
            if r.column == l.column + 1 { outCount[l.node, default: 0] += 1; inCount[r.node, default: 0] += 1 }
        }
        for (a, b) in edges {
            guard let ba = byName[a], let bb = byName[b] else { continue }
            let (l, r) = ba.column <= bb.column ? (ba, bb) : (bb, ba)
            let x0 = l.rect.maxX
            if r.column == l.column + 1 {
                let x1 = r.rect.x - 1
                let mid = colX[l.column] + colWidth[l.column] + gap / 2
                let pts: [(Int, Int)] = l.midY == r.midY ? [(x0, l.midY), (x1, r.midY)] : [(x0, l.midY), (mid, l.midY), (mid, r.midY), (x1, r.midY)]
                let marker: (Int, Int)?
                if inCount[r.node, default: 0] <= 1 { marker = (l.midY == r.midY ? (x0 + x1) / 2 : (mid + 1 + x1) / 2, r.midY) }
                else if outCount[l.node, default: 0] <= 1 { marker = ((x0 + mid - 1) / 2, l.midY) }
                else { marker = nil }
                routes.append(Route(a: a, b: b, points: pts, marker: marker))
            } else {
                let xa = l.rect.maxX, xb = r.rect.maxX
                let ya = l.midY, yb = r.midY
                if r.column == l.column, let lane = sameColumnLane(l, r, boxes: boxes, lanes: lanes, outCount: outCount) {
                    // Two boxes of one column: a line straight down (or up) beside them, one
                    // column into the gap, with the marker halfway.
                    lanes[l.column, default: []].append(min(ya, yb)...max(ya, yb))
                    routes.append(Route(a: a, b: b, points: [(xa, ya), (lane, ya), (lane, yb), (xb, yb)], marker: (lane, (ya + yb) / 2)))
                    rightmost = max(rightmost, lane)
                    continue
                }
                // Through a channel under the boxes.
                let chY = channel + 1
                channel += 2
                let pts: [(Int, Int)]
                if r.column == l.column {
                    // Down beside one box and up beside the other, in two distinct columns (one
                    // column for both drew a single line ending in the marker: a dangling stub).
                    let down = max(xa, xb) + 1
                    pts = [(xa, ya), (down, ya), (down, chY), (down + 2, chY), (down + 2, yb), (xb, yb)]
                    rightmost = max(rightmost, down + 2)
                } else {
                    let xin = r.rect.x - 1
                    pts = [(xa, ya), (xa + 1, ya), (xa + 1, chY), (xin - 1, chY), (xin - 1, yb), (xin, yb)]
                }
                routes.append(Route(a: a, b: b, points: pts, marker: ((pts[1].0 + pts[3].0) / 2, chY)))
            }
        }
        height = max(height, channel)
        return GraphLayout(boxes: boxes, routes: routes, width: max(width + 3, rightmost + 1), height: height)
    }

    /// The column just right of column `l.column`'s boxes, where a link between two of its
    /// boxes (`l`, `r`) can run straight, or nil when that would be ambiguous: a box of the
    /// column between the two (its own links cross there), a link from either box to the next
    /// column (it leaves by the same cell), or another such line in this column over the same rows.
    static func sameColumnLane(_ l: Box, _ r: Box, boxes: [Box], lanes: [Int: [ClosedRange<Int>]], outCount: [String: Int]) -> Int? {
        let rows = min(l.midY, r.midY)...max(l.midY, r.midY)
        guard outCount[l.node, default: 0] == 0, outCount[r.node, default: 0] == 0,
              !boxes.contains(where: { $0.column == l.column && $0.node != l.node && $0.node != r.node
                                  && $0.rect.y <= rows.upperBound && $0.rect.maxY > rows.lowerBound }),
              !(lanes[l.column] ?? []).contains(where: { $0.overlaps(rows) }) else { return nil }
        return max(l.rect.maxX, r.rect.maxX) + 1
    }

    /// Box width: the name (in terminal columns: a CJK character takes two) with a space and a
    /// border each side.
    static func boxWidth(_ name: String) -> Int { name.columns + 4 }
}
