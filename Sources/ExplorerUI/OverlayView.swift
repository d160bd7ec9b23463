import Simulation

/// Modal boxes: settings menu, flow and kernel choosers, help, commands, search.
enum OverlayView {
    static func draw(_ o: Overlay, _ s: ExplorerState, on c: inout Canvas) {
        switch o {
        case let .menu(node, sel):
            let items = s.menuItems
            let kind = s.topology.node(named: node)?.kind.name ?? ""
            let labelW = min(34, (items.map(\.label.columns).max() ?? 10) + 2)
            let rows: [(String, Style)] = items.enumerated().map { i, it in
                let text = "\(it.label.padded(labelW)) \(it.value)"
                var st: Style = it.disabled != nil ? Theme.disabled : .plain
                if it.note != nil { st.fg = .yellow }
                if i == sel { st.reverse = true; st.dim = false }
                return (text, st)
            }
            var footer: [(String, Style)] = []
            if items.indices.contains(sel) {
                let it = items[sel]
                if let d = it.disabled { footer.append(("cannot change: \(d)", Theme.disabled)) }
                else if let n = it.next { footer.append(("Enter: \(it.assignment(n))", Theme.title)) }
                if let n = it.note { footer.append((n, Style(fg: .yellow))) }
            }
            if let m = s.message { footer.append((m, .plain)) }
            box(title: "Settings of \(node) (\(kind))", rows: rows, selected: sel, footer: footer, hints: .menu, on: &c, preferredWidth: 72)
        case let .flows(sel):
            let rows: [(String, Style)] = s.trace.flows.enumerated().map { i, f in
                ("\(f.flow.padded(10)) \(f.kind.rawValue.padded(5)) \(f.from)→\(f.to)  \(f.verdict.completes ? "✓" : "✗") \(f.verdict.summary)", i == sel ? Theme.selected : .plain)
            }
            let footer: [(String, Style)] = rows.isEmpty ? [("No flows yet: a adds one.", Theme.title)] : []
            box(title: "Flow", rows: rows, selected: sel, footer: footer, hints: .flows, on: &c, preferredWidth: 76)
        case let .kernels(sel):
            let rows: [(String, Style)] = KernelProfile.allCases.enumerated().map { i, k in
                ("\(k.rawValue.padded(10)) \(k == s.topology.hostKernel ? "(current)" : "")", i == sel ? Theme.selected : .plain)
            }
            box(title: "Host kernel profile", rows: rows, selected: sel, footer: [("Guests with their own kernel keep it; set them in o.", Theme.rule)], hints: .chooser, on: &c, preferredWidth: 60)
        case let .help(scroll):
            // Wrapped to the box (a hanging indent under the description), never cut.
            let inner = min(c.width - 2, 100) - 4
            let rows = Bindings.helpLines().flatMap { line -> [(String, Style)] in
                guard line.hasPrefix("  "), line.columns > inner, inner > 30 else { return [(line, line.hasPrefix("  ") ? Style.plain : Theme.title)] }
                let hang = 19
                let head = String(line.prefix(hang))
                let body = String(line.dropFirst(hang)).wrapped(inner - hang)
                return body.enumerated().map { i, b in ((i == 0 ? head : String(repeating: " ", count: hang)) + b, Style.plain) }
            }
            box(title: "csumlab explorer: keys", rows: rows, selected: nil, scroll: scroll, footer: [], hints: .help, on: &c, preferredWidth: 100)
        case let .commands(scroll):
            let inner = min(c.width - 2, 110) - 4
            let rows = Commands.lines(s).flatMap { line in
                Commands.shellWrapped(line, width: max(20, inner)).map { ($0, line.hasPrefix("#") ? Theme.title : Style.plain) }
            }
            box(title: "Commands for the current toggles", rows: rows, selected: nil, scroll: scroll, footer: [], hints: .commands, on: &c, preferredWidth: 110)
        case let .fixes(sel):
            let rows: [(String, Style)] = s.fixes.enumerated().map { i, f in
                let n = f.changes.count
                let cpu = f.cost.totalChecksumCPU
                let pct = (cpu * 1000).rounded() / 10
                let cost = cpu == 0 ? "all offloaded" : (pct < 0.1 ? "<0.1" : String(pct)) + " % CPU"
                let caveat = f.unchecked.isEmpty ? "" : " · unchecked bad csum"
                return ("\(i + 1). \(f.changes.map(\.assignment).joined(separator: ", "))  (\(n) change\(n == 1 ? "" : "s") · \(cost)\(caveat))",
                        i == sel ? Theme.selected : .plain)
            }
            var footer: [(String, Style)] = [("% CPU: checksums left to software at 1 Gbit/s per direction, of one core (csumlab fix --rate for others)", Theme.rule)]
            if s.fixes.indices.contains(sel) {
                for u in s.fixes[sel].unchecked {
                    footer.append(("works only because a bad checksum goes unchecked: \(u.description) — a real NIC would drop it", Theme.bad))
                }
                for ch in s.fixes[sel].changes {
                    for line in HostCommands.lines(for: ch.assignment, in: s.topology) { footer.append((line, .plain)) }
                }
            }
            if let p = s.preview, let f = s.flow {
                footer.insert(("preview (behind this list): \(f.verdict.summary); * marks the hops fix \(p.fix + 1) changes", f.verdict.completes ? Theme.ok : Theme.bad), at: 0)
            }
            box(title: "Fixes for flow \(s.flow?.flow ?? "")", rows: rows, selected: sel, footer: footer, hints: .fixes, on: &c, preferredWidth: 100)
        case let .addNode(sel):
            let rows: [(String, Style)] = NodeTemplate.allCases.enumerated().map { i, t in
                (t.label, i == sel ? Theme.selected : .plain)
            }
            let name = NodeTemplate.allCases.indices.contains(sel) ? s.document.current.structure.newNode(NodeTemplate.allCases[sel]).name : ""
            box(title: "Add a node", rows: rows, selected: sel,
                footer: [("Enter adds it as \(name) with default settings; e renames it, x links it, o sets it.", Theme.rule)],
                hints: .chooser, on: &c, preferredWidth: 70)
        case let .link(sel):
            let choices = s.linkChoices
            let rows: [(String, Style)] = choices.enumerated().map { i, ch in
                (ch.label + (ch.refusal == nil ? "" : "  (refused)"), i == sel ? Theme.selected : ch.refusal == nil ? .plain : Theme.disabled)
            }
            var footer: [(String, Style)] = [("Only links the lab format allows, to free endpoints, are offered.", Theme.rule)]
            if choices.indices.contains(sel), let why = choices[sel].refusal { footer.append(("Refused: " + why, Theme.title)) }
            box(title: "Link or unlink \(s.selectedNode)", rows: rows, selected: sel, footer: footer, hints: .chooser, on: &c, preferredWidth: 70)
        case let .browser(sel):
            let es = s.browserEntries
            let nameW = min(34, (es.map(\.name.columns).max() ?? 10) + 1)
            let rows: [(String, Style)] = es.enumerated().map { i, e in
                var st: Style = e.error == nil ? .plain : Theme.disabled
                if i == sel { st = Theme.selected }
                return ("\(e.name.padded(nameW)) \(e.error.map { "does not load: " + $0 } ?? e.summary)", st)
            }
            var footer: [(String, Style)] = []
            if es.indices.contains(sel) { footer.append((es[sel].path, Theme.rule)) }
            box(title: "Open a lab", rows: rows, selected: sel, footer: footer, hints: .chooser, on: &c, preferredWidth: 110)
        case let .confirm(q):
            var footer: [(String, Style)] = [("y: \(q.yes)", Theme.title)]
            if let a = q.alternative { footer.append(("s: \(a)", Theme.title)) }
            footer.append(("n or Esc: \(q.no)", Theme.rule))
            let inner = min(c.width - 2, max(80, q.title.columns + 6)) - 4
            let rows = q.lines.flatMap { l in l.wrapped(max(10, inner)).map { ($0, Style.plain) } }
            box(title: q.title, rows: rows, selected: nil, footer: footer, hints: .confirm, on: &c, preferredWidth: 80)
        case let .form(f):
            let labelW = min(22, (f.fields.map(\.label.columns).max() ?? 8) + 1)
            let rows: [(String, Style)] = f.fields.enumerated().map { i, fl in
                let value = fl.choices != nil ? "‹ \(fl.text) ›" : fl.text + (i == f.focused ? "█" : "")
                return ("\(fl.label.padded(labelW)) \(value)", i == f.focused ? Theme.selected : .plain)
            }
            var footer: [(String, Style)] = []
            if let e = f.error { footer.append(("refused: \(e)", Theme.bad)) }
            if f.fields.indices.contains(f.focused), !f.fields[f.focused].help.isEmpty { footer.append((f.fields[f.focused].help, Theme.rule)) }
            box(title: f.title, rows: rows, selected: f.focused, footer: footer, hints: .form, on: &c, preferredWidth: 80)
        case let .lessons(sel):
            let es = s.lessonEntries
            let nameW = min(28, (es.map(\.name.columns).max() ?? 10) + 1)
            let rows: [(String, Style)] = es.enumerated().map { i, e in
                var st: Style = e.error == nil ? .plain : Theme.disabled
                if i == sel { st = Theme.selected }
                let progress = s.lessonProgress[e.name] ?? ""
                return ("\(e.name.padded(nameW)) \(e.error.map { "does not load: " + $0 } ?? "\(e.title) · \(e.pages) pages · \(progress)")", st)
            }
            var footer: [(String, Style)] = []
            if es.indices.contains(sel) { footer.append((es[sel].summary, .plain)); footer.append((es[sel].path, Theme.rule)) }
            box(title: "Lessons", rows: rows, selected: sel, footer: footer, hints: .chooser, on: &c, preferredWidth: 100)
        case .answer:
            // Drawn in the lesson pane, where the question is.
            break
        case let .search(text):
            box(title: "Search steps", rows: [("/" + text + "█", .plain)], selected: nil, footer: [], hints: .search, on: &c, preferredWidth: 50)
        }
    }

