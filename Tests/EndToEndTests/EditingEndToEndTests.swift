import ProcessSpawn
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The explorer as a lab bench, in a real terminal: build the seed's routed lab from nothing
/// with the keyboard alone, watch SSH die, change the router, undo, redo, save, and check the
/// saved file with the command line; and keep unsaved work across a SIGTERM.
@Suite(.serialized, .enabled(if: tmuxPath != nil, "tmux is not installed: end-to-end editing tests skipped"))
struct EditingEndToEndTests {
    func binary() throws -> String {
        try #require(csumlabBinary, "csumlab binary not found next to the test bundle")
    }

    /// Start `csumlab FILE` in a shell that records the exit status; the inner shell writes its
    /// pid and becomes csumlab.
    func explore(_ file: String, in dir: String? = nil) throws -> TmuxSession {
        let bin = try binary()
        return try TmuxSession(width: 120, height: 40, command: { d in
            let f = file.hasPrefix("/") ? file : (dir ?? d) + "/" + file
            return "sh -c 'sh -c \"echo \\$\\$ > \(d)/pid; exec \(bin) \(f)\"; echo EXIT=$?; echo DONE; sleep 60'"
        })
    }

    /// A fresh directory under /tmp (the caller removes it).
    func temporaryDirectory() throws -> String {
        var template = Array("/tmp/csumlab-edit-e2e-XXXXXX".utf8CString)
        return try #require(template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }.map { String(cString: $0) })
    }

    /// The marked (▶) row of the open list or form.
    func marked(_ t: TmuxSession) -> String? {
        // A box row: the border, a space, the mark (the steps pane marks its cursor with ▶ too).
        t.capture().split(separator: "\n").first { $0.contains("│ ▶ ") }.map { String($0.split(separator: "│ ▶ ", maxSplits: 1).last ?? "") }
    }

    /// Move the list's (or form's) mark down to the row that starts with `label`.
    func moveMark(_ t: TmuxSession, to label: String, key: String = "Down", sourceLocation: SourceLocation = #_sourceLocation) {
        for _ in 0..<60 {
            let now = marked(t)
            if let m = now, m.hasPrefix(label) { return }
            t.send(key)
            // Wait for the mark to move before reading it again (a stale screen would make
            // the next press overshoot).
            let deadline = monotonicMilliseconds() + 2000
            while marked(t) == now && monotonicMilliseconds() < deadline { sleepMilliseconds(5) }
        }
        Issue.record("no row \"\(label)\"; screen:\n\(t.capture())", sourceLocation: sourceLocation)
    }

    func add(_ t: TmuxSession, _ kind: String, named name: String, sourceLocation: SourceLocation = #_sourceLocation) {
        t.send("a")
        t.waitFor("Add a node", sourceLocation: sourceLocation)
        moveMark(t, to: kind + " ", sourceLocation: sourceLocation)
        t.send("Enter")
        t.waitFor("add \(kind) \(name)", sourceLocation: sourceLocation)
    }

    func link(_ t: TmuxSession, _ a: String, _ b: String, sourceLocation: SourceLocation = #_sourceLocation) {
        t.send("x")
        t.waitFor("Link or unlink", sourceLocation: sourceLocation)
        moveMark(t, to: "link   \(a) – \(b)", sourceLocation: sourceLocation)
        t.send("Enter")
        t.waitFor("link \(a) – \(b)", sourceLocation: sourceLocation)
    }

    /// `e` on the selected node; type each (field label, text) after clearing it.
    func edit(_ t: TmuxSession, _ fields: [(String, String)], expect: String, sourceLocation: SourceLocation = #_sourceLocation) {
        t.send("e")
        t.waitFor("Edit ", sourceLocation: sourceLocation)
        for (label, text) in fields {
            moveMark(t, to: label + " ", key: "Tab", sourceLocation: sourceLocation)
            for _ in 0..<30 { t.send("BSpace") }
            t.send("-l", text)
            // The field shows the text before the next key moves on.
            let deadline = monotonicMilliseconds() + 3000
            while !(marked(t)?.contains(text + "█") ?? false) && monotonicMilliseconds() < deadline { sleepMilliseconds(5) }
        }
        t.send("Enter")
        t.waitFor(expect, sourceLocation: sourceLocation)
    }

