import Simulation

/// Checks a student's answers and tasks. Pure: the explorer passes what the student did and the
/// trace it shows; the tests pass the same.
public enum LessonCheck {
    static let right = "Right."
    static let notQuite = "Not quite: look again."

    /// The choice at `index` (0-based).
    public static func choice(_ q: ChoiceQuestion, index: Int) -> Feedback {
        guard q.choices.indices.contains(index) else {
            return Feedback(correct: false, text: "Choose one of 1–\(q.choices.count).")
        }
        let c = q.choices[index]
        return Feedback(correct: c.correct, text: c.feedback ?? (c.correct ? right : notQuite))
    }

    /// A pick: the step under the cursor (nil: none) for a step pick, the selected node for a node pick.
    public static func pick(_ q: PickQuestion, step: StepLocation?, node: String, trace: Trace, defaultFlow: String?) -> Feedback {
        func hits(_ target: LessonTarget) -> Bool {
            switch (q.kind, target) {
            case let (.node, t):
                return node == t.node
            case let (.step, .node(n)):
                return step.flatMap { $0.step(in: trace) }?.element == n
            case let (.step, .step(sel)):
                guard let step else { return false }
                return sel.matches(step, in: trace, defaultFlow: defaultFlow)
            }
        }
        if hits(q.answer) { return Feedback(correct: true, text: q.right ?? right) }
        if q.kind == .step && step == nil {
            return Feedback(correct: false, text: "Move the cursor to a step of the trace first, then press Enter.")
        }
        if let h = q.hints.first(where: { hits($0.at) }) { return Feedback(correct: false, text: h.feedback) }
        return Feedback(correct: false, text: q.wrong ?? notQuite)
    }

    /// A typed value.
    public static func value(_ q: ValueQuestion, typed: String, trace: Trace, defaultFlow: String?) -> Feedback {
        if q.reference.accepts(typed, in: trace, defaultFlow: defaultFlow) {
            return Feedback(correct: true, text: q.right ?? right)
        }
        if typed.trimmedSpaces.isEmpty || !TraceReference.wellFormed(typed, q.reference.field) {
            return Feedback(correct: false, text: "Type \(q.reference.field.answerForm).")
        }
        return Feedback(correct: false, text: q.wrong ?? notQuite)
    }

    /// A task on the live lab: `live` is the student's lab now (structure and toggles applied),
    /// `changes` the toggles and edits counted against the lesson's lab (attempts are matched on
    /// `live`, whatever toggles or edits made it).
    public static func task(_ t: LessonTask, live: Topology, trace: Trace, changes: Int, defaultFlow: String?) -> TaskResult {
        var unmet = t.goal.filter { !$0.holds(live: live, trace: trace, defaultFlow: defaultFlow) }.map(\.summary)
        let goalMet = unmet.isEmpty
        if let m = t.maxChanges, changes > m {
            unmet.append("at most \(m) change\(m == 1 ? "" : "s") (you made \(changes))")
        }
        if let m = t.minChanges, changes < m {
            unmet.append("at least \(m) change\(m == 1 ? "" : "s") (you made \(changes))")
        }
        if unmet.isEmpty { return TaskResult(met: true, unmet: [], feedback: t.done ?? "Done: the goal is met.") }
        if !goalMet, let a = t.attempts.first(where: { $0.set.allSatisfy { GoalCondition.holds($0, on: live) } }) {
            return TaskResult(met: false, unmet: unmet, feedback: a.feedback)
        }
        return TaskResult(met: false, unmet: unmet, feedback: "Not yet: " + unmet.joined(separator: "; ") + ".")
    }
}
