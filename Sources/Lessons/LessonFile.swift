import Simulation
import TerminalText
import TopologyFile
import Yams

/// Reads and validates lesson files (`assets/lesson-format.md`). Strict like topology files:
/// unknown keys are errors, and every problem is reported at once, sorted, at the line and
/// column of the key or value that causes it. Every selector is checked against the lab's
/// trace, and every task's solution and attempts are applied and simulated.
public enum LessonFile {
    public static let formatVersion = 1

    /// Whether `text` is a lesson rather than a topology: a top-level `lesson:` key.
    public static func isLesson(_ text: String) -> Bool {
        var rest = Substring(text)
        while !rest.isEmpty {
            let end = rest.firstIndex(where: { $0 == "\n" || $0 == "\r" }) ?? rest.endIndex
            if rest[..<end].hasPrefix("lesson:") { return true }
            rest = end == rest.endIndex ? "" : rest[rest.index(after: end)...]
        }
        return false
    }

    /// Load and validate a lesson file from disk (at most `TopologyFile.maxFileBytes`).
    public static func load(path: String) throws(TopologyFileError) -> Lesson {
        let text: String
        do {
            text = try FileText.read(path, maxBytes: TopologyFile.maxFileBytes)
        } catch where error.tooLarge {
            throw TopologyFileError([Diagnostic(file: path, line: 1, column: 1, message: "the file is larger than \(TopologyFile.maxFileBytes) bytes")])
        } catch {
            throw TopologyFileError([Diagnostic(file: path, line: 1, column: 1, message: "cannot read file: \(error)")])
        }
        return try parse(text, file: path)
    }

    /// Parse and validate lesson text; `file` names it in diagnostics and anchors a relative `lab:`.
    public static func parse(_ text: String, file: String) throws(TopologyFileError) -> Lesson {
        guard let root = try TopologyFile.compose(text, file: file) else {
            throw TopologyFileError([Diagnostic(file: file, line: 1, column: 1, message: "empty file: expected a mapping starting with 'lesson: \(formatVersion)'")])
        }
        var p = LessonParser(file: file)
        let lesson = p.lesson(root)
        guard p.diagnostics.isEmpty, let lesson else {
            var seen = Set<Diagnostic>()
            let unique = p.diagnostics.filter { seen.insert($0).inserted }
            throw TopologyFileError(unique.sorted { ($0.line, $0.column, $0.message) < ($1.line, $1.column, $1.message) })
        }
        return lesson
    }
}
