import ArgumentParser
import Lessons
import TerminalText
import TopologyFile

struct LessonCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lesson",
        abstract: "List the lessons, or open one in the explorer.",
        discussion: """
            Without NAME it lists the shipped lessons (assets/lessons, or $CSUMLAB_LESSONS) with \
            their progress. NAME is a shipped lesson's name or a lesson file's path. Progress is kept \
            in $XDG_STATE_HOME/csumlab/lessons (default ~/.local/state/csumlab/lessons).
            """)

    @Argument(help: "A lesson's name (as listed) or a lesson file.")
    var name: String?

    @Option(name: .customLong("reset"), help: ArgumentHelp("Forget the progress of this lesson.", valueName: "name"))
    var reset: String?

    func validate() throws {
        if reset != nil && name != nil { throw ValidationError("give either --reset NAME or NAME, not both") }
    }

    func run() throws {
        let store = LessonProgressStore()
        if let reset {
            // A path names its lesson by the file's `name:`.
            let lessonName = LessonCatalog.find(reset).flatMap { try? LessonFile.load(path: $0).name } ?? reset
            do {
                try store.reset(lessonName)
            } catch {
                throw ValidationFailure(message: error.message)
            }
            try StandardOutput.line(TerminalEscape.escaped("\(lessonName): progress cleared"))
            return
        }
        guard let name else { return try list(store) }
        guard let path = LessonCatalog.find(name) else {
            let known = LessonCatalog.shippedDirectory().map { LessonCatalog.entries(in: $0).map(\.name) } ?? []
            throw ValidationFailure(message: "no lesson named \(name)" + (known.isEmpty ? "" : " (there are: \(known.joined(separator: ", ")))"))
        }
        let lesson: Lesson
        do {
            lesson = try LessonFile.load(path: path)
        } catch {
            throw ValidationFailure(message: error.description)
        }
        try LessonExplorer.open(lesson, progressStore: store)
    }

    /// One line per lesson: name, title, pages, progress.
    func list(_ store: LessonProgressStore) throws {
        let dir: String
        do {
            dir = try LessonCatalog.locate()
        } catch {
            throw ValidationFailure(message: error.message)
        }
        let entries = LessonCatalog.entries(in: dir)
        if entries.isEmpty { return try StandardOutput.line(TerminalEscape.escaped("no lessons in \(dir)")) }
        let width = entries.map { DisplayWidth.of($0.name) }.max() ?? 0
        for e in entries {
            let pad = String(repeating: " ", count: max(0, width - DisplayWidth.of(e.name)))
            if let error = e.error {
                try StandardOutput.line(TerminalEscape.escaped("\(e.name)\(pad)  (does not load: \(error))"))
                continue
            }
            try StandardOutput.line(TerminalEscape.escaped("\(e.name)\(pad)  \(e.title) — \(e.pages) pages, \(store.summary(of: e))"))
        }
    }
}
