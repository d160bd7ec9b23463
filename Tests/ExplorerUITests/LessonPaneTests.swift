import ExplorerUI
import Lessons
import Simulation
import Testing
import TopologyFile

/// The lesson pane in the explorer: pages, the three kinds of question, a task solved by a
/// toggle of the student's own, keys that keep exploring outside a question, progress.
@Suite struct LessonPaneTests {
    /// A lesson over the seed's routed lab (userspace router), written for these tests so they
    /// do not follow the shipped lessons' wording.
    static let text = """
        lesson: 1
        title: Test lesson
        summary: A lesson for the explorer's tests.
        lab: ../../topologies/seed-routed-userspace.yaml
        flow: ssh
        pages:
          - say: VM1 sends a SYN with tx-checksumming on.
            show: {leg: SYN, node: tap1}
          - ask: Which ip_summed does the SYN carry out of VM1's stack?
            show: {leg: SYN, node: vm1}
            choices:
              - text: CHECKSUM_NONE
                feedback: No, tx is on.
              - text: CHECKSUM_PARTIAL
                correct: true
                feedback: Right, the device is to finish it.
          - ask: Which hop loses the promise?
            pick: step
            answer: {leg: SYN, node: router, function: packet_rcv}
            hints:
              - at: {leg: SYN, node: br2}
                feedback: The bridge keeps what it gets.
            wrong: Not there.
            right: Yes, AF_PACKET reads bytes only.
          - ask: What does the TCP checksum field hold at tap2? (hex)
            value: {leg: SYN, node: tap2, field: l4-field}
            right: The pseudo-header sum, never completed.
            wrong: Look at the detail pane of the tap2 step.
          - task: Make VM2 accept the SYN with one change.
            goal:
              - {flow: ssh, leg: SYN, outcome: accepted}
            changes: {max: 1}
            solution: ["vm1.eth0.tx=off"]
            attempts:
              - set: ["br1.tx=off"]
                feedback: A bridge computes nothing.
            done: With tx off in VM1 the SYN leaves complete.
        """

    /// Progress kept in memory, to see what the explorer saves.
    final class Kept: @unchecked Sendable {
        var progress: [String: LessonProgress] = [:]
        var saves = 0
    }

    struct MemoryStorage: LabStorage {
        let kept: Kept
        let lessonPath: String
        func read(_ path: String) throws(StorageError) -> (text: String, stamp: DiskStamp) { throw StorageError("no files") }
        func stamp(_ path: String) -> DiskStamp? { nil }
        func save(_ text: String, to path: String, expecting: DiskStamp?, keepOriginal: Bool) throws(StorageError) -> DiskStamp { throw StorageError("read-only") }
        func labs(in directory: String?) -> [LabEntry] { [] }
        func writeRecovery(_ text: String, for path: String?) throws(StorageError) {}
        func recovery(for path: String?) -> Recovery? { nil }
        func crashSnapshot(for path: String?) -> CrashSnapshot? { nil }
        func removeRecovery(for path: String?) {}
        func lessons() -> [LessonEntry] {
            [LessonEntry(name: "test-lesson", title: "Test lesson", summary: "A lesson for the explorer's tests.", path: lessonPath, pages: 5, error: nil)]
        }
        func loadLesson(_ path: String) throws(StorageError) -> Lesson {
            do { return try LessonFile.parse(LessonPaneTests.text, file: path) } catch { throw StorageError("\(error)") }
        }
        func lessonProgress(_ name: String) -> (progress: LessonProgress, warning: String?) { (kept.progress[name] ?? LessonProgress(), nil) }
        func saveLessonProgress(_ p: LessonProgress, for name: String) throws(StorageError) {
            kept.progress[name] = p
            kept.saves += 1
        }
    }

    static let lessonPath = packageRoot + "/Tests/ExplorerUITests/test-lesson.yaml"

    func open(_ kept: Kept = Kept()) throws -> ExplorerState {
        let storage = MemoryStorage(kept: kept, lessonPath: Self.lessonPath)
        return try ExplorerState(lesson: storage.loadLesson(Self.lessonPath), storage: storage)
    }

    func screen(_ s: ExplorerState, _ w: Int = 80, _ h: Int = 24) -> String {
        Screen.render(s, width: w, height: h).canvas.text
    }

