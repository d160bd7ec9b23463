import Simulation
import TopologyFile
import Yams

/// Turns a composed lesson tree into a `Lesson`, collecting every error with its mark, and checks
/// it against the lab: selectors must match steps, solutions must meet goals.
struct LessonParser {
    let file: String
    var diagnostics: [Diagnostic] = []

    /// The lab and its trace, once loaded (nil: the lab has errors; pages are then only parsed).
    var lab: LoadedTopology?
    var trace: Trace?
    var defaultFlow: String?

    typealias Entry = (key: String, keyMark: Mark?, value: Yams.Node)

    init(file: String) {
        self.file = file
    }

    mutating func error(_ mark: Mark?, _ message: String) {
        diagnostics.append(Diagnostic(file: file, line: mark?.line ?? 1, column: mark?.column ?? 1, message: message))
    }

    mutating func mapping(_ n: Yams.Node, _ what: String) -> [Entry]? {
        guard case let .mapping(m) = n else {
            error(n.mark, "\(what) must be a mapping (key: value)")
            return nil
        }
        var out: [Entry] = []
        var seen = Set<String>()
        for (k, v) in m {
            guard case let .scalar(s) = k else {
                error(k.mark, "keys in \(what) must be plain names")
                continue
            }
            if !seen.insert(s.string).inserted {
                error(k.mark, "duplicate key '\(s.string)' in \(what)")
                continue
            }
            out.append((s.string, k.mark, v))
        }
        return out
    }

    mutating func scalar(_ n: Yams.Node, _ what: String) -> String? {
        guard case let .scalar(s) = n else {
            error(n.mark, "\(what) must be a single value")
            return nil
        }
        return s.string
    }

    /// Free text: any characters but control characters (newlines and tabs if `multiline`).
    mutating func text(_ n: Yams.Node, _ what: String, multiline: Bool = true) -> String? {
        guard let s = scalar(n, what) else { return nil }
        if let p = FreeTextRule.problem(s, multiline: multiline) {
            error(n.mark, "'\(what)': \(p)")
            return nil
        }
        if s.allSatisfy({ $0 == " " || $0 == "\n" || $0 == "\t" }) {
            error(n.mark, "'\(what)' is empty")
            return nil
        }
        return s
    }

    mutating func bool(_ n: Yams.Node, _ what: String) -> Bool? {
        guard let s = scalar(n, what) else { return nil }
        guard let b = Topology.parseBool(s) else {
            error(n.mark, "'\(what)' expects true or false, got '\(s)'")
            return nil
        }
        return b
    }

    mutating func count(_ n: Yams.Node, _ what: String) -> Int? {
        guard let s = scalar(n, what) else { return nil }
        guard let v = Int(s), (0...1_000_000).contains(v) else {
            error(n.mark, "'\(what)' expects a number from 0 to 1000000, got '\(s)'")
            return nil
        }
        return v
    }

    func unknown(_ key: String, in what: String, expected: [String]) -> String {
        "unknown key '\(key)' in \(what) (expected one of: \(expected.joined(separator: ", ")))"
    }

    mutating func reject(_ entries: [Entry], allowed: [String], in what: String) {
        for e in entries where !allowed.contains(e.key) {
            error(e.keyMark, unknown(e.key, in: what, expected: allowed))
        }
    }

    // MARK: Top level

