import ArgumentParser
import ExplorerUI
import Lessons
import TerminalText
import TraceReport

#if canImport(Glibc)
import Glibc
#endif

/// `csumlab lesson NAME`: the explorer over the lesson's lab with the lesson pane open, on the
/// page where the student left it. Without a terminal it prints the lesson's pages as text.
enum LessonExplorer {
    static func open(_ lesson: Lesson, progressStore: LessonProgressStore) throws {
        var storage = FileStorage()
        storage.progressStore = progressStore
        let state: ExplorerState
        do { state = try ExplorerState(lesson: lesson, storage: storage) } catch {
            throw ValidationFailure(message: "\(lesson.file): the lesson's lab does not simulate: \(error)")
        }
        guard isatty(0) == 1, isatty(1) == 1 else {
            try printPages(lesson, why: "not a terminal")
            return
        }
        try ExploreCommand.interact(state, storage: storage) { _, why in try printPages(lesson, why: why) }
    }

    /// The lesson as text: its pages in order (questions without their answers).
    static func printPages(_ lesson: Lesson, why: String) throws {
        var out = "\(lesson.title)\n\(lesson.summary)\n"
        for (i, p) in lesson.pages.enumerated() {
            out += "\n\(i + 1). \(p.title)\n"
            switch p.content {
            case let .say(t): out += t + "\n"
            case let .choice(q):
                out += q.text + "\n"
                for (j, c) in q.choices.enumerated() { out += "   \(j + 1)) \(c.text)\n" }
            case let .pick(q): out += q.text + "\n"
            case let .value(q): out += q.text + "\n"
            case let .task(t): out += "Task: " + t.text + "\n"
            }
        }
        try StandardOutput.write(TerminalEscape.escaped(out, keepingLayout: true))
        printError(TerminalEscape.escaped("csumlab: \(why): printed the lesson \(lesson.name). Run csumlab lesson \(lesson.name) in a terminal to follow it."))
    }
}
