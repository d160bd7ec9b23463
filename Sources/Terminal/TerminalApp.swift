import CursesShim
import ExplorerUI
import Simulation

#if canImport(Glibc)
import Glibc
#endif

/// Runs the explorer on the terminal until the user quits or a signal asks it to stop. The
/// terminal is restored on every way out: `q`, Ctrl-C, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1 and the
/// other signals that end a process (the loop sees the flag) and a thrown error (`defer`);
/// crashes are handled by the signal handlers in CursesShim.
public enum TerminalApp {
    /// Why the loop ended.
    public enum Exit: Sendable, Equatable {
        case quit
        /// Ctrl-C typed (the terminal is raw, so it is a key): quit without asking.
        case interrupted
        case signal(Int32)
    }

    /// What the caller does around the loop: keep the unsaved lab before the terminal is
    /// restored when the user could not be asked (a signal, a typed Ctrl-C), and stage it for a
    /// crash after each change.
    public struct Hooks {
        /// Called with the last state before the terminal is restored (its return value is
        /// printed after the restore).
        public var beforeRestore: (ExplorerState, Exit) -> String?
        /// Called after each event that changed the document.
        public var documentChanged: (ExplorerState) -> Void

        public init(beforeRestore: @escaping (ExplorerState, Exit) -> String? = { _, _ in nil },
                    documentChanged: @escaping (ExplorerState) -> Void = { _ in }) {
            self.beforeRestore = beforeRestore
            self.documentChanged = documentChanged
        }
    }

    public static func run(_ initial: ExplorerState, hooks: Hooks = Hooks()) throws(TerminalUnavailable) -> (exit: Exit, state: ExplorerState, note: String?) {
        let term = try TerminalScreen()
        var state = initial
        func finish(_ e: Exit) -> (exit: Exit, state: ExplorerState, note: String?) {
            let note = hooks.beforeRestore(state, e)
            term.close()
            return (e, state, note)
        }
        defer { term.close() }
        var seen = (state.document.version, state.document.path)
        hooks.documentChanged(state)
        var layoutKey: (Topology, String?)?
        var layout = GraphLayout.make(state.topology, root: state.flow?.from)
        var nextTick: Int64?
        while true {
            if let k = layoutKey, k.0 == state.topology, k.1 == state.flow?.from {} else {
                layout = GraphLayout.make(state.topology, root: state.flow?.from)
                layoutKey = (state.topology, state.flow?.from)
            }
            let (w, h) = term.size
            let frame = Screen.render(state, width: w, height: h, layout: layout)
            term.draw(frame.canvas)
            if testTrap { fatalError("CSUMLAB_TEST_TRAP_AFTER_FIRST_FRAME is set: a deliberate crash for the end-to-end tests") }
            if state.quitRequested { return finish(.quit) }
            if let sig = term.pendingSignal() { return finish(.signal(sig)) }
            // While playing, wake for the next step; otherwise wake now and then to notice signals.
            var timeout: Int32 = 500
            if state.playing {
                let now = monotonicMilliseconds()
                let due = nextTick ?? (now + Int64(state.playInterval))
                nextTick = due
                timeout = Int32(max(0, min(due - now, 500)))
            } else {
                nextTick = nil
            }
            let event = term.read(timeout: timeout)
            if let sig = term.pendingSignal() { return finish(.signal(sig)) }
            switch event {
            case let .input(e)?:
                state.handle(e, hits: frame.hits)
            case .resize?:
                term.invalidate()
            case .interrupt?:
                // Ctrl-C read as a key (the terminal is raw): the quit key, as the help says.
                // A SIGINT signal (kill -INT) comes through pendingSignal and ends with 130.
                return finish(.interrupted)
            case nil:
                if state.playing, let due = nextTick, monotonicMilliseconds() >= due {
                    state.handle(.tick)
                    nextTick = monotonicMilliseconds() + Int64(state.playInterval)
                }
            }
            if state.document.version != seen.0 || state.document.path != seen.1 {
                seen = (state.document.version, state.document.path)
                hooks.documentChanged(state)
            }
        }
    }

    /// Stage text for the crash handlers: a crash signal writes it to `temporary`, fsyncs and
    /// renames it to `path` before restoring the terminal (async-signal-safe calls only).
    public static func stageCrashRecovery(path: String, temporary: String, text: String) {
        let bytes = Array(text.utf8)
        bytes.withUnsafeBufferPointer { b in
            b.withMemoryRebound(to: CChar.self) { c in
                csl_stage_recovery(path, temporary, c.baseAddress, c.count)
            }
        }
    }

    /// Nothing unsaved: a crash writes no recovery file.
    public static func clearCrashRecovery() { csl_clear_recovery() }

    /// Test-only: with `CSUMLAB_TEST_TRAP_AFTER_FIRST_FRAME` in the environment the explorer
    /// traps (a Swift runtime fatal error, SIGILL) right after drawing its first frame, so the
    /// end-to-end tests can check that a crash's message is shown once the terminal is restored.
    /// Nothing else reads it; it is not a user setting.
    static let testTrap = getenv("CSUMLAB_TEST_TRAP_AFTER_FIRST_FRAME") != nil

    static func monotonicMilliseconds() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Int64(ts.tv_sec) * 1000 + Int64(ts.tv_nsec) / 1_000_000
    }
}
