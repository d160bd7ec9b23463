import ArgumentParser
import Simulation
import TerminalText
import TopologyFile

#if canImport(Glibc)
import Glibc
#endif

/// `csumlab new FILE`: a starting lab to edit — the seed question's routed lab (the explorer's
/// default), a copy of another lab, or an empty one. Never replaces a file without `--force`;
/// the write is atomic (`LabSaver`: a temporary file beside it, fsync, rename).
struct NewCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "new",
        abstract: "Write a starting lab: the seed's routed lab (default), a copy of another, or an empty one.")

    @Argument(help: "The file to write (YAML).")
    var file: String

    @Option(help: ArgumentHelp("Copy this lab: a file, or a shipped lab's name (seed-bridged), found from any directory.", valueName: "lab"))
    var from: String?

    @Flag(help: "A lab with no nodes.")
    var empty = false

    @Flag(help: "Replace FILE if it exists.")
    var force = false

    func validate() throws {
        if empty && from != nil { throw ValidationError("--empty and --from exclude each other") }
    }

    func run() throws {
        let text: String
        if empty {
            let name = String((file.split(separator: "/").last ?? "lab").split(separator: ".").first ?? "lab")
            var t = Topology(name: NameRule.isValid(name) ? name : "lab",
                             description: "A lab of my own: add nodes, links and flows (see assets/topology-format.md).")
            t.kernel = .linux6
            text = TopologyWriter.yaml(t)
        } else if let from {
            let path: String
            if from.contains("/") || from.hasSuffix(".yaml") {
                path = from
            } else {
                do {
                    path = try LabCatalog.shippedLab(named: from)
                } catch {
                    printError(TerminalEscape.escaped("csumlab new: \(error)"))
                    throw ExitCode(66)
                }
            }
            do {
                let source = try FileText.read(path, maxBytes: TopologyFile.maxFileBytes)
                _ = try TopologyFile.parse(source, file: path)
                text = source
            } catch let e as TopologyFileError {
                printError(e.description)
                throw ExitCode(65)
            } catch {
                printError(TerminalEscape.escaped("csumlab new: cannot read \(path): \(error)"))
                throw ExitCode(66)
            }
        } else {
            text = DefaultLab.text
        }
        if !force, access(file, F_OK) == 0 {
            printError(TerminalEscape.escaped("csumlab new: \(file) exists; add --force to replace it"))
            throw ExitCode(73)
        }
        do {
            try LabSaver.save(text: text, to: file, expecting: nil, keepOriginal: false)
        } catch {
            printError(TerminalEscape.escaped("csumlab new: \(error)"))
            throw ExitCode(73)
        }
        try StandardOutput.line(TerminalEscape.escaped("wrote \(file); open it with: csumlab explore \(file)"))
    }
}