    @Test func opensOnTheFirstPageWithTheLessonPaneInTheDetailsPlace() throws {
        let s = try open()
        #expect(s.lesson?.page == 0)
        #expect(s.view.showsLesson)
        for (w, h) in [(80, 24), (120, 40)] {
            let text = screen(s, w, h)
            #expect(text.contains("Lesson 1/5"))
            #expect(text.contains("VM1 sends a SYN"))
            #expect(!text.contains(" Detail "))
        }
        // The page's `show` moved the cursor to the SYN at tap1.
        #expect(s.currentStep?.element == "tap1")
        #expect(s.current?.leg == 0)
    }

    @Test func pagesTurnAndPointAtTheirStep() throws {
        var s = try open()
        press(&s, .char(">"))
        #expect(s.lesson?.page == 1)
        #expect(s.currentStep?.element == "vm1")
        #expect(s.lesson?.progress.done.contains(0) == true, "reading past a narration page is doing it")
        press(&s, .char("<"))
        #expect(s.lesson?.page == 0)
        press(&s, .char("<"))
        #expect(s.message == "this is the first page")
    }

    @Test func aChoiceIsAnsweredWithItsDigitAndGetsItsFeedback() throws {
        var s = try open()
        press(&s, .char(">"), .enter)
        #expect(s.lesson?.feedback == nil, "Enter picks no answer for the student")
        #expect(s.message == "answer with a digit, 1–2")
        press(&s, .char("1"))
        #expect(s.lesson?.feedback == Feedback(correct: false, text: "No, tx is on."))
        #expect(s.lesson?.progress.done.contains(1) == false)
        #expect(screen(s).contains("No, tx is on."))
        press(&s, .char("2"))
        #expect(s.lesson?.feedback?.correct == true)
        #expect(s.lesson?.progress.done.contains(1) == true)
        press(&s, .char("7"))
        #expect(s.message == "answer with 1–2")
    }

    @Test func aWhichHopQuestionIsAnsweredWithEnterOnTheStep() throws {
        var s = try open()
        press(&s, .char(">"), .char(">"))
        #expect(s.lesson?.page == 2)
        let steps = s.steps.compactMap { s.step($0) }
        // A wrong hop with a hint of its own.
        let br2 = try #require(steps.firstIndex { $0.element == "br2" })
        s.perform(.jumpToStep(br2))
        press(&s, .enter)
        #expect(s.lesson?.feedback == Feedback(correct: false, text: "The bridge keeps what it gets."))
        // Another wrong hop: the general feedback.
        let tap1 = try #require(steps.firstIndex { $0.element == "tap1" })
        s.perform(.jumpToStep(tap1))
        press(&s, .enter)
        #expect(s.lesson?.feedback == Feedback(correct: false, text: "Not there."))
        #expect(s.overlay == nil, "Enter answered instead of opening the options")
        // The hop that loses it.
        let rcv = try #require(steps.firstIndex { $0.element == "router" && $0.event.kind == .forwarderReadSocket })
        s.perform(.jumpToStep(rcv))
        press(&s, .enter)
        #expect(s.lesson?.feedback?.correct == true)
        #expect(s.lesson?.progress.done.contains(2) == true)
    }

    @Test func aTypedAnswerHoldsTheKeysUntilEnter() throws {
        var s = try open()
        press(&s, .char(">"), .char(">"), .char(">"))
        #expect(s.lesson?.page == 3)
        let tap2 = try #require(s.trace.flows[0].legs[0].steps.first { $0.element == "tap2" })
        press(&s, .enter)
        #expect(s.overlay == .answer(text: ""))
        // q, u and > would quit, undo and turn the page; here they are typed.
        press(&s, .char("q"), .char("u"), .char(">"))
        #expect(s.overlay == .answer(text: "qu>"))
        #expect(!s.quitRequested)
        #expect(screen(s).contains("answer: qu>"))
        press(&s, .backspace, .backspace, .backspace)
        for ch in "0x0000" { press(&s, .char(ch)) }
        press(&s, .enter)
        #expect(s.overlay == nil)
        #expect(s.lesson?.feedback == Feedback(correct: false, text: "Look at the detail pane of the tap2 step."))
        press(&s, .enter)
        for ch in "0x" + String(tap2.l4Field, radix: 16) { press(&s, .char(ch)) }
        press(&s, .enter)
        #expect(s.lesson?.feedback?.correct == true)
        // Esc leaves the field without an answer.
        press(&s, .enter, .char("1"), .escape)
        #expect(s.overlay == nil)
        #expect(s.lesson?.feedback?.correct == true)
    }