    mutating func lesson(_ root: Yams.Node) -> Lesson? {
        guard let entries = mapping(root, "the file") else { return nil }
        let top = ["lesson", "name", "title", "summary", "lab", "flow", "pages"]
        reject(entries, allowed: top, in: "the lesson")
        func entry(_ k: String) -> Entry? { entries.first { $0.key == k } }
        if let v = entry("lesson") {
            if scalar(v.value, "lesson") != String(LessonFile.formatVersion) {
                error(v.value.mark, "unsupported lesson format version: expected 'lesson: \(LessonFile.formatVersion)'")
            }
        } else {
            error(root.mark, "missing 'lesson: \(LessonFile.formatVersion)' (the format version)")
        }
        var name = baseName(file)
        if let v = entry("name"), let s = scalar(v.value, "name") {
            name = s
            if let p = NameRule.problem(s) { error(v.value.mark, "invalid lesson name '\(s)': \(p); \(NameRule.summary)") }
        } else if NameRule.problem(name) != nil {
            error(root.mark, "the file name '\(name)' is not a valid lesson name: add 'name:' (\(NameRule.summary))")
        }
        var title = name
        if let v = entry("title"), let s = text(v.value, "title", multiline: false) { title = s }
        var summary = ""
        if let v = entry("summary"), let s = text(v.value, "summary", multiline: false) { summary = s }

        var labPath: String?
        if let v = entry("lab") {
            loadLab(v.value, path: &labPath)
        } else {
            error(root.mark, "missing 'lab' (a topology file relative to this lesson, or an inline topology)")
        }
        if let trace {
            defaultFlow = trace.flows.first?.flow
        }
        var flow: String?
        if let v = entry("flow"), let s = scalar(v.value, "flow") {
            flow = s
            if let trace, !trace.flows.contains(where: { $0.flow == s }) {
                error(v.value.mark, "the lab has no flow '\(s)' (flows: \(trace.flows.map(\.flow).joined(separator: ", ")))")
                flow = nil
                self.trace = nil   // selectors would be checked against the wrong flow
            } else {
                defaultFlow = s
            }
        }
        var pages: [LessonPage] = []
        if let v = entry("pages") {
            if case let .sequence(seq) = v.value, !seq.isEmpty {
                for item in seq {
                    if let p = page(item) { pages.append(p) }
                }
            } else {
                error(v.value.mark, "'pages' must be a list of pages (- say: …, - ask: …, - task: …)")
            }
        } else {
            error(root.mark, "missing 'pages'")
        }
        guard diagnostics.isEmpty, let lab else { return nil }
        return Lesson(name: name, title: title, summary: summary, file: file, lab: lab, labPath: labPath, flow: flow, pages: pages)
    }

    func baseName(_ path: String) -> String {
        var s = path.split(separator: "/").last.map(String.init) ?? path
        for ext in [".yaml", ".yml"] where s.hasSuffix(ext) { s.removeLast(ext.count) }
        return s
    }

    /// `path` without `.` parts and with `dir/..` pairs removed (lexically: `..` after a symbolic
    /// link means the same thing to `open` only when the link is not followed, which is the
    /// usual layout of a repository; a leading `..` stays).
    static func lexicallyNormal(_ path: String) -> String {
        var parts: [Substring] = []
        for p in path.split(separator: "/", omittingEmptySubsequences: true) {
            if p == "." { continue }
            if p == "..", let last = parts.last, last != ".." { parts.removeLast(); continue }
            if p == "..", path.hasPrefix("/"), parts.isEmpty { continue }
            parts.append(p)
        }
        let joined = parts.joined(separator: "/")
        return path.hasPrefix("/") ? "/" + joined : (joined.isEmpty ? "." : joined)
    }

    func directory(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        let d = String(path[..<slash])
        return d.isEmpty ? "/" : d
    }

    mutating func loadLab(_ n: Yams.Node, path: inout String?) {
        let loaded: LoadedTopology
        switch n {
        case let .scalar(s):
            let rel = s.string
            if let p = FreeTextRule.problem(rel, multiline: false) { return error(n.mark, "'lab': \(p)") }
            guard !rel.isEmpty else { return error(n.mark, "'lab' is empty: name a topology file or write the topology inline") }
            let joined = rel.hasPrefix("/") ? rel : directory(of: file) + "/" + rel
            // The shorter spelling when it names the same file (no symbolic link in between).
            let normal = Self.lexicallyNormal(joined)
            let resolved = RecoveryStore.canonicalPath(normal) == RecoveryStore.canonicalPath(joined) ? normal : joined
            do throws(TopologyFileError) {
                loaded = try TraceCache.shared.lab(resolved)
            } catch {
                let first = error.diagnostics.first.map(\.description) ?? "cannot load"
                let more = error.diagnostics.count > 1 ? " (and \(error.diagnostics.count - 1) more)" : ""
                return self.error(n.mark, "the lab '\(rel)' does not load: \(first)\(more)")
            }
            path = resolved
        case .mapping:
            do throws(TopologyFileError) {
                loaded = try TopologyFile.topology(from: n, file: file)
            } catch {
                diagnostics += error.diagnostics
                return
            }
        default:
            return error(n.mark, "'lab' must be a topology file's path or an inline topology (a mapping starting with 'csumlab: 1')")
        }
        do throws(SimulationError) {
            trace = try TraceCache.shared.trace(loaded.topology)
            lab = loaded
        } catch {
            self.error(n.mark, "the lab does not simulate: \(error)")
        }
    }

