import ArgumentParser
import Simulation
import TerminalText
import TopologyFile

extension KernelProfile: ExpressibleByArgument {}

/// Options that change a loaded topology without editing its file.
struct OverrideOptions: ParsableArguments {
    @Option(help: "Kernel profile for every node without its own (\(KernelProfile.allCases.map(\.rawValue).joined(separator: ", "))).")
    var kernel: KernelProfile?

    @Option(name: .customLong("set"), help: ArgumentHelp("Change a setting: NODE[.INTERFACE].SETTING=VALUE (repeatable), e.g. vm1.eth0.tx=off.", valueName: "assignment"))
    var assignments: [String] = []

    @Option(name: .customLong("add-flow"), help: ArgumentHelp("Add flows written as in a file's 'flows:' (repeatable), e.g. 'probe: {type: frame, tap: tap1, from: vm1, to: vm2, vnet: {flags: [data-valid]}}'.", valueName: "yaml"))
    var addedFlows: [String] = []

    /// The `--add-flow` arguments added to `loaded`, each named in errors as `--add-flow`
    /// (`--add-flow#2`… when there are several).
    static func addFlows(_ arguments: [String], to loaded: inout LoadedTopology) throws {
        for (i, text) in arguments.enumerated() {
            let source = arguments.count == 1 ? "--add-flow" : "--add-flow#\(i + 1)"
            do {
                loaded = try TopologyFile.addFlows(text, source: source, to: loaded)
            } catch {
                throw ValidationFailure(message: error.description)
            }
        }
    }

    /// Add `--add-flow`'s flows, then apply `--kernel` and every `--set` in order, then check the result again: a setting can
    /// make a valid file describe an impossible lab (e.g. a router flavour whose interfaces no
    /// longer fit its links).
    func apply(to loaded: inout LoadedTopology) throws {
        try Self.addFlows(addedFlows, to: &loaded)
        if let kernel { loaded.topology.setDefaultKernel(kernel) }
        for a in assignments {
            do {
                try loaded.topology.apply(assignment: a)
            } catch {
                throw ValidationFailure(message: "--set \(error.message)")
            }
        }
        if !assignments.isEmpty {
            let problems = TopologyFile.validate(loaded.topology, file: loaded.file)
            if !problems.isEmpty {
                throw ValidationFailure(message: problems.map { "\(loaded.file): after --set: \($0.message)" }.joined(separator: "\n"))
            }
        }
    }
}

/// Options shared by commands that load one topology and may change it.
struct TopologyOptions: ParsableArguments {
    @Argument(help: "Topology file (YAML).")
    var file: String

    @Option(help: "Trace only this flow.")
    var flow: String?

    @OptionGroup var overrides: OverrideOptions

    /// Load, validate and apply the overrides. Errors print as file:line:column and exit 1.
    func load() throws -> LoadedTopology {
        var loaded: LoadedTopology
        do {
            loaded = try TopologyFile.load(path: file)
        } catch {
            throw ValidationFailure(message: error.description)
        }
        try overrides.apply(to: &loaded)
        return loaded
    }
}

/// An error whose text is already what the user should read. It quotes names and text from a
/// file, so control characters are shown escaped (its lines stay lines).
struct ValidationFailure: Error, CustomStringConvertible {
    var message: String
    var description: String { TerminalEscape.escaped(message, keepingLayout: true) }

    /// As printed on standard error: each line once, located lines as they are
    /// (`file:line:column: error: …`), others prefixed `csumlab: error: `.
    var printed: String {
        description.split(separator: "\n", omittingEmptySubsequences: false).map { line in
            line.contains(": error: ") || line.hasPrefix("csumlab: ") ? String(line) : "csumlab: error: " + line
        }.joined(separator: "\n")
    }
}
