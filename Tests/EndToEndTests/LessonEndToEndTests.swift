import ProcessSpawn
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// A student follows the seed lesson (02) to its end in a real 80×24 terminal with the keyboard
/// alone: a wrong and a right choice, the hop found by searching the steps, the checksum field
/// read off the detail pane and typed in, the task solved by their own toggle in the options
/// menu; then `csumlab lesson` shows the lesson done.
@Suite(.serialized, .enabled(if: tmuxPath != nil, "tmux is not installed: end-to-end lesson test skipped"))
struct LessonEndToEndTests {
    func binary() throws -> String {
        try #require(csumlabBinary, "csumlab binary not found next to the test bundle")
    }

    func page(_ t: TmuxSession, _ n: Int, sourceLocation: SourceLocation = #_sourceLocation) {
        t.send(">")
        t.waitFor("Lesson \(n)/7", sourceLocation: sourceLocation)
    }

    @Test func aStudentFollowsTheSeedLessonToItsEnd() throws {
        let bin = try binary()
        let t = try TmuxSession(width: 80, height: 24, command: { _ in
            "sh -c '\(bin) lesson 02-seed-routed; echo EXIT=$?; echo DONE; sleep 60'"
        })
        t.waitFor("Lesson 1/7")
        t.waitFor("The seed question")
        // 2: a choice — a wrong answer gets its feedback, the right one is marked.
        page(t, 2)
        t.waitFor("1 choose")
        t.send("2")
        t.waitFor("nothing so far")
        t.send("1")
        t.waitFor("✓ right")
        // 3: which step loses the promise — found with the search, answered with Enter.
        page(t, 3)
        t.send("/")
        t.waitFor("Search steps")
        t.send("-l", "packet_rcv")
        t.send("Enter")
        t.waitFor("/packet_rcv: step")
        t.send("Enter")
        t.waitFor("packet_rcv copies")
        // 4: the field at tap2 — read off the detail pane (t), typed into the answer field.
        page(t, 4)
        t.send("/")
        t.waitFor("Search steps")
        t.send("-l", "tun_net_xmit")
        t.send("Enter")
        t.waitFor("/tun_net_xmit: step")
        t.send("t")
        t.waitFor("L4 csum field")
        let screen = t.capture()
        let field = try #require(screen.range(of: #"L4 csum field 0x[0-9a-f]{4}"#, options: .regularExpression).map { String(screen[$0].suffix(6)) },
                                 "no field on the detail pane:\n\(screen)")
        t.send("t")
        t.waitFor("Lesson 4/7")
        t.send("Enter")
        t.waitFor("answer: ")
        t.send("-l", "0x0001")
        t.send("Enter")
        t.waitFor("Not that")
        t.send("Enter")
        t.waitFor("answer: ")
        t.send("-l", field)
        t.send("Enter")
        t.waitFor("still the pseudo-header sum")
        // 5, 6: the task, solved with the router's vnet-hdr toggled in the options menu.
        page(t, 5)
        page(t, 6)
        t.waitFor("Keep the userspace router")
        for _ in 0..<12 {
            if t.capture().contains("[router]") { break }
            t.send("j")
            sleepMilliseconds(30)
        }
        t.waitFor("[router]")
        t.send("o")
        t.waitFor("Settings of router")
        for _ in 0..<30 {
            if t.capture().contains("▶ vnet-hdr") { break }
            t.send("Down")
            sleepMilliseconds(20)
        }
        t.waitFor("▶ vnet-hdr")
        t.send("Enter")
        t.send("Escape")
        t.waitFor("task solved")
        page(t, 7)
        t.send(">")
        t.waitFor("the end of the lesson")
        // The toggle is the student's own change to the lesson's lab: quitting asks first.
        t.send("q")
        t.waitFor("Quit with unsaved changes?")
        t.send("y")
        t.waitFor("DONE")
        #expect(t.capture().contains("EXIT=0"))
        // The progress stays: the list says every page is done.
        let list = Spawn.run(["/usr/bin/env", "XDG_STATE_HOME=\(t.dir)/state", bin, "lesson"], capture: true)
        let line = list.output.split(separator: "\n").first { $0.contains("02-seed-routed") }
        #expect(line?.contains("7/7") == true, "\(list.output)")
    }
}