    // MARK: Pages

    static let pageKinds = ["say", "ask", "task"]
    static let common = ["show", "title"]

    mutating func page(_ n: Yams.Node) -> LessonPage? {
        guard let entries = mapping(n, "a page") else { return nil }
        func entry(_ k: String) -> Entry? { entries.first { $0.key == k } }
        let kinds = entries.filter { Self.pageKinds.contains($0.key) }
        guard kinds.count == 1, let kind = kinds.first else {
            error(kinds.dropFirst().first?.keyMark ?? n.mark,
                  "a page has exactly one of 'say', 'ask' or 'task'\(kinds.isEmpty ? "" : " (this one has \(kinds.map { "'\($0.key)'" }.joined(separator: " and ")))")")
            return nil
        }
        let line = n.mark?.line ?? 1
        var show: LessonTarget?
        if let s = entry("show") { show = target(s.value, "'show'") }
        let content: LessonPage.Content?
        switch kind.key {
        case "say":
            reject(entries, allowed: ["say"] + Self.common, in: "a 'say' page")
            content = text(kind.value, "say").map { .say($0) }
        case "ask":
            content = question(entries, kind, n)
        default:
            content = task(entries, kind)
        }
        guard let content else { return nil }
        var title = LessonParser.firstWords(of: LessonPage(title: "", show: nil, content: content, line: line).text)
        if let t = entry("title"), let s = text(t.value, "title", multiline: false) { title = s }
        return LessonPage(title: title, show: show, content: content, line: line)
    }

    /// The first words of `text`, up to 40 characters, for a page without a title.
    static func firstWords(of text: String) -> String {
        let words = text.split(whereSeparator: { $0 == " " || $0 == "\n" || $0 == "\t" })
        var out = ""
        for w in words {
            let next = out.isEmpty ? String(w) : out + " " + w
            if next.count > 40 { return out.isEmpty ? String(next.prefix(39)) + "…" : out + "…" }
            out = next
        }
        return out
    }

    mutating func question(_ entries: [Entry], _ ask: Entry, _ n: Yams.Node) -> LessonPage.Content? {
        func entry(_ k: String) -> Entry? { entries.first { $0.key == k } }
        let forms = entries.filter { ["choices", "pick", "value"].contains($0.key) }
        guard forms.count == 1, let form = forms.first else {
            error(forms.dropFirst().first?.keyMark ?? ask.keyMark,
                  "a question has exactly one of 'choices', 'pick' or 'value'\(forms.isEmpty ? "" : " (this one has \(forms.map { "'\($0.key)'" }.joined(separator: " and ")))")")
            return nil
        }
        let questionText = text(ask.value, "ask")
        switch form.key {
        case "choices":
            reject(entries, allowed: ["ask", "choices"] + Self.common, in: "a multiple-choice question")
            guard let choices = choices(form) else { return nil }
            return questionText.map { .choice(ChoiceQuestion(text: $0, choices: choices)) }
        case "pick":
            reject(entries, allowed: ["ask", "pick", "answer", "hints", "right", "wrong"] + Self.common, in: "a pick question")
            var kind: PickKind?
            if let s = scalar(form.value, "pick") {
                kind = PickKind(rawValue: s)
                if kind == nil { error(form.value.mark, "'pick' expects step or node, got '\(s)'") }
            }
            var answer: LessonTarget?
            if let a = entry("answer") {
                answer = target(a.value, "'answer'")
                if kind == .node, case .step = answer { error(a.value.mark, "a node pick's 'answer' is a node: {node: NAME}") }
            } else {
                error(ask.keyMark, "a pick question needs 'answer' (a step selector or {node: NAME})")
            }
            var hints: [PickHint] = []
            if let h = entry("hints") {
                if case let .sequence(seq) = h.value {
                    for item in seq {
                        guard let fs = mapping(item, "a hint") else { continue }
                        reject(fs, allowed: ["at", "feedback"], in: "a hint")
                        let at = fs.first { $0.key == "at" }.flatMap { target($0.value, "'at'") }
                        let fb = fs.first { $0.key == "feedback" }.flatMap { text($0.value, "feedback") }
                        if !fs.contains(where: { $0.key == "at" }) { error(item.mark, "a hint needs 'at' (a selector)") }
                        if !fs.contains(where: { $0.key == "feedback" }) { error(item.mark, "a hint needs 'feedback'") }
                        if kind == .node, case .step = at { error(item.mark, "a node pick's hints are at nodes: {node: NAME}") }
                        if let at, let fb { hints.append(PickHint(at: at, feedback: fb)) }
                    }
                } else {
                    error(h.value.mark, "'hints' must be a list of {at: selector, feedback: text}")
                }
            }
            let right = entry("right").flatMap { text($0.value, "right") }
            let wrong = entry("wrong").flatMap { text($0.value, "wrong") }
            guard let questionText, let kind, let answer else { return nil }
            return .pick(PickQuestion(text: questionText, kind: kind, answer: answer, hints: hints, right: right, wrong: wrong))
        default:
            reject(entries, allowed: ["ask", "value", "right", "wrong"] + Self.common, in: "a value question")
            let ref = reference(form.value, "'value'", extra: [])?.ref
            let right = entry("right").flatMap { text($0.value, "right") }
            let wrong = entry("wrong").flatMap { text($0.value, "wrong") }
            guard let questionText, let ref else { return nil }
            return .value(ValueQuestion(text: questionText, reference: ref, right: right, wrong: wrong))
        }
    }

