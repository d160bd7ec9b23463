import Lessons
import Simulation

/// A lesson being followed in the explorer: the lesson, the page the student is on, what they
/// have done (kept by the storage after every change), and the answer to the page's question.
///
/// It lives beside the lab document, not in it: undo walks the lab's changes, never the
/// student's answers, and the lab stays explorable (every key outside a question works).
public struct LessonSession: Sendable {
    public var lesson: Lesson
    public private(set) var page: Int
    public var progress: LessonProgress
    /// The feedback to the last answer given on this page (nil before one).
    public var feedback: Feedback?
    /// The task on this page measured against the live lab, after every change (nil off a task).
    public var taskStatus: TaskResult?

    public init(lesson: Lesson, progress: LessonProgress) {
        self.lesson = lesson
        self.progress = progress.clamped(pages: lesson.pages.count)
        page = self.progress.page
    }

    public var pageCount: Int { lesson.pages.count }
    public var current: LessonPage? { lesson.pages.indices.contains(page) ? lesson.pages[page] : nil }

    /// The page asks something (a question or a task): its keys come first while it is shown.
    public var asks: Bool {
        guard let p = current else { return false }
        if case .say = p.content { return false }
        return true
    }

    /// Move to page `i` (clamped); the previous page's feedback goes.
    mutating func go(to i: Int) {
        page = min(max(i, 0), max(0, pageCount - 1))
        progress.page = page
        feedback = nil
        taskStatus = nil
    }

    /// Pages done: narration read past, questions answered right, tasks solved.
    public var doneCount: Int { progress.done.count }

    public var isDone: Bool { doneCount == pageCount }
}

extension ExplorerState {
    /// The explorer over a lesson's lab, on the page where the student left it. The lab has no
    /// path of its own: `w` asks where to save, so a lesson never overwrites the lab it is
    /// built on (a shipped file, or one a teacher wrote).
    public init(lesson: Lesson, storage: (any LabStorage)?) throws(SimulationError) {
        var doc = try LabDocument(structure: lesson.lab.topology, expectations: lesson.lab.expectations,
                                  path: nil, label: "lesson \(lesson.name)")
        doc.referencePath = lesson.labPath
        self.init(document: doc, storage: storage)
        let kept: (progress: LessonProgress, warning: String?) = storage?.lessonProgress(lesson.name) ?? (LessonProgress(), nil)
        let session = LessonSession(lesson: lesson, progress: kept.progress)
        if let f = lesson.flow, let i = trace.flows.firstIndex(where: { $0.flow == f }) { view.flowIndex = i }
        self.lesson = session
        LessonController.show(page: session.page, &self)
        var said = ["lesson \(lesson.title): page \(session.page + 1)/\(session.pageCount)"]
        if session.page > 0 { said.append("resumed where you left it (csumlab lesson --reset \(lesson.name) starts over)") }
        if let w = kept.warning { said.append(w) }
        message = said.joined(separator: " — ")
    }
}
