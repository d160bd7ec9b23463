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
            userspace router. With a directory it opens the lab browser on that directory's labs \
            and the shipped ones. Press ? inside for the keys. Without a terminal it prints the trace.
            """)

    @Argument(help: "Topology file (YAML) or a directory of them; default: the built-in seed-routed-userspace lab.")
    var file: String?

    @Option(help: "Open on this flow.")
    var flow: String?

    @OptionGroup var overrides: OverrideOptions

    func run() throws {
        let storage = FileStorage()
        var path: String?
        var browseDirectory: String?
        var text = DefaultLab.text
        var stamp: DiskStamp?
        if let file {
            var st = stat()
            if stat(file, &st) == 0 && (st.st_mode & S_IFMT) == S_IFDIR {
                browseDirectory = file
            } else {
                do {
                    let r = try storage.read(file)
                    (text, stamp, path) = (r.text, r.stamp, file)
                } catch {
                    throw ValidationFailure(message: "\(file): \(error.message)")
                }
            }
        }
        let label = path ?? DefaultLab.fileName
        let loaded: LoadedTopology
        do { loaded = try TopologyFile.parse(text, file: label) } catch { throw ValidationFailure(message: error.description) }
        // Command-line --kernel and --set stay toggles on top of the file, so the trace line,
        // r and undo know them (checked here first, with the same errors as trace).
        var checked = loaded
        try overrides.apply(to: &checked)
        var withFlows = loaded
        try OverrideOptions.addFlows(overrides.addedFlows, to: &withFlows)
        let toggles = (overrides.kernel.map { ["kernel=\($0.rawValue)"] } ?? []) + overrides.assignments
        var state: ExplorerState
        do {
            var doc = try LabDocument(structure: loaded.topology, expectations: loaded.expectations, toggles: toggles, path: path, label: label)
            // --add-flow's flows are an edit on top of the file: unsaved until `w`, undoable.
            if !overrides.addedFlows.isEmpty {
                var next = doc.current
                next.structure.flows = withFlows.topology.flows
                next.expectations = withFlows.expectations
                try doc.commit(next, label: "--add-flow")
            }
            if path != nil, let stamp { doc.origin = (text, stamp) }
            if path == nil, browseDirectory == nil, let dir = try? LabCatalog.shippedDirectory() {
                let shipped = dir + "/" + DefaultLab.fileName
                if (try? storage.read(shipped))?.text == DefaultLab.text { doc.referencePath = shipped }
            }
            state = ExplorerState(document: doc, storage: storage)
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
        if let browseDirectory { state.browse(directory: browseDirectory) } else { state.offerRecovery() }
        try Self.interact(state, storage: storage) { s, why in try printTrace(s, label: label, why: why) }
    }

    /// Run the explorer in the terminal until the user quits or a signal stops it; keep
    /// unsaved work on a signal, print what `y` asked for, and die of the signal that stopped
    /// it. `fallback` prints something useful when the terminal cannot be used after all.
    static func interact(_ state: ExplorerState, storage: FileStorage,
                         fallback: (ExplorerState, String) throws -> Void) throws {
        let hooks = TerminalApp.Hooks(
            beforeRestore: { s, exit in
                switch exit {
                case .quit: return nil
                case .interrupted, .signal: return s.keepUnsavedChanges()
                }
            },
            documentChanged: { s in Self.stageForCrash(s, storage: storage) })
        let result: (exit: TerminalApp.Exit, state: ExplorerState, note: String?)
        do {
            result = try TerminalApp.run(state, hooks: hooks)
        } catch {
            try fallback(state, error.description)
            return
        }
        TerminalApp.clearCrashRecovery()
        if let note = result.note { printError(TerminalEscape.escaped(note)) }
        if !result.state.printOnExit.isEmpty, result.exit == .quit {
            try StandardOutput.write(result.state.printOnExit.joined(separator: "\n") + "\n")
        }
        if case let .signal(s) = result.exit {
            // Die of the signal that asked us to stop, now that the terminal is restored, so
            // the parent sees it (status 128+signal in a shell). Ctrl-C typed is the quit key
            // (a key in raw mode, status 0); SIGINT sent as a signal ends with 130.
            signal(s, SIG_DFL)
            raise(s)
            Glibc.exit(128 + s)
        }
    }

    /// Keep the unsaved lab where the crash handlers can write it without allocating.
    static func stageForCrash(_ s: ExplorerState, storage: FileStorage) {
        guard s.document.hasUnsavedChanges, let snap = storage.crashSnapshot(for: s.document.path) else {
            TerminalApp.clearCrashRecovery()
            return
        }
        TerminalApp.stageCrashRecovery(path: snap.recoveryPath, temporary: snap.tempPath, text: snap.header + s.fileText)
    }

    /// The non-interactive fallback: the trace as text, and a hint on standard error.
    func printTrace(_ state: ExplorerState, label: String, why: String) throws(OutputFailure) {
        try StandardOutput.write(TraceText.render(state.trace, topology: state.topology))
        printError(TerminalEscape.escaped("csumlab: \(why): printed the trace of \(label). Run csumlab in a terminal to step through it interactively."))
    }
}
