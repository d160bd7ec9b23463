import Simulation
import TopologyFile

/// A lesson file loaded: its lab and its pages, every selector checked against the lab's trace.
public struct Lesson: Sendable {
    public var name: String
    public var title: String
    /// One line for `csumlab lesson`.
    public var summary: String
    /// The lesson file's path.
    public var file: String
    public var lab: LoadedTopology
    /// The lab file's path as resolved (relative to the lesson file), nil for an inline lab.
    public var labPath: String?
    /// The flow the explorer shows first, and the default of every selector (nil: the lab's first).
    public var flow: String?
    public var pages: [LessonPage]

    public init(name: String, title: String, summary: String, file: String, lab: LoadedTopology, labPath: String?, flow: String?, pages: [LessonPage]) {
        self.name = name
        self.title = title
        self.summary = summary
        self.file = file
        self.lab = lab
        self.labPath = labPath
        self.flow = flow
        self.pages = pages
    }

    /// The flow selectors default to: `flow`, else the lab's first.
    public var defaultFlow: String? { flow ?? lab.topology.flows.first?.name }

    /// The indexes of the pages that are tasks.
    public var taskPages: [Int] {
        pages.indices.filter { if case .task = pages[$0].content { return true } else { return false } }
    }

    /// The indexes of the pages that are questions (choices, pick, value).
    public var questionPages: [Int] {
        pages.indices.filter {
            switch pages[$0].content {
            case .choice, .pick, .value: return true
            case .say, .task: return false
            }
        }
    }
}

public struct LessonPage: Sendable {
    public enum Content: Sendable {
        case say(String)
        case choice(ChoiceQuestion)
        case pick(PickQuestion)
        case value(ValueQuestion)
        case task(LessonTask)
    }

    /// A short heading (written, or the first words of the text).
    public var title: String
    /// Where the explorer moves and what it highlights when the page opens.
    public var show: LessonTarget?
    public var content: Content
    /// The page's line in the lesson file.
    public var line: Int

    public init(title: String, show: LessonTarget?, content: Content, line: Int) {
        self.title = title
        self.show = show
        self.content = content
        self.line = line
    }

    /// The page's main text: the narration, the question or the task's instructions.
    public var text: String {
        switch content {
        case let .say(s): return s
        case let .choice(q): return q.text
        case let .pick(q): return q.text
        case let .value(q): return q.text
        case let .task(t): return t.text
        }
    }
}

public struct Choice: Sendable, Hashable {
    public var text: String
    public var correct: Bool
    public var feedback: String?

    public init(text: String, correct: Bool, feedback: String?) {
        self.text = text
        self.correct = correct
        self.feedback = feedback
    }
}

public struct ChoiceQuestion: Sendable {
    public var text: String
    public var choices: [Choice]

    public init(text: String, choices: [Choice]) {
        self.text = text
        self.choices = choices
    }
}

public enum PickKind: String, Sendable, Hashable, CaseIterable {
    case step, node
}

public struct PickHint: Sendable, Hashable {
    public var at: LessonTarget
    public var feedback: String

    public init(at: LessonTarget, feedback: String) {
        self.at = at
        self.feedback = feedback
    }
}

public struct PickQuestion: Sendable {
    public var text: String
    public var kind: PickKind
    public var answer: LessonTarget
    public var hints: [PickHint]
    public var right: String?
    public var wrong: String?

    public init(text: String, kind: PickKind, answer: LessonTarget, hints: [PickHint], right: String?, wrong: String?) {
        self.text = text
        self.kind = kind
        self.answer = answer
        self.hints = hints
        self.right = right
        self.wrong = wrong
    }
}

public struct ValueQuestion: Sendable {
    public var text: String
    public var reference: TraceReference
    public var right: String?
    public var wrong: String?

    public init(text: String, reference: TraceReference, right: String?, wrong: String?) {
        self.text = text
        self.reference = reference
        self.right = right
        self.wrong = wrong
    }
}

public struct TaskAttempt: Sendable, Hashable {
    /// `--set` assignments (`NODE[.IF].SETTING=VALUE`) the live lab holds.
    public var set: [String]
    public var feedback: String

    public init(set: [String], feedback: String) {
        self.set = set
        self.feedback = feedback
    }
}

public struct LessonTask: Sendable {
    public var text: String
    /// All must hold on the live trace.
    public var goal: [GoalCondition]
    public var maxChanges: Int?
    public var minChanges: Int?
    /// `--set` assignments that meet the goal (applied by `check` and the tests).
    public var solution: [String]
    public var attempts: [TaskAttempt]
    public var done: String?

    public init(text: String, goal: [GoalCondition], maxChanges: Int?, minChanges: Int?, solution: [String], attempts: [TaskAttempt], done: String?) {
        self.text = text
        self.goal = goal
        self.maxChanges = maxChanges
        self.minChanges = minChanges
        self.solution = solution
        self.attempts = attempts
        self.done = done
    }
}

/// What a check says to the student.
public struct Feedback: Sendable, Equatable {
    public var correct: Bool
    public var text: String

    public init(correct: Bool, text: String) {
        self.correct = correct
        self.text = text
    }
}

/// A task checked against the live lab.
public struct TaskResult: Sendable, Equatable {
    public var met: Bool
    /// What does not hold yet, in words (each condition's `summary`, and the change limits).
    public var unmet: [String]
    public var feedback: String

    public init(met: Bool, unmet: [String], feedback: String) {
        self.met = met
        self.unmet = unmet
        self.feedback = feedback
    }
}