    mutating func choices(_ e: Entry) -> [Choice]? {
        guard case let .sequence(seq) = e.value else {
            error(e.value.mark, "'choices' must be a list of {text, correct: true?, feedback?}")
            return nil
        }
        var out: [Choice] = []
        var ok = true
        for item in seq {
            guard let fs = mapping(item, "a choice") else { ok = false; continue }
            reject(fs, allowed: ["text", "correct", "feedback"], in: "a choice")
            guard let t = fs.first(where: { $0.key == "text" }) else {
                error(item.mark, "a choice needs 'text'")
                ok = false
                continue
            }
            let txt = text(t.value, "text", multiline: false)
            let correct = fs.first { $0.key == "correct" }.map { bool($0.value, "correct") } ?? false
            let fb = fs.first { $0.key == "feedback" }.flatMap { text($0.value, "feedback") }
            guard let txt, let correct else { ok = false; continue }
            out.append(Choice(text: txt, correct: correct, feedback: fb))
        }
        if !(2...9).contains(seq.count) {
            error(e.keyMark, "a multiple-choice question has 2 to 9 choices, this one has \(seq.count)")
            return nil
        }
        guard ok else { return nil }
        let right = out.filter(\.correct).count
        if right != 1 {
            error(e.keyMark, "exactly one choice is 'correct: true', here \(right == 0 ? "none is" : "\(right) are")")
            return nil
        }
        return out
    }

    // MARK: Tasks

