import Lessons
import Simulation

/// The lesson pane, in the detail pane's place: the page's text, its question or task, the
/// feedback to the last answer, and the keys that answer. Scrolls like the detail pane.
enum LessonView {
    static func lines(_ s: ExplorerState, _ l: LessonSession, width: Int) -> [(String, Style)] {
        var out: [(String, Style)] = []
        func add(_ text: String, _ style: Style = .plain, indent: String = "") {
            for para in reflowed(text) {
                if para.isEmpty { out.append(("", .plain)); continue }
                let ls = String(para).wrapped(max(1, width - indent.columns))
                for (i, line) in ls.enumerated() { out.append(((i == 0 ? indent : String(repeating: " ", count: indent.columns)) + line, style)) }
            }
        }
        guard let p = l.current else { return [("This lesson has no pages.", Theme.bad)] }
        let done = l.progress.done.contains(l.page)
        // A title made from the text's first words would only repeat them.
        let derived = p.title.hasSuffix("…") && p.text.hasPrefix(p.title.dropLast())
        if !derived || done { add((derived ? "" : p.title) + (done ? (derived ? "✓ done" : "  ✓") : ""), Theme.title) }
        switch p.content {
        case let .say(text):
            add(text)
            out.append(("", .plain))
            add(l.page + 1 < l.pageCount ? "> next page" : "the last page: L for another lesson", Theme.rule)
        case let .choice(q):
            add(q.text)
            out.append(("", .plain))
            let answered = l.progress.answers[l.page]
            for (i, ch) in q.choices.enumerated() {
                var mark = "  "
                if let a = answered, a == ch.text, let f = l.feedback { mark = f.correct ? "✓ " : "✗ " }
                add(ch.text, mark == "  " ? .plain : Theme.title, indent: "\(mark)\(i + 1)) ")
            }
        case let .pick(q):
            add(q.text)
            out.append(("", .plain))
            add(q.kind == .step ? "Move to the step (→ ← or the steps pane), then press Enter."
                                : "Select the node (graph pane: ↓ ↑, or a step at it), then press Enter.", Theme.rule)
        case let .value(q):
            add(q.text)
            out.append(("", .plain))
            if case let .answer(text)? = s.overlay {
                add("answer: " + text + "█", Theme.selected)
                add("Enter checks it, Esc cancels", Theme.rule)
            } else {
                add("Enter, then type the answer" + (l.progress.answers[l.page].map { " (last: \($0))" } ?? ""), Theme.rule)
            }
        case let .task(t):
            add(t.text)
            out.append(("", .plain))
            if let st = l.taskStatus {
                for u in st.unmet { add(u, Theme.bad, indent: "✗ ") }
                if st.met { add("every goal holds", Theme.ok, indent: "✓ ") }
            }
            let n = LessonController.changes(s)
            var limit = ""
            if let mx = t.maxChanges { limit = " (at most \(mx))" }
            if let mn = t.minChanges { limit += " (at least \(mn))" }
            add("your changes: \(n)\(limit) · u undoes one, r returns to the lesson's lab", Theme.rule)
        }
        if let f = l.feedback, !f.text.isEmpty {
            out.append(("", .plain))
            add(f.text, f.correct ? Theme.ok : Theme.bad, indent: f.correct ? "✓ " : "✗ ")
        }
        return out
    }

    /// A lesson's text as the pane shows it: the line breaks of a YAML block are joined, a
    /// blank line starts a paragraph (kept as an empty line), and a line that starts a list item
    /// (`- `, `* `, `1. `) or is indented stays a line of its own.
    static func reflowed(_ text: String) -> [String] {
        var out: [String] = []
        var joining = false
        for raw in text.split(separator: "\n", omittingEmptySubsequences: false) {
            let line = String(raw)
            let trimmed = line.drop { $0 == " " }
            if trimmed.isEmpty {
                if !out.isEmpty && out.last != "" { out.append("") }
                joining = false
                continue
            }
            let item = trimmed.hasPrefix("- ") || trimmed.hasPrefix("* ") || line.hasPrefix(" ")
                || (trimmed.first?.isNumber == true && trimmed.contains(". ") && trimmed.prefix { $0.isNumber }.count < 3 && trimmed.dropFirst(trimmed.prefix { $0.isNumber }.count).hasPrefix(". "))
            if joining && !item { out[out.count - 1] += " " + trimmed } else { out.append(line) }
            joining = true
        }
        while out.last == "" { out.removeLast() }
        return out
    }

    /// `text` cut at its backticks into plain and code segments (the backticks dropped).
    static func codeSpans(_ text: String, startingInCode: Bool) -> (segments: [(String, Bool)], endsInCode: Bool) {
        var segments: [(String, Bool)] = []
        var inCode = startingInCode
        var current = ""
        for ch in text {
            if ch == "`" {
                if !current.isEmpty { segments.append((current, inCode)) }
                current = ""
                inCode.toggle()
            } else {
                current.append(ch)
            }
        }
        if !current.isEmpty { segments.append((current, inCode)) }
        return (segments, inCode)
    }

    static func draw(_ s: ExplorerState, _ l: LessonSession, in r: Rect, on c: inout Canvas) {
        let doneMark = l.isDone ? " · all done" : " · \(l.doneCount) done"
        Screen.title("Lesson \(l.page + 1)/\(l.pageCount)", extra: l.lesson.title + doneMark, focused: s.focus == .detail, in: r, on: &c)
        let area = Rect(x: r.x + 1, y: r.y + 1, width: r.width - 1, height: r.height - 1)
        guard !area.isEmpty else { return }
        let all = lines(s, l, width: area.width)
        // Keep the answer field in sight while typing.
        var start = min(s.detailScroll, max(0, all.count - area.height))
        if case .answer? = s.overlay { start = max(0, all.count - area.height) }
        // A span between backticks (a command, a kernel name) is drawn in the code style
        // without its backticks; a span may go on over a wrapped line, and ends with its
        // paragraph (an unmatched backtick cannot colour the rest of the page).
        var inCode = false
        for (i, (text, style)) in all.enumerated() {
            if text.isEmpty { inCode = false }
            let parts = codeSpans(text, startingInCode: inCode)
            inCode = parts.endsInCode
            guard i >= start, i < start + area.height else { continue }
            var x = area.x
            for (segment, isCode) in parts.segments {
                x = c.put(segment, x: x, y: area.y + i - start, style: isCode ? Theme.code : style, maxWidth: max(0, area.maxX - x))
            }
        }
        if start + area.height < all.count { c.put("↓", x: area.maxX - 1, y: area.maxY - 1, style: Theme.title) }
    }
}