    static func box(title: String, rows: [(String, Style)], selected: Int?, scroll: Int = 0, footer: [(String, Style)],
                    hints: BindingContext, on c: inout Canvas, preferredWidth: Int) {
        let w = min(c.width - 2, max(preferredWidth, title.columns + 6))
        guard w >= 10, c.height >= 6 else { return }
        let inner = w - 4
        let footerLines = footer.flatMap { f in f.0.wrapped(inner).map { ($0, f.1) } }
        let hintText = Bindings.table.filter { $0.context == hints && $0.hint }.map { "\($0.keyText) \($0.label)" }.joined(separator: "  ")
        let maxBody = max(1, c.height - 4 - footerLines.count - 2)
        let bodyH = min(rows.count, maxBody)
        let h = bodyH + footerLines.count + (footerLines.isEmpty ? 0 : 1) + 3
        let r = Rect(x: (c.width - w) / 2, y: max(0, (c.height - h) / 2), width: w, height: h)
        c.fill(r)
        c.box(r, style: Theme.title, title: title, titleStyle: Theme.focusTitle)
        var start = min(scroll, max(0, rows.count - bodyH))
        if let sel = selected, rows.count > bodyH { start = min(max(0, sel - bodyH / 2), rows.count - bodyH) }
        for (i, row) in rows.dropFirst(start).prefix(bodyH).enumerated() {
            // In a list, the chosen row is marked in text too (not only reversed), so it shows
            // without colour or attributes (a screen reader, a plain capture).
            let text = selected.map { ($0 == start + i ? "▶ " : "  ") + row.0 } ?? row.0
            c.put(text.padded(inner), x: r.x + 2, y: r.y + 1 + i, style: row.1)
        }
        // On the top border, not over the last row's text.
        if start + bodyH < rows.count { c.put(" ↓ more ", x: r.maxX - 10, y: r.y, style: Theme.title) }
        var y = r.y + 1 + bodyH
        if !footerLines.isEmpty {
            for x in r.x + 1..<r.maxX - 1 { c[x, y] = Cell("─", Theme.rule) }
            y += 1
            for (text, st) in footerLines { c.put(text, x: r.x + 2, y: y, style: st, maxWidth: inner); y += 1 }
        }
        c.put(" \(hintText) ".truncated(w - 4), x: r.x + 2, y: r.maxY - 1, style: Theme.rule)
    }
}
