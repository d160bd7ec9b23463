import ArgumentParser
import ExplorerUI
import Simulation
import Terminal
import TerminalText
import TopologyFile
import TraceReport

#if canImport(Glibc)
import Glibc
#endif

struct ExploreCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "explore",
        abstract: "Step a packet through a lab in a full-screen explorer (the default command).",
        discussion: """
            Without FILE it opens the seed question's routed lab (built in): SSH dies behind a \
            userspace router. Press ? inside for the keys. Without a terminal it prints the trace.
            """)

    @Argument(help: "Topology file (YAML); default: the built-in seed-routed-userspace lab.")
    var file: String?

    @Option(help: "Open on this flow.")
    var flow: String?

    @OptionGroup var overrides: OverrideOptions

    func run() throws {
        var loaded: LoadedTopology
        let label: String
        do {
            if let file {
                loaded = try TopologyFile.load(path: file)
                label = file
            } else {
                loaded = try TopologyFile.parse(DefaultLab.text, file: DefaultLab.fileName)
                label = "topologies/" + DefaultLab.fileName
            }
        } catch {
            throw ValidationFailure(message: error.description)
        }
        try overrides.apply(to: &loaded)
        var state: ExplorerState
        do {
            state = try ExplorerState(topology: loaded.topology, fileLabel: label)
        } catch {
            throw ValidationFailure(message: "\(label): \(error)")
        }
        if let flow {
            guard let i = state.trace.flows.firstIndex(where: { $0.flow == flow }) else {
                let known = state.trace.flows.isEmpty ? "this lab has no flows" : "flows: " + state.trace.flows.map(\.flow).joined(separator: ", ")
                throw ValidationFailure(message: "\(label): no flow named '\(flow)' (\(known))")
            }
            state.flowIndex = i
        }
        guard isatty(0) == 1, isatty(1) == 1 else {
            try printTrace(state, label: label, why: "not a terminal")
            return
        }
        let exit: TerminalApp.Exit
        do {
            exit = try TerminalApp.run(state)
        } catch {
            try printTrace(state, label: label, why: error.description)
            return
        }
        if case let .signal(s) = exit {
            // Die of the signal that asked us to stop, now that the terminal is restored, so
            // the parent sees it (status 128+signal in a shell). Ctrl-C typed is the quit key
            // (a key in raw mode, status 0); SIGINT sent as a signal ends with 130.
            signal(s, SIG_DFL)
            raise(s)
            Glibc.exit(128 + s)
        }
    }

    /// The non-interactive fallback: the trace as text, and a hint on standard error.
    func printTrace(_ state: ExplorerState, label: String, why: String) throws(OutputFailure) {
        try StandardOutput.write(TraceText.render(state.trace, topology: state.topology))
        printError(TerminalEscape.escaped("csumlab: \(why): printed the trace of \(label). Run csumlab in a terminal to step through it interactively."))
    }
}
