import Simulation

/// The status bar: topology, kernel, flow and verdict; then what the last action did and the
/// receivers' checksum-error counters; then the keys that matter in the focused pane.
enum StatusView {
    static func draw(_ s: ExplorerState, in r: Rect, on c: inout Canvas) {
        guard r.height >= 4 else { return }
        let w = r.width
        // 1: where we are.
        var top = " \(s.topology.name) │ kernel \(s.topology.hostKernel.rawValue)"
        if let f = s.flow { top += " │ flow \(f.flow) (\(s.flowIndex + 1)/\(s.trace.flows.count)) \(f.kind.rawValue) \(f.from)→\(f.to)" }
        if s.playing { top += " │ ▶ playing \(s.playInterval) ms" }
        c.fill(Rect(x: r.x, y: r.y, width: w, height: 1), Cell(" ", Theme.statusBar))
        c.put(top, x: r.x, y: r.y, style: Theme.statusBar, maxWidth: w)
        // 2: the verdict, then the counters.
        var counters = "no checksum errors counted"
        if s.flow == nil {
            c.put(" no flows in this lab", x: r.x, y: r.y + 1, style: Theme.title, maxWidth: w)
            counters = ""
        }
        if let f = s.flow {
            let good = f.verdict.completes && !f.verdict.corruptedData
            let x = c.put(" " + (good ? "✓ " : "✗ ") + f.verdict.summary, x: r.x, y: r.y + 1, style: good ? Theme.ok : Theme.bad, maxWidth: w)
            let cs = f.counters.sorted { $0.key < $1.key }.flatMap { h, cs in cs.sorted { $0.key < $1.key }.map { "\(h) \($0.key) +\($0.value)" } }
            if !cs.isEmpty { counters = cs.joined(separator: ", ") + (f.window.retransmits ? " in \(Int(f.window.seconds)) s" : "") }
            if x + 3 + counters.columns <= r.maxX {
                c.put(" │ " + counters, x: x, y: r.y + 1, maxWidth: r.maxX - x)
                counters = ""
            }
        }
        // 3: what the last action did (and the counters when they did not fit above).
        var hint = ""
        if s.message == nil, let f = s.flow, !f.verdict.completes || f.verdict.corruptedData { hint = "press F for fixes" }
        let third = [s.message ?? hint, counters].filter { !$0.isEmpty }.joined(separator: " │ ")
        c.put(" " + third, x: r.x, y: r.y + 2, style: Theme.title, maxWidth: w)
        // 4: the keys that matter in the focused pane, keys in bold.
        c.put(hintLine(Bindings.hints(for: s), width: w), x: r.x, y: r.y + 3, style: Theme.rule)
        var x = r.x
        for b in fittedHints(Bindings.hints(for: s), width: w) {
            let k = b.0
            c.restyle(Rect(x: x + 1, y: r.y + 3, width: k.columns, height: 1)) { $0 = Theme.title }
            x += 1 + k.columns + 1 + b.1.columns + 1
        }
    }

    /// Key texts and labels that fit the width: full key lists first, then the first key only,
    /// then dropping from the end but always keeping help and quit.
    static func fittedHints(_ hs: [Binding], width: Int) -> [(String, String)] {
        func len(_ xs: [(String, String)]) -> Int { xs.reduce(0) { $0 + 1 + $1.0.columns + 1 + $1.1.columns + 1 } }
        var items = hs.map { ($0.keyText, $0.label) }
        if len(items) <= width { return items }
        items = hs.map { ($0.keys.first?.description ?? "", $0.label) }
        let keep = hs.filter { $0.action == .openHelp || $0.action == .quit }.map { ($0.keys.first?.description ?? "", $0.label) }
        var body = items.filter { i in !keep.contains { $0 == i } }
        while !body.isEmpty && len(body + keep) > width { body.removeLast() }
        return body + keep
    }

    static func hintLine(_ hs: [Binding], width: Int) -> String {
        fittedHints(hs, width: width).map { " \($0.0) \($0.1)" }.joined(separator: " ").truncated(width)
    }
}
