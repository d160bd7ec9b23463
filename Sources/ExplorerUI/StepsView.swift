import Simulation

/// The steps pane: every step of the current flow, packet after packet, with a header line per
/// packet saying how it ended. Each row: state letter, number, element, `ip_summed` before → after
/// and the first kernel function; `*` marks steps that differ from the lab as last saved.
enum StepsView {
    enum Row {
        case leg(Int)
        case step(flat: Int, StepRef)
    }

    static func rows(_ s: ExplorerState) -> [Row] {
        var out: [Row] = []
        var flat = 0
        guard let f = s.flow else { return [] }
        for (li, leg) in f.legs.enumerated() {
            out.append(.leg(li))
            for si in leg.steps.indices {
                out.append(.step(flat: flat, StepRef(leg: li, step: si)))
                flat += 1
            }
        }
        return out
    }

    static func elementName(_ st: Step) -> String {
        let base = st.interface.map { st.element == $0 ? $0 : "\(st.element):\($0)" } ?? st.element
        return base + (st.segment.map { "#\($0)" } ?? "") + (st.ipFragments.map { " [\($0) frags]" } ?? "")
    }

    static func firstFunction(_ f: String) -> String {
        String(f.split(separator: "→").first ?? Substring(f)).split(separator: " ").first.map(String.init) ?? f
    }

    static func draw(_ s: ExplorerState, in r: Rect, on c: inout Canvas, hits: inout [HitRegion]) {
        let total = s.steps.count
        Screen.title(Pane.steps.title, extra: total > 0 ? "\(s.position + 1)/\(total)" : "", focused: s.focus == .steps, in: r, on: &c)
        let area = Rect(x: r.x, y: r.y + 1, width: r.width - 1, height: r.height - 1)
        // Separator to the detail pane.
        for y in r.y + 1..<max(r.y + 1, r.maxY) { c[r.maxX - 1, y] = Cell("│", Theme.rule) }
        guard !area.isEmpty else { return }
        guard let f = s.flow else {
            let text = "No flows in this lab, so no packet to follow. Press f then a to add one (type, from, to), or write one under flows: in the file."
            for (i, l) in text.wrapped(area.width - 1).prefix(area.height).enumerated() {
                c.put(l, x: area.x + 1, y: area.y + i, style: Theme.title)
            }
            return
        }
        let all = rows(s)
        let curRow = all.firstIndex { if case let .step(i, _) = $0 { return i == s.position }; return false } ?? 0
        let start = all.count <= area.height ? 0 : min(max(0, curRow - area.height / 2), all.count - area.height)
        let elW = min(14, f.legs.flatMap(\.steps).map { elementName($0).columns }.max() ?? 8)
        let stW = min(23, f.legs.flatMap(\.steps).map { $0.before.short.columns + 1 + $0.after.short.columns }.max() ?? 10)
        for (i, row) in all.dropFirst(start).prefix(area.height).enumerated() {
            let y = area.y + i
            switch row {
            case let .leg(li):
                let leg = f.legs[li]
                let ok = leg.outcome.isSuccess
                let title = leg.title
                if leg.sent {
                    let again = leg.transmissions > 1 ? " (sent \(leg.transmissions)×)" : ""
                    let text = "\(ok ? "✓" : "✗") \(title): \(leg.outcome.summary)\(again)"
                    c.put(text.truncated(area.width), x: area.x, y: y, style: ok ? Theme.ok : Theme.bad)
                } else {
                    // A would-be leg: never sent, walked to show what it would meet.
                    let text = "· not sent: \(title) would be \(leg.outcome.summary)"
                    c.put(text.truncated(area.width), x: area.x, y: y, style: Theme.disabled)
                }
            case let .step(flat, ref):
                let st = f.legs[ref.leg].steps[ref.step]
                let isCur = flat == s.position
                var x = area.x
                x = c.put(isCur ? "▶" : " ", x: x, y: y, style: Theme.title)
                x = c.put(s.changedSteps.contains(flat) ? "*" : " ", x: x, y: y, style: Theme.changed)
                x = c.put(String(st.condition.glyph), x: x, y: y, style: st.condition.style)
                let num = String(ref.step + 1)
                var line = String(repeating: " ", count: max(0, 3 - num.count)) + num + " "
                line += elementName(st).padded(elW) + " "
                line += (st.before.short + "→" + st.after.short).padded(stW) + " "
                if area.width - 3 - line.columns >= 8 { line += firstFunction(st.function) }
                if st.drop != nil && st.drop != "delivered" { line += " ✗" }
                let wouldBe = !f.legs[ref.leg].sent
                c.put(line.padded(area.maxX - x), x: x, y: y, style: isCur ? Theme.selected : (wouldBe ? Theme.disabled : .plain))
                hits.append(HitRegion(rect: Rect(x: area.x, y: y, width: area.width, height: 1), action: .jumpToStep(flat)))
            }
        }
    }
}