    /// The verdict line of the status bar.
    func verdict(_ t: TmuxSession) -> String {
        t.capture().split(separator: "\n").map(String.init).first { $0.hasPrefix(" ✓ ") || $0.hasPrefix(" ✗ ") }?
            .split(separator: "│").first.map { String($0.dropFirst(3)).trimmingSpaces } ?? ""
    }

    @Test func buildTheSeedLabFromNothingWithTheKeyboard() throws {
        let bin = try binary()
        let dir = try temporaryDirectory()
        defer { Spawn.run(["/bin/rm", "-rf", dir]) }
        let lab = dir + "/mylab.yaml"
        #expect(Spawn.run([bin, "new", lab, "--empty"]).status == 0)

        let t = try explore(lab)
        t.waitFor("This lab has no nodes")
        add(t, "vm", named: "vm1")
        edit(t, [("eth0 address", "10.0.1.2/24"), ("eth0 gateway", "10.0.1.1")], expect: "vm1:eth0 address 10.0.1.2/24")
        add(t, "tap", named: "tap1")
        link(t, "tap1", "vm1:eth0")
        add(t, "bridge", named: "br1")
        link(t, "br1", "tap1")
        add(t, "veth", named: "veth1")
        link(t, "veth1:veth1", "br1")
        add(t, "router (userspace in a netns)", named: "router1")
        edit(t, [("eth0 address", "10.0.1.1/24"), ("eth1 address", "10.0.2.1/24")], expect: "router1:eth1 address 10.0.2.1/24")
        link(t, "router1:eth0", "veth1:veth1-r")
        add(t, "veth", named: "veth2")
        link(t, "veth2:veth2-r", "router1:eth1")
        add(t, "bridge", named: "br2")
        link(t, "br2", "veth2:veth2")
        add(t, "tap", named: "tap2")
        link(t, "tap2", "br2")
        add(t, "vm", named: "vm2")
        edit(t, [("eth0 address", "10.0.2.2/24"), ("eth0 gateway", "10.0.2.1")], expect: "vm2:eth0 address 10.0.2.2/24")
        link(t, "vm2:eth0", "tap2")

        // An SSH flow from vm1 to vm2: it dies behind the userspace router.
        t.send("f")
        t.waitFor("No flows yet: a adds one.")
        t.send("a")
        t.waitFor("Add a flow")
        for _ in 0..<10 { t.send("BSpace") }
        t.send("-l", "ssh")
        let typed = monotonicMilliseconds() + 3000
        while !(marked(t)?.contains("ssh█") ?? false) && monotonicMilliseconds() < typed { sleepMilliseconds(5) }
        moveMark(t, to: "to ", key: "Tab")
        for _ in 0..<5 where !(marked(t)?.contains("‹ vm2 ›") ?? false) { t.send("Right"); sleepMilliseconds(15) }
        t.send("Enter")
        t.waitFor("add flow ssh: connection fails: SYN (vm1 → vm2)")
        t.waitFor("✗ connection fails: SYN (vm1 → vm2)")

        // The router as a netns router: SSH works. Then undo twice, redo once.
        for _ in 0..<12 where !t.capture().contains("[router1]") { t.send("j"); sleepMilliseconds(15) }
        t.waitFor("[router1]")
        t.send("o")
        t.waitFor("Settings of router1")
        moveMark(t, to: "flavour")
        t.send("Enter")
        t.waitFor("router1 flavour=netns: connection now completes")
        t.send("Escape")
        t.waitFor("✓ connection completes")
        t.send("u")
        t.waitFor("undone: router1 flavour=netns")
        t.send("u")
        t.waitFor("undone: add flow ssh")
        t.waitFor("no flows in this lab")
        t.send("C-r")
        t.waitFor("redone: add flow ssh")
        t.waitFor("✗ connection fails: SYN (vm1 → vm2)")
        let shown = verdict(t)

        // Save (a file csumlab new wrote is in csumlab's layout: no question), then q quits
        // without asking.
        t.send("w")
        t.waitFor("saved \(lab)")
        t.send("q")
        t.waitFor("DONE")
        #expect(t.capture().contains("EXIT=0"))

        // The saved file checks, and traces to what the screen showed.
        let check = Spawn.run([bin, "check", lab], capture: true)
        #expect(check.status == 0, "\(check.output)")
        #expect(check.output.contains("9 nodes, 8 links, 1 flows"), "\(check.output)")
        let trace = Spawn.run([bin, "trace", lab], capture: true)
        #expect(trace.status == 0)
        #expect(!shown.isEmpty && trace.output.contains(shown), "screen: \(shown)\ntrace:\n\(trace.output)")

        // Reopened, the lab is the one saved.
        let again = try explore(lab)
        again.waitFor("✗ connection fails: SYN (vm1 → vm2)")
        again.waitFor("[vm1]")
        again.send("q")
        again.waitFor("EXIT=0")
    }