    @Test func aTaskIsSolvedByTheStudentsOwnToggleAndCheckedLive() throws {
        let kept = Kept()
        var s = try open(kept)
        for _ in 0..<4 { press(&s, .char(">")) }
        #expect(s.lesson?.page == 4)
        #expect(s.lesson?.taskStatus?.met == false)
        // A change that looks right but does nothing: its own feedback.
        try InteractionTests().toggle(&s, node: "br1", setting: "tx-checksumming")
        #expect(s.lesson?.taskStatus?.met == false)
        #expect(s.lesson?.feedback == Feedback(correct: false, text: "A bridge computes nothing."))
        s.handle(.key(.char("u")))
        // The fix, toggled in the options menu like any other.
        try InteractionTests().toggle(&s, node: "vm1", setting: "eth0 tx-checksumming")
        #expect(s.lesson?.taskStatus?.met == true)
        #expect(s.lesson?.progress.solved.contains(4) == true)
        #expect(s.message?.contains("task solved") == true)
        #expect(kept.progress["test-lesson"]?.solved.contains(4) == true, "progress kept after the task")
        // Two changes exceed the limit: not met, and it says why.
        try InteractionTests().toggle(&s, node: "vm2", setting: "eth0 tx-checksumming")
        #expect(s.lesson?.taskStatus?.met == false)
        #expect(s.lesson?.progress.solved.contains(4) == true, "a task once solved stays solved")
    }

    @Test func outsideAQuestionTheExplorersKeysKeepWorking() throws {
        var s = try open()
        // A narration page: Enter in the graph pane opens the options as always.
        s.perform(.selectNode("vm1"))
        press(&s, .enter)
        if case .menu? = s.overlay {} else { Issue.record("Enter did not open the options on a narration page") }
        press(&s, .escape)
        // t switches to the detail pane and back; the question keys go with the pane.
        press(&s, .char(">"), .char("t"))
        #expect(!s.view.showsLesson)
        #expect(screen(s).contains(" Detail "))
        press(&s, .char("1"))
        #expect(s.lesson?.feedback == nil)
        #expect(s.message?.hasPrefix("unknown key") == true)
        press(&s, .char("t"), .char("1"))
        #expect(s.lesson?.feedback != nil)
    }

    @Test func lessonKeysWithoutALessonSaySo() throws {
        var s = try defaultState()
        press(&s, .char(">"))
        #expect(s.message?.hasPrefix("unknown key") == true)
        #expect(!Bindings.hints(for: s).contains { $0.action == .nextPage })
    }

    @Test func progressResumesWhereTheStudentLeftIt() throws {
        let kept = Kept()
        var s = try open(kept)
        press(&s, .char(">"), .char(">"))
        #expect(kept.progress["test-lesson"]?.page == 2)
        let again = try open(kept)
        #expect(again.lesson?.page == 2)
        #expect(again.message?.contains("resumed") == true)
    }

    @Test func theListOpensALessonAndAsksBeforeDroppingChanges() throws {
        let kept = Kept()
        var s = try defaultState()
        s.storage = MemoryStorage(kept: kept, lessonPath: Self.lessonPath)
        try InteractionTests().toggle(&s, node: "vm1", setting: "eth0 tx-checksumming")
        press(&s, .char("L"))
        #expect(s.overlay == .lessons(selected: 0))
        #expect(screen(s, 120, 40).contains("Test lesson · 5 pages · not started"))
        press(&s, .enter)
        if case .confirm? = s.overlay {} else { Issue.record("opening a lesson over unsaved changes did not ask") }
        press(&s, .char("y"))
        #expect(s.lesson?.lesson.title == "Test lesson")
        #expect(s.assignments.isEmpty)
    }

    /// The lesson pane as drawn: a narration page and a typed answer in progress, at 80×24 (the
    /// hex pane gives its rows to the lesson) and 120×40.
    @Test func lessonPaneScreens() throws {
        var s = try open()
        assertSnapshot(s, width: 80, height: 24, "lesson-page-80x24")
        press(&s, .char(">"), .char(">"), .char(">"), .enter, .char("0"), .char("x"))
        assertSnapshot(s, width: 80, height: 24, "lesson-answer-80x24")
        assertSnapshot(s, width: 120, height: 40, "lesson-answer-120x40")
    }
}
