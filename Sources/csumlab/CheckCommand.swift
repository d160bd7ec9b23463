import ArgumentParser
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
            do {
                let t = try TopologyFile.load(path: f)
                print("\(f): ok (\(t.topology.nodes.count) nodes, \(t.topology.links.count) links, \(t.topology.flows.count) flows)")
            } catch {
                failed += 1
                for d in error.diagnostics { printError(d.description) }
            }
        }
        if failed > 0 { throw ExitCode(1) }
    }
}