    mutating func task(_ entries: [Entry], _ t: Entry) -> LessonPage.Content? {
        reject(entries, allowed: ["task", "goal", "changes", "solution", "attempts", "done"] + Self.common, in: "a task")
        func entry(_ k: String) -> Entry? { entries.first { $0.key == k } }
        let instructions = text(t.value, "task")
        var goal: [GoalCondition] = []
        var goalOK = true
        if let g = entry("goal") {
            if case let .sequence(seq) = g.value, !seq.isEmpty {
                for item in seq {
                    if let c = condition(item) { goal.append(c) } else { goalOK = false }
                }
            } else {
                error(g.value.mark, "'goal' must be a list of conditions")
                goalOK = false
            }
        } else {
            error(t.keyMark, "a task needs 'goal' (a list of conditions)")
            goalOK = false
        }
        var maxChanges: Int?, minChanges: Int?
        if let c = entry("changes"), let fs = mapping(c.value, "'changes'") {
            reject(fs, allowed: ["max", "min"], in: "'changes'")
            maxChanges = fs.first { $0.key == "max" }.flatMap { count($0.value, "max") }
            minChanges = fs.first { $0.key == "min" }.flatMap { count($0.value, "min") }
            if fs.isEmpty { error(c.value.mark, "'changes' needs 'max' and/or 'min'") }
            if let a = minChanges, let b = maxChanges, a > b { error(c.value.mark, "'changes': min \(a) is more than max \(b)") }
        }
        var solution: [String] = []
        var solutionMarks: [Mark?] = []
        let solutionEntry = entry("solution")
        if let s = solutionEntry {
            if let list = assignments(s.value, "solution") {
                solution = list.map(\.0)
                solutionMarks = list.map(\.1)
                if list.isEmpty { error(s.value.mark, "'solution' lists at least one assignment") }
            }
        } else {
            error(t.keyMark, "a task needs 'solution' (the --set assignments that meet its goal; check and the tests apply them)")
        }
        var attempts: [TaskAttempt] = []
        var attemptMarks: [Mark?] = []
        if let a = entry("attempts") {
            if case let .sequence(seq) = a.value {
                for item in seq {
                    guard let fs = mapping(item, "an attempt") else { continue }
                    reject(fs, allowed: ["set", "feedback"], in: "an attempt")
                    let set = fs.first { $0.key == "set" }.flatMap { assignments($0.value, "set") }
                    let fb = fs.first { $0.key == "feedback" }.flatMap { text($0.value, "feedback") }
                    if !fs.contains(where: { $0.key == "set" }) { error(item.mark, "an attempt needs 'set' (assignments)") }
                    if !fs.contains(where: { $0.key == "feedback" }) { error(item.mark, "an attempt needs 'feedback'") }
                    if let set, set.isEmpty { error(item.mark, "an attempt's 'set' lists at least one assignment") }
                    if let set, !set.isEmpty, let fb {
                        attempts.append(TaskAttempt(set: set.map(\.0), feedback: fb))
                        attemptMarks.append(item.mark)
                    }
                }
            } else {
                error(a.value.mark, "'attempts' must be a list of {set: [assignments], feedback: text}")
            }
        }
        let done = entry("done").flatMap { text($0.value, "done") }
        guard let instructions else { return nil }
        let task = LessonTask(text: instructions, goal: goal, maxChanges: maxChanges, minChanges: minChanges,
                              solution: solution, attempts: attempts, done: done)
        let errorsBefore = diagnostics.count
        if goalOK, let lab, trace != nil, let solutionEntry, !solution.isEmpty {
            checkTask(task, lab: lab.topology, taskMark: t.keyMark, solutionMark: solutionEntry.keyMark,
                      solutionMarks: solutionMarks, attemptMarks: attemptMarks)
        }
        return diagnostics.count == errorsBefore ? .task(task) : nil
    }

    /// A list of `--set` assignments (or one), each with its mark; each must apply to the lab.
    mutating func assignments(_ n: Yams.Node, _ what: String) -> [(String, Mark?)]? {
        var items: [Yams.Node]
        switch n {
        case .scalar: items = [n]
        case let .sequence(seq): items = Array(seq)
        default:
            error(n.mark, "'\(what)' must be a list of assignments like \"vm1.eth0.tx=off\"")
            return nil
        }
        var out: [(String, Mark?)] = []
        var ok = true
        for item in items {
            guard let s = text(item, what, multiline: false) else { ok = false; continue }
            if let lab {
                var copy = lab.topology
                do throws(SettingError) {
                    try copy.apply(assignment: s)
                } catch {
                    self.error(item.mark, "'\(what)': \(error.message)")
                    ok = false
                    continue
                }
            }
            out.append((s, item.mark))
        }
        return ok ? out : nil
    }

