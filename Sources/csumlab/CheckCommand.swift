import ArgumentParser
import Lessons
import TerminalText
import TopologyFile

struct CheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Validate topology and lesson files; print every error as file:line:column.")

    @Argument(help: "Topology or lesson files (a lesson starts with 'lesson: 1').")
    var files: [String]

    func run() throws {
        var failed = 0
        for f in files {
            let text = (try? FileText.read(f, maxBytes: TopologyFile.maxFileBytes)) ?? ""
            if LessonFile.isLesson(text) {
                let lesson: Lesson
                do throws(TopologyFileError) {
                    lesson = try LessonFile.load(path: f)
                } catch {
                    failed += 1
                    for d in error.diagnostics { printError(TerminalEscape.escaped(d.description)) }
                    continue
                }
                let l = lesson
                try StandardOutput.line(TerminalEscape.escaped("\(f): ok (lesson, \(l.pages.count) pages, lab \(l.labPath ?? "inline: " + l.lab.topology.name))"))
                continue
            }
            let t: LoadedTopology
            do {
                t = try TopologyFile.load(path: f)
            } catch {
                failed += 1
                for d in error.diagnostics { printError(TerminalEscape.escaped(d.description)) }
                continue
            }
            try StandardOutput.line(TerminalEscape.escaped("\(f): ok (\(t.topology.nodes.count) nodes, \(t.topology.links.count) links, \(t.topology.flows.count) flows)"))
        }
        if failed > 0 { throw ExitCode(1) }
    }
}
