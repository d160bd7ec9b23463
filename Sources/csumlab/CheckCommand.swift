import ArgumentParser
import TerminalText
import TopologyFile

struct CheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Validate topology files; print every error as file:line:column.")

    @Argument(help: "Topology files.")
    var files: [String]

    func run() throws {
        var failed = 0
        for f in files {
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