    /// The solution meets the goal within the change limits, the lesson's lab does not, and no
    /// attempt does.
    mutating func checkTask(_ t: LessonTask, lab: Topology, taskMark: Mark?, solutionMark: Mark?, solutionMarks: [Mark?], attemptMarks: [Mark?]) {
        let flow = defaultFlow
        func run(_ set: [String]) -> (Topology, Trace?, String?) {
            var copy = lab
            for a in set { try? copy.apply(assignment: a) }
            let problems = TopologyFile.validate(copy, file: file)
            if let p = problems.first { return (copy, nil, p.message) }
            do throws(SimulationError) {
                return (copy, try TraceCache.shared.trace(copy), nil)
            } catch {
                return (copy, nil, "\(error)")
            }
        }
        if let base = self.trace, t.goal.allSatisfy({ $0.holds(live: lab, trace: base, defaultFlow: flow) }) {
            error(taskMark, "the lesson's lab already meets this task's goal: there is nothing to do")
        }
        let (solved, trace, problem) = run(t.solution)
        if let problem {
            error(solutionMark, "the solution makes the lab invalid: \(problem)")
        } else if let trace {
            let r = LessonCheck.task(t, live: solved, trace: trace, changes: t.solution.count, defaultFlow: flow)
            if !r.met { error(solutionMark, "the solution does not meet the goal: not \(r.unmet.joined(separator: "; "))") }
        }
        for (i, a) in t.attempts.enumerated() {
            let mark = attemptMarks.indices.contains(i) ? attemptMarks[i] : taskMark
            if a.set.allSatisfy({ GoalCondition.holds($0, on: lab) }) {
                error(mark, "the lesson's lab already has \(a.set.joined(separator: ", ")): this attempt would answer before the student changes anything")
                continue
            }
            let (tried, trace, problem) = run(a.set)
            if let problem {
                error(mark, "this attempt makes the lab invalid: \(problem)")
            } else if let trace, t.goal.allSatisfy({ $0.holds(live: tried, trace: trace, defaultFlow: flow) }) {
                error(mark, "this attempt meets the goal, so its feedback would never show")
            }
        }
    }

    // MARK: Goal conditions

    mutating func condition(_ n: Yams.Node) -> GoalCondition? {
        guard let fs = mapping(n, "a goal condition") else { return nil }
        func entry(_ k: String) -> Entry? { fs.first { $0.key == k } }
        let before = diagnostics.count
        var flowName: String?
        if let f = entry("flow") { flowName = scalar(f.value, "flow") }
        // Written into the condition, so its summary names the flow.
        let resolvedFlow = flowName ?? defaultFlow
        func checkFlow() -> FlowTrace? {
            guard let trace else { return nil }
            let name = flowName ?? defaultFlow
            guard let ft = trace.flows.first(where: { $0.flow == name }) else {
                error(entry("flow")?.value.mark ?? n.mark, "the lab has no flow '\(name ?? "")' (flows: \(trace.flows.map(\.flow).joined(separator: ", ")))")
                return nil
            }
            return ft
        }
        func leg(_ what: String) -> String? {
            guard let l = entry("leg") else {
                error(n.mark, "a '\(what)' condition needs 'leg'")
                return nil
            }
            guard let s = scalar(l.value, "leg") else { return nil }
            if let ft = checkFlow(), !ft.legs.contains(where: { $0.name == s }) {
                error(l.value.mark, "flow '\(ft.flow)' has no leg '\(s)' (legs: \(ft.legs.map(\.name).joined(separator: ", ")))")
            }
            return s
        }
        if let s = entry("set") {
            reject(fs, allowed: ["set"], in: "a 'set' condition")
            guard let a = assignments(s.value, "set") else { return nil }
            guard a.count == 1 else {
                error(s.value.mark, "'set' in a goal is one assignment (write one condition per setting)")
                return nil
            }
            return diagnostics.count == before ? .setting(a[0].0) : nil
        }
        if let v = entry("verdict") {
            reject(fs, allowed: ["flow", "verdict"], in: "a 'verdict' condition")
            _ = checkFlow()
            let s = scalar(v.value, "verdict")
            guard let s, s == "completes" || s == "fails" else {
                error(v.value.mark, "'verdict' expects completes or fails")
                return nil
            }
            return diagnostics.count == before ? .verdict(flow: resolvedFlow, completes: s == "completes") : nil
        }
        if let o = entry("outcome") {
            reject(fs, allowed: ["flow", "leg", "outcome"], in: "an 'outcome' condition")
            let l = leg("outcome")
            let s = scalar(o.value, "outcome")
            if let s, !GoalCondition.outcomes.contains(s) {
                error(o.value.mark, "'outcome' expects one of \(GoalCondition.outcomes.joined(separator: ", ")), got '\(s)'")
            }
            guard let l, let s, diagnostics.count == before else { return nil }
            return .outcome(flow: resolvedFlow, leg: l, outcome: s)
        }
        if let sentEntry = entry("sent") {
            reject(fs, allowed: ["flow", "leg", "sent"], in: "a 'sent' condition")
            let l = leg("sent")
            let b = bool(sentEntry.value, "sent")
            guard let l, let b, diagnostics.count == before else { return nil }
            return .sent(flow: resolvedFlow, leg: l, sent: b)
        }
        if let c = entry("counter") {
            reject(fs, allowed: ["counter", "host", "flow", "max", "min", "equals"], in: "a 'counter' condition")
            let name = text(c.value, "counter", multiline: false)
            _ = checkFlow()
            var host: String?
            if let h = entry("host") {
                host = scalar(h.value, "host")
                if let host, let lab, lab.topology.nodeIndex(named: host) == nil {
                    error(h.value.mark, "unknown node '\(host)' (nodes: \(lab.topology.nodes.map(\.name).joined(separator: ", ")))")
                }
            } else {
                error(n.mark, "a 'counter' condition needs 'host'")
            }
            let bounds = fs.filter { ["max", "min", "equals"].contains($0.key) }
            var bound: GoalCondition.Bound?
            if bounds.count != 1 {
                error(n.mark, "a 'counter' condition has exactly one of 'max', 'min' or 'equals'")
            } else if let v = count(bounds[0].value, bounds[0].key) {
                switch bounds[0].key {
                case "max": bound = .max(v)
                case "min": bound = .min(v)
                default: bound = .equals(v)
                }
            }
            guard let name, let host, let bound, diagnostics.count == before else { return nil }
            return .counter(flow: resolvedFlow, host: host, counter: name, bound: bound)
        }
        if entry("field") != nil {
            guard let (ref, rest) = reference(n, "a field condition", extra: ["is", "is-not"]) else { return nil }
            let values = rest.filter { $0.key == "is" || $0.key == "is-not" }
            guard values.count == 1, let v = values.first else {
                error(n.mark, "a field condition has exactly one of 'is' or 'is-not'")
                return nil
            }
            guard let s = scalar(v.value, v.key) else { return nil }
            if !TraceReference.wellFormed(s, ref.field) {
                error(v.value.mark, "'\(v.key)': '\(s)' is not a value of \(ref.field.rawValue) (expected \(ref.field.answerForm))")
                return nil
            }
            return diagnostics.count == before ? .field(ref, value: s, negated: v.key == "is-not") : nil
        }
        error(n.mark, "a goal condition needs one of: verdict, outcome, sent, counter, field, set")
        return nil
    }

