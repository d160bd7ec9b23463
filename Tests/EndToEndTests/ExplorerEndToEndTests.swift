import ProcessSpawn
import Testing

#if canImport(Glibc)
import Glibc
#endif

let tmuxPath = Spawn.which("tmux")

/// The package root, from this file's path.
let packageRoot: String = {
    var parts = #filePath.split(separator: "/", omittingEmptySubsequences: false)
    parts.removeLast(3)
    return parts.joined(separator: "/")
}()

/// The csumlab binary next to this test bundle, linked first: `swift test` compiles the csumlab
/// module for the tests but does not link the executable, so a bare `swift test` would find
/// none (or an old one). The outer SwiftPM holds the build lock while tests run and builds
/// nothing meanwhile, hence `--ignore-lock`; when the product is up to date this is a no-op.
let csumlabBinary: String? = {
    var buf = [CChar](repeating: 0, count: 4096)
    let n = readlink("/proc/self/exe", &buf, buf.count - 1)
    guard n > 0 else { return nil }
    var dir = String(decoding: buf[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    while let last = dir.last, last != "/" { dir.removeLast() }
    // The runner may live inside an .xctest bundle directory.
    var binDir = dir
    while binDir.hasSuffix(".xctest/") || binDir.hasSuffix("/Contents/MacOS/") || binDir.hasSuffix("/Contents/") {
        binDir.removeLast()
        while let last = binDir.last, last != "/" { binDir.removeLast() }
    }
    let parts = binDir.split(separator: "/")
    if let swift = Spawn.which("swift"), let config = parts.last, parts.count >= 2 {
        let buildPath = "/" + parts.dropLast(2).joined(separator: "/")
        Spawn.run([swift, "build", "--product", "csumlab", "--ignore-lock", "--package-path", packageRoot,
                   "--build-path", buildPath, "-c", String(config)])
    }
    let candidate = binDir + "csumlab"
    return access(candidate, X_OK) == 0 ? candidate : nil
}()

/// Every parameter of every SGR sequence (ESC [ … m) in `text`.
func sgrParameters(_ text: String) -> [Int] {
    var out: [Int] = []
    let parts = text.split(separator: "\u{1B}", omittingEmptySubsequences: true)
    for p in parts where p.first == "[" {
        guard let m = p.firstIndex(of: "m") else { continue }
        let body = p[p.index(after: p.startIndex)..<m]
        guard body.allSatisfy({ $0.isNumber || $0 == ";" }) else { continue }
        out += body.split(separator: ";").compactMap { Int($0) }
    }
    return out
}

/// A tmux server of our own (private socket) running one command in a fixed-size pane.
final class TmuxSession {
    let socket: String
    let dir: String
    nonisolated(unsafe) static var counter = 0

    /// `command` gets the session's private directory (for files the command writes).
    init(width: Int, height: Int, command: (String) -> String) throws {
        TmuxSession.counter += 1
        dir = "/tmp/csumlab-e2e-\(getpid())-\(TmuxSession.counter)"
        mkdir(dir, 0o700)
        socket = dir + "/tmux.sock"
        let r = Spawn.run([tmuxPath!, "-S", socket, "-f", "/dev/null", "new-session", "-d", "-s", "e2e",
                           "-x", "\(width)", "-y", "\(height)", "-e", "LANG=C.UTF-8",
                           // Recovery files of the explorers under test stay in the session's directory.
                           "-e", "XDG_STATE_HOME=\(dir)/state", command(dir)])
        try #require(r.status == 0, "tmux new-session failed (\(r.status))")
    }

    deinit {
        tmux("kill-server")
        Spawn.run(["/bin/rm", "-rf", dir])
    }

    @discardableResult
    func tmux(_ args: String...) -> Spawn.Result {
        Spawn.run([tmuxPath!, "-S", socket] + args, capture: true)
    }

    func capture() -> String { tmux("capture-pane", "-p", "-t", "e2e").output }

    func send(_ keys: String...) {
        tmux(["send-keys", "-t", "e2e"] + keys)
    }

    func tmux(_ args: [String]) {
        Spawn.run([tmuxPath!, "-S", socket] + args)
    }

    /// Wait until the screen contains `text` (at most `timeout` ms); the screen on failure.
    func waitFor(_ text: String, timeout: Int = 5000, sourceLocation: SourceLocation = #_sourceLocation) {
        let deadline = monotonicMilliseconds() + timeout
        var screen = ""
        while monotonicMilliseconds() < deadline {
            screen = capture()
            if screen.contains(text) { return }
            sleepMilliseconds(2)
        }
        Issue.record("timed out waiting for \"\(text)\"; screen:\n\(screen)", sourceLocation: sourceLocation)
    }

    /// The pane's terminal modes tmux tracks: alternate screen, keypad (application keys and
    /// cursor keys), mouse reporting, cursor visibility.
    func modes() -> String {
        tmux("display-message", "-p", "-t", "e2e",
             "alternate=#{alternate_on} keypad=#{keypad_flag} keypad_cursor=#{keypad_cursor_flag} mouse=#{mouse_any_flag} cursor=#{cursor_flag}").output
            .split(separator: "\n").first.map(String.init) ?? ""
    }

    func waitForAbsence(_ text: String, timeout: Int = 5000, sourceLocation: SourceLocation = #_sourceLocation) {
        let deadline = monotonicMilliseconds() + timeout
        var screen = ""
        while monotonicMilliseconds() < deadline {
            screen = capture()
            if !screen.contains(text) { return }
            sleepMilliseconds(15)
        }
        Issue.record("timed out waiting for \"\(text)\" to go; screen:\n\(screen)", sourceLocation: sourceLocation)
    }
}

/// Drives the real binary in tmux. The suites share the tmux binary and /tmp, so they run one
/// test at a time; each test has its own server socket.
@Suite(.serialized, .enabled(if: tmuxPath != nil, "tmux is not installed: end-to-end explorer tests skipped"))
struct ExplorerEndToEndTests {
    func binary() throws -> String {
        try #require(csumlabBinary, "csumlab binary not found next to the test bundle")
    }

    /// The seed story: SSH fails; tx off in VM1 still fails at SYN-ACK; in VM2 too it completes;
    /// reset; the router as a netns router completes; resize to 80×24 and too small; quit; the
    /// terminal settings are what they were.
    @Test func theSeedStoryInTheRealTerminal() throws {
        let bin = try binary()
        let t = try TmuxSession(width: 120, height: 40, command: { dir in
            "sh -c 'trap \"\" INT; stty -a > \(dir)/before; \(bin); echo EXIT=$?; stty -a > \(dir)/after; echo DONE; sleep 60'"
        })
        t.waitFor("connection fails: SYN (vm1 → vm2)")
        t.waitFor("[vm1]")
        t.send("l")
        t.waitFor("SYN step 2/13")
        // tx-checksumming off in VM1 only: the SYN gets through, the SYN-ACK does not.
        t.send("o")
        t.waitFor("Settings of vm1")
        t.send("Enter")
        t.waitFor("still fails, now at SYN-ACK")
        t.send("Escape")
        t.waitForAbsence("Settings of vm1")
        // Then in VM2 too (k goes back along the path, wrapping to vm2).
        t.send("k")
        t.waitFor("[vm2]")
        t.send("o")
        t.waitFor("Settings of vm2")
        t.send("Enter")
        t.waitFor("connection now completes")
        t.send("Escape")
        t.waitForAbsence("Settings of vm2")
        // Reset, then make the router a netns router instead.
        t.send("r")
        t.waitFor("reset to the lab as last saved (u undoes it): connection now fails at SYN")
        for _ in 0..<5 { t.send("j") }
        t.waitFor("[router]")
        t.send("o")
        t.waitFor("Settings of router")
        t.send("Enter")
        t.waitFor("router flavour=netns: connection now completes")
        t.send("Escape")
        t.waitForAbsence("Settings of router")
        // Resize: 80×24 still shows the verdict and the hint line; too small says so.
        t.tmux(["resize-window", "-t", "e2e", "-x", "80", "-y", "24"])
        t.waitFor("q quit")
        let small = t.capture().split(separator: "\n", omittingEmptySubsequences: false)
        #expect(small.allSatisfy { $0.count <= 80 })
        #expect(small.contains { $0.contains("✓ connection completes") })
        t.tmux(["resize-window", "-t", "e2e", "-x", "50", "-y", "12"])
        t.waitFor("terminal too small: 50×12")
        t.tmux(["resize-window", "-t", "e2e", "-x", "120", "-y", "40"])
        t.waitFor("Graph")
        // Quit: the router toggle is unsaved, so q asks first; y quits without saving. The
        // shell prints the exit status and the terminal settings afterwards.
        t.send("q")
        t.waitFor("Quit with unsaved changes?")
        t.send("y")
        expectRestored(t, status: 0)
    }

    @Test func ctrlCRestoresTheTerminal() throws {
        let bin = try binary()
        let t = try TmuxSession(width: 100, height: 30, command: { dir in
            "sh -c 'trap \"\" INT; stty -a > \(dir)/before; \(bin); echo EXIT=$?; stty -a > \(dir)/after; echo DONE; sleep 60'"
        })
        t.waitFor("connection fails")
        t.send("C-c")
        // Ctrl-C quits, and like any program ended by SIGINT the status is 128+2.
        expectRestored(t, status: 130)
    }

    /// The terminal modes of a shell prompt: what every way out must leave.
    static let restoredModes = "alternate=0 keypad=0 keypad_cursor=0 mouse=0 cursor=1"

    /// Start csumlab in a shell that records `stty -a` before and after and echoes the exit
    /// status; the inner shell writes its pid and becomes csumlab, so `pid` is exactly it.
    /// `ignore` lists signals the outer shell ignores (those a key sends to the whole
    /// foreground group, which would otherwise end the recording shell too); `env` goes before
    /// the binary.
    func session(ignore: [String] = [], env: String = "") throws -> TmuxSession {
        let bin = try binary()
        let traps = ignore.map { "trap \"\" \($0); " }.joined()
        let t = try TmuxSession(width: 100, height: 30, command: { dir in
            "sh -c '\(traps)ulimit -c 0; stty -a > \(dir)/before; sh -c \"echo \\$\\$ > \(dir)/pid; exec \(env)\(bin)\"; echo EXIT=$?; stty -a > \(dir)/after; echo DONE; sleep 60'"
        })
        return t
    }

    /// After csumlab ended: the exit status, `stty -a` unchanged, the modes of a prompt.
    func expectRestored(_ t: TmuxSession, status: Int32, sourceLocation: SourceLocation = #_sourceLocation) {
        t.waitFor("DONE", sourceLocation: sourceLocation)
        let screen = t.capture()
        #expect(screen.contains("EXIT=\(status)"), "\(screen)", sourceLocation: sourceLocation)
        let before = readText(t.dir + "/before"), after = readText(t.dir + "/after")
        #expect(before != nil && before == after, "stty -a changed:\n\(before ?? "")\n---\n\(after ?? "")", sourceLocation: sourceLocation)
        #expect(t.modes() == Self.restoredModes, sourceLocation: sourceLocation)
    }

    /// Every catchable signal whose default action ends the process restores the terminal and
    /// then dies of that signal (status 128+n): the asynchronous ones through the loop (endwin),
    /// the faults through the crash handler (termios and a reset sequence, async-signal-safe).
    @Test(arguments: [SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGPIPE, SIGALRM, SIGVTALRM, SIGPROF, SIGXCPU, SIGXFSZ,
                      SIGIO, SIGPWR, SIGSTKFLT, __libc_current_sigrtmin(), __libc_current_sigrtmax(), SIGSEGV, SIGABRT, SIGILL, SIGTRAP, SIGBUS, SIGFPE, SIGSYS])
    func signalRestoresTheTerminal(_ sig: Int32) throws {
        let t = try session()
        t.waitFor("connection fails")
        let pid = try #require(readText(t.dir + "/pid").flatMap { Int32($0.split(separator: "\n").first ?? "") })
        kill(pid, sig)
        expectRestored(t, status: 128 + sig)
    }

    /// Ctrl-\\ sends SIGQUIT to the foreground group. The Swift runtime's crash reporter used to
    /// take it (printing over the screen and waiting 30 s for a key); now the terminal is
    /// restored and csumlab ends with SIGQUIT.
    @Test func ctrlBackslashRestoresAndQuits() throws {
        let t = try session(ignore: ["QUIT"])
        t.waitFor("connection fails")
        t.send("C-\\")
        expectRestored(t, status: 128 + SIGQUIT)
        #expect(!t.capture().contains("backtrace"))
    }

    /// A Swift runtime trap inside the explorer (forced by the test-only environment variable
    /// CSUMLAB_TEST_TRAP_AFTER_FIRST_FRAME) prints its message where the user sees it: after the
    /// alternate screen is gone, on the normal screen.
    @Test func aCrashMessageIsShownAfterTheTerminalIsRestored() throws {
        let t = try session(env: "env CSUMLAB_TEST_TRAP_AFTER_FIRST_FRAME=1 ")
        expectRestored(t, status: 128 + SIGILL)
        let screen = t.capture()
        #expect(screen.contains("Fatal error: CSUMLAB_TEST_TRAP_AFTER_FIRST_FRAME"), "\(screen)")
        // Written after the screen was restored: the message comes before the shell's status line.
        let lines = screen.split(separator: "\n").map(String.init)
        let fatal = lines.firstIndex { $0.contains("Fatal error:") }, exit = lines.firstIndex { $0.hasPrefix("EXIT=") }
        #expect(fatal != nil && exit != nil && fatal! < exit!)
    }

    /// Under NO_COLOR the screen has attributes (bold, reverse) but no colour; under LANG=C the
    /// lines are drawn with the terminal's line-drawing set instead of UTF-8.
    @Test func noColourAndNoUTF8() throws {
        let bin = try binary()
        let t = try TmuxSession(width: 100, height: 30, command: { _ in "env NO_COLOR=1 LANG=C LC_ALL=C \(bin)" })
        t.waitFor("connection fails")
        let styled = t.tmux("capture-pane", "-p", "-e", "-t", "e2e").output
        let params = sgrParameters(styled)
        #expect(params.allSatisfy { !(30...37).contains($0) && !(40...47).contains($0) && $0 != 38 && $0 != 48 }, "a colour under NO_COLOR")
        #expect(params.contains(7), "no reverse video")
        #expect(params.contains(1), "no bold")
        let plain = t.capture()
        #expect(!plain.contains("┌"))
        #expect(plain.contains("vm1→vm2") == false)
        #expect(plain.contains("vm1>vm2"))
        t.send("q")
    }

    /// Prints (does not assert) what the user feels: first frame after exec and keypress to
    /// frame, both seen through tmux, so upper bounds that include a capture (≈5 ms here).
    @Test func measureFirstFrameAndKeypress() throws {
        let bin = try binary()
        let t = try TmuxSession(width: 120, height: 40, command: { _ in "sh" })
        sleepMilliseconds(100)
        let start = monotonicMilliseconds()
        t.send("exec \(bin)", "Enter")
        t.waitFor("connection fails")
        let first = monotonicMilliseconds() - start
        var worst = 0, total = 0
        for i in 2...11 {
            let k0 = monotonicMilliseconds()
            t.send("l")
            t.waitFor("SYN step \(i)/13")
            let d = monotonicMilliseconds() - k0
            worst = max(worst, d)
            total += d
        }
        print("explorer e2e: first frame after exec ≤ \(first) ms (incl. send-keys and polling); keypress → frame ≤ \(total / 10) ms average, \(worst) ms worst (incl. a tmux round trip)")
        t.send("q")
    }
}

/// Without a terminal `csumlab` prints the default lab's trace and exits 0 (no tmux needed).
@Suite struct NoTerminalTests {
    @Test func withoutATerminalItPrintsTheTrace() throws {
        let bin = try #require(csumlabBinary, "csumlab binary not found next to the test bundle")
        let r = Spawn.run([bin], capture: true)
        #expect(r.status == 0)
        #expect(r.output.hasPrefix("csumlab trace: seed-routed-userspace"))
        #expect(r.output.contains("verdict: connection fails: SYN"))
    }
}
