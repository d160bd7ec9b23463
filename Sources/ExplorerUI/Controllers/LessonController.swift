import Lessons
import Simulation
import TerminalText

/// Lessons: the list (`L`), opening one, turning pages (`>` `<`), switching the lesson pane and
/// the detail pane (`t`), and answering — digits for a choice, Enter on the step or node under
/// the cursor for "which hop", a typed value (the answer field holds the keys until Enter or
/// Esc), Enter on a task to check it now. Tasks are also checked after every change of the lab.
enum LessonController {
    // MARK: The list and opening

    static func openList(_ s: inout ExplorerState) {
        guard let storage = s.storage else { s.message = "this explorer cannot read lesson files"; return }
        s.lessonEntries = storage.lessons()
        s.lessonProgress = Dictionary(s.lessonEntries.map { ($0.name, storage.lessonSummary($0)) }, uniquingKeysWith: { a, _ in a })
        guard !s.lessonEntries.isEmpty else {
            s.message = "no lessons found (set CSUMLAB_LESSONS to the assets/lessons directory)"
            return
        }
        let open = s.lesson.map { l in s.lessonEntries.firstIndex { $0.name == l.lesson.name } ?? 0 } ?? 0
        s.overlay = .lessons(selected: open)
    }

    /// Open the lesson at `path`, asking first when the lab has unsaved changes.
    static func open(_ path: String, _ s: inout ExplorerState) {
        s.overlay = nil
        if s.document.hasUnsavedChanges {
            s.overlay = .confirm(Confirmation(purpose: .openLesson(path), title: "Unsaved changes",
                                              lines: FileController.changeSummary(s) + ["Opening the lesson drops them (W saves them first)."],
                                              yes: "open the lesson, dropping them", alternative: nil))
            return
        }
        openConfirmed(path, &s)
    }

    static func openConfirmed(_ path: String, _ s: inout ExplorerState) {
        guard let storage = s.storage else { return }
        let lesson: Lesson
        do { lesson = try storage.loadLesson(path) } catch {
            s.message = "cannot open the lesson: \(error.message)"
            return
        }
        do {
            s = try ExplorerState(lesson: lesson, storage: storage)
        } catch {
            s.message = "cannot open the lesson \(lesson.name): \(error)"
        }
    }

    // MARK: Pages

    /// Show page `i`: move the cursor to what it points at, measure its task, keep the place.
    static func show(page i: Int, _ s: inout ExplorerState) {
        guard var l = s.lesson else { return }
        // Reading past a narration page is doing it.
        if let p = l.current, case .say = p.content, i > l.page { l.progress.done.insert(l.page) }
        l.go(to: i)
        s.lesson = l
        if let target = l.current?.show { point(at: target, &s) }
        measureTask(&s, announce: false)
        s.view.showsLesson = true
        s.view.detailScroll = 0
        save(&s)
    }

    static func turn(_ d: Int, _ s: inout ExplorerState) {
        guard let l = s.lesson else { s.message = "no lesson is open: L lists the lessons"; return }
        let next = l.page + d
        guard next >= 0 else { s.message = "this is the first page"; return }
        guard next < l.pageCount else {
            if let p = l.current, case .say = p.content { var m = l; m.progress.done.insert(l.page); s.lesson = m; save(&s) }
            s.message = s.lesson?.isDone == true
                ? "the end of the lesson — every page done (L: another lesson)"
                : "the last page; \(l.pageCount - (s.lesson?.doneCount ?? 0)) page(s) still open: < goes back"
            return
        }
        show(page: next, &s)
        s.message = "page \(next + 1)/\(l.pageCount)"
    }

    /// Move the explorer to a node or a step of the live trace.
    static func point(at target: LessonTarget, _ s: inout ExplorerState) {
        switch target {
        case let .node(n):
            guard s.topology.node(named: n) != nil else { return }
            s.select(node: n)
        case let .step(sel):
            guard let loc = sel.locate(in: s.trace, defaultFlow: s.lesson?.lesson.flow) else { return }
            s.view.flowIndex = loc.flow
            if let i = s.steps.firstIndex(of: StepRef(leg: loc.leg, step: loc.step)) { s.setPosition(i) }
            if s.topology.node(named: sel.node) != nil { s.view.selectedNode = sel.node }
        }
    }

    static func togglePane(_ s: inout ExplorerState) {
        guard s.lesson != nil else { s.message = "no lesson is open: L lists the lessons"; return }
        s.view.showsLesson.toggle()
        s.view.detailScroll = 0
        s.message = s.view.showsLesson ? "the lesson pane (t: the step's details)" : "the step's details (t: back to the lesson)"
    }

    // MARK: Answers

    static func choose(_ n: Int, _ s: inout ExplorerState) {
        guard var l = s.lesson, let p = l.current, case let .choice(q) = p.content else { return }
        guard q.choices.indices.contains(n) else { s.message = "answer with 1–\(q.choices.count)"; return }
        record(LessonCheck.choice(q, index: n), answer: q.choices[n].text, &l)
        s.lesson = l
        say(&s)
    }