    // MARK: Selectors

    static let selectorKeys = ["flow", "leg", "node", "interface", "direction", "function", "occurrence"]

    /// A step selector's fields (without checks against the trace); nil after an error.
    mutating func stepSelector(_ fs: [Entry], _ n: Yams.Node, _ what: String) -> StepSelector? {
        func value(_ k: String) -> (String, Mark?)? {
            guard let e = fs.first(where: { $0.key == k }) else { return nil }
            guard let s = scalar(e.value, k) else { return nil }
            if let p = FreeTextRule.problem(s, multiline: false) {
                error(e.value.mark, "'\(k)': \(p)")
                return nil
            }
            return (s, e.value.mark)
        }
        let before = diagnostics.count
        guard let node = value("node") else {
            if !fs.contains(where: { $0.key == "node" }) { error(n.mark, "\(what) needs 'node'") }
            return nil
        }
        guard let leg = value("leg") else {
            if !fs.contains(where: { $0.key == "leg" }) {
                error(n.mark, "\(what) needs 'leg' to name a step (or only {node: NAME} for a node)")
            }
            return nil
        }
        var sel = StepSelector(flow: value("flow")?.0, leg: leg.0, node: node.0)
        sel.interface = value("interface")?.0
        sel.function = value("function")?.0
        if let d = value("direction") {
            sel.direction = Direction(rawValue: d.0)
            if sel.direction == nil {
                error(d.1, "'direction' expects one of send, transmit, receive, forward, deliver, userspace, got '\(d.0)'")
            }
        }
        if let o = value("occurrence") {
            if let occ = StepSelector.Occurrence(rawValue: o.0) { sel.occurrence = occ } else {
                error(o.1, "'occurrence' expects first or last, got '\(o.0)'")
            }
        }
        guard diagnostics.count == before else { return nil }
        check(sel, fs, n)
        return diagnostics.count == before ? sel : nil
    }