    @Test func sigtermMidEditKeepsTheLabForTheNextStart() throws {
        let bin = try binary()
        let dir = try temporaryDirectory()
        defer { Spawn.run(["/bin/rm", "-rf", dir]) }
        let lab = dir + "/lab.yaml"
        #expect(Spawn.run([bin, "new", lab]).status == 0)
        let before = readText(lab)
        let state = dir + "/state"
        // Both runs share one state directory (the sessions' own would differ).
        let start = { () throws -> TmuxSession in
            try TmuxSession(width: 120, height: 40, command: { d in
                "sh -c 'sh -c \"echo \\$\\$ > \(d)/pid; XDG_STATE_HOME=\(state) exec \(bin) \(lab)\"; echo EXIT=$?; echo DONE; sleep 60'"
            })
        }
        let t = try start()
        t.waitFor("connection fails")
        add(t, "bridge", named: "br3")
        let pid = try #require(readText(t.dir + "/pid").flatMap { Int32($0.split(separator: "\n").first ?? "") })
        kill(pid, SIGTERM)
        t.waitFor("DONE")
        #expect(t.capture().contains("EXIT=\(128 + SIGTERM)"))
        #expect(t.capture().contains("unsaved changes kept"))
        #expect(readText(lab) == before, "a signal must not write the lab itself")

        let u = try start()
        u.waitFor("Restore unsaved changes?")
        u.send("y")
        u.waitFor("restored the unsaved changes")
        // The added bridge is back (off the graph's right edge: the about pane counts it).
        u.send("i")
        u.waitFor("10 nodes, 8 links, 2 flows")
        // Still unsaved: q asks.
        u.send("q")
        u.waitFor("Quit with unsaved changes?")
        u.send("y")
        u.waitFor("EXIT=0")
    }
}

extension EditingEndToEndTests {
    /// A crash cannot run Swift code: the lab staged after the last change is written by the
    /// signal handler. A `--set` is an unsaved change from the start, so the copy is staged
    /// before the first frame, when the test-only trap crashes the explorer.
    @Test func aCrashWritesTheStagedRecoveryFile() throws {
        let bin = try binary()
        let dir = try temporaryDirectory()
        defer { Spawn.run(["/bin/rm", "-rf", dir]) }
        let lab = dir + "/lab.yaml"
        #expect(Spawn.run([bin, "new", lab]).status == 0)
        let t = try TmuxSession(width: 120, height: 40, command: { _ in
            "sh -c 'ulimit -c 0; XDG_STATE_HOME=\(dir)/state CSUMLAB_TEST_TRAP_AFTER_FIRST_FRAME=1 \(bin) \(lab) --set router.flavour=netns; echo EXIT=$?; echo DONE; sleep 60'"
        })
        t.waitFor("DONE")
        #expect(t.capture().contains("EXIT=\(128 + SIGILL)"))
        let u = try TmuxSession(width: 120, height: 40, command: { _ in
            "sh -c 'XDG_STATE_HOME=\(dir)/state \(bin) \(lab); echo EXIT=$?; echo DONE; sleep 60'"
        })
        u.waitFor("Restore unsaved changes?")
        u.send("y")
        u.waitFor("restored the unsaved changes: connection now completes")
        u.send("q")
        u.waitFor("Quit with unsaved changes?")
        u.send("y")
        u.waitFor("EXIT=0")
    }
}

extension String {
    var trimmingSpaces: String {
        var s = Substring(self)
        while s.last == " " { s = s.dropLast() }
        while s.first == " " { s = s.dropFirst() }
        return String(s)
    }
}