    /// Enter while a question or task page is shown.
    static func answerHere(_ s: inout ExplorerState) {
        guard var l = s.lesson, let p = l.current else { return }
        switch p.content {
        case .say: return
        case let .choice(q):
            // No choice is highlighted: the digit is the answer.
            s.message = "answer with a digit, 1–\(q.choices.count)"
        case let .pick(q):
            let loc = s.current.map { StepLocation(flow: s.flowIndex, leg: $0.leg, step: $0.step) }
            // "Which node": the node selected in the graph, or the element of the step under the cursor.
            let node = s.focus == .graph ? s.selectedNode : (s.currentStep?.element ?? s.selectedNode)
            let f = LessonCheck.pick(q, step: loc, node: node, trace: s.trace, defaultFlow: l.lesson.flow)
            let what = q.kind == .node ? node : s.currentStep.map { "\($0.element)\($0.interface.map { ":" + $0 } ?? "") \($0.function)" } ?? "no step"
            record(f, answer: what, &l)
            s.lesson = l
            say(&s)
        case .value:
            s.overlay = .answer(text: "")
            s.message = "type the answer, Enter to check it, Esc to cancel"
        case .task:
            measureTask(&s, announce: true)
            if let st = s.lesson?.taskStatus, !st.met { s.message = "not yet: " + (st.unmet.first ?? st.feedback) }
        }
    }

    /// The answer field (`.answer` overlay): it holds every key until Enter or Esc.
    static func perform(_ a: Action, on s: inout ExplorerState) {
        guard case let .answer(text) = s.overlay else { return }
        switch a {
        case .answerType(let c): if text.count < 64 { s.overlay = .answer(text: text + String(c)) }
        case .answerBackspace: s.overlay = .answer(text: String(text.dropLast()))
        case .closeOverlay: s.overlay = nil; s.message = "no answer given"
        case .answerSubmit:
            s.overlay = nil
            guard var l = s.lesson, let p = l.current, case let .value(q) = p.content else { return }
            let typed = text.trimmed
            guard !typed.isEmpty else { s.message = "no answer given"; return }
            record(LessonCheck.value(q, typed: typed, trace: s.trace, defaultFlow: l.lesson.flow), answer: typed, &l)
            s.lesson = l
            say(&s)
        default: break
        }
    }

    /// Keep an answer and its feedback; a right one marks the page done.
    static func record(_ f: Feedback, answer: String, _ l: inout LessonSession) {
        l.feedback = f
        l.progress.answers[l.page] = answer
        if f.correct { l.progress.done.insert(l.page) }
    }

    static func say(_ s: inout ExplorerState) {
        guard let f = s.lesson?.feedback else { return }
        s.message = (f.correct ? "✓ right" : "✗ not quite") + (f.correct ? " — > for the next page" : " — try again")
        save(&s)
    }

    // MARK: Tasks

    /// Changes the student made against the lesson's lab: toggles now, plus structural edits
    /// still in the history (undone ones do not count).
    static func changes(_ s: ExplorerState) -> Int {
        s.document.toggles.count + s.document.structuralEditCount
    }

    static let solvedMessage = "✓ task solved — > for the next page"

    /// Measure the current page's task on the live lab; when it is met for the first time, mark
    /// it solved, keep the progress and return true.
    @discardableResult
    static func measureTask(_ s: inout ExplorerState, announce: Bool) -> Bool {
        guard var l = s.lesson, let p = l.current, case let .task(t) = p.content else { return false }
        let r = LessonCheck.task(t, live: s.topology, trace: s.trace, changes: changes(s), defaultFlow: l.lesson.flow)
        l.taskStatus = r
        let first = r.met && !l.progress.solved.contains(l.page)
        if r.met {
            l.progress.solved.insert(l.page)
            l.progress.done.insert(l.page)
            l.feedback = Feedback(correct: true, text: t.done ?? r.feedback)
        } else if announce || t.attempts.contains(where: { $0.feedback == r.feedback }) {
            // A change the lesson foresaw (it looks right and is not) answers at once; "not yet"
            // only when the student asks (Enter): the unmet goals are listed anyway.
            l.feedback = Feedback(correct: false, text: r.feedback)
        } else {
            l.feedback = nil
        }
        s.lesson = l
        if first { s.message = solvedMessage; save(&s) } else if announce && r.met { s.message = "✓ the task is solved" }
        return first
    }

    /// After every change of the lab (toggle, edit, undo): the open task is measured again; the
    /// change's own message stays, with the news of a solved task after it.
    static func labChanged(_ s: inout ExplorerState) {
        let said = s.message
        if measureTask(&s, announce: false) { s.message = [said, solvedMessage].compactMap { $0 }.joined(separator: " │ ") }
    }

    // MARK: Progress

    static func save(_ s: inout ExplorerState) {
        guard let l = s.lesson, let storage = s.storage else { return }
        do { try storage.saveLessonProgress(l.progress, for: l.lesson.name) } catch {
            s.message = "progress not saved: \(error.message)"
        }
    }
}