    /// A selector against the lab and trace: node, flow and leg exist, and some step matches.
    mutating func check(_ sel: StepSelector, _ fs: [Entry], _ n: Yams.Node) {
        guard let lab, let trace else { return }
        func mark(_ k: String) -> Mark? { fs.first { $0.key == k }?.value.mark ?? n.mark }
        guard lab.topology.nodeIndex(named: sel.node) != nil else {
            return error(mark("node"), "unknown node '\(sel.node)' (nodes: \(lab.topology.nodes.map(\.name).joined(separator: ", ")))")
        }
        guard let fi = sel.flowIndex(in: trace, defaultFlow: defaultFlow) else {
            return error(mark("flow"), "the lab has no flow '\(sel.flow ?? defaultFlow ?? "")' (flows: \(trace.flows.map(\.flow).joined(separator: ", ")))")
        }
        let ft = trace.flows[fi]
        let legs = sel.legIndexes(ft)
        guard !legs.isEmpty else {
            return error(mark("leg"), "flow '\(ft.flow)' has no leg '\(sel.leg)' (legs: \(ft.legs.map(\.name).joined(separator: ", ")))")
        }
        if sel.all(in: trace, defaultFlow: defaultFlow).isEmpty {
            let there = legs.flatMap { ft.legs[$0].steps }.filter { $0.element == sel.node }
            let steps = there.map { s in "\(s.element)\(s.interface.map { ":" + $0 } ?? "") \(s.direction.rawValue) \(s.function)" }
            let why = there.isEmpty ? "the \(sel.leg) never reaches '\(sel.node)'" : "its steps there: \(steps.joined(separator: "; "))"
            error(n.mark, "this selector matches no step of the \(sel.leg) in flow '\(ft.flow)' (\(why))")
        }
    }

    /// `show`, `answer`, `at`: `{node: NAME}` or a step selector.
    mutating func target(_ n: Yams.Node, _ what: String) -> LessonTarget? {
        guard let fs = mapping(n, what) else { return nil }
        reject(fs, allowed: Self.selectorKeys, in: what)
        let stepKeys = Self.selectorKeys.filter { $0 != "node" }
        if !fs.contains(where: { stepKeys.contains($0.key) }) {
            guard let e = fs.first(where: { $0.key == "node" }) else {
                error(n.mark, "\(what) needs 'node' (and 'leg' for a step)")
                return nil
            }
            guard let s = scalar(e.value, "node") else { return nil }
            if let lab, lab.topology.nodeIndex(named: s) == nil {
                error(e.value.mark, "unknown node '\(s)' (nodes: \(lab.topology.nodes.map(\.name).joined(separator: ", ")))")
                return nil
            }
            return .node(s)
        }
        return stepSelector(fs, n, what).map { .step($0) }
    }

    /// A trace reference: a step selector with `field`; `extra` keys are allowed and returned.
    mutating func reference(_ n: Yams.Node, _ what: String, extra: [String]) -> (ref: TraceReference, rest: [Entry])? {
        guard let fs = mapping(n, what) else { return nil }
        reject(fs, allowed: Self.selectorKeys + ["field"] + extra, in: what)
        let before = diagnostics.count
        var field: TraceField?
        if let f = fs.first(where: { $0.key == "field" }) {
            if let s = scalar(f.value, "field") {
                field = TraceField(rawValue: s)
                if field == nil { error(f.value.mark, "'field' expects one of \(TraceField.allCases.map(\.rawValue).joined(separator: ", ")), got '\(s)'") }
            }
        } else {
            error(n.mark, "\(what) needs 'field' (one of \(TraceField.allCases.map(\.rawValue).joined(separator: ", ")))")
        }
        let sel = stepSelector(fs.filter { Self.selectorKeys.contains($0.key) }, n, what)
        guard let sel, let field, diagnostics.count == before else { return nil }
        let ref = TraceReference(selector: sel, field: field)
        if let trace, ref.value(in: trace, defaultFlow: defaultFlow) == nil {
            error(n.mark, "\(field.rawValue) has no value after the \(sel.summary) (the frame is not a CHECKSUM_PARTIAL skb or NEEDS_CSUM header there)")
            return nil
        }
        return (ref, fs)
    }
}
