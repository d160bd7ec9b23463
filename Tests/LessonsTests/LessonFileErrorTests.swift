import Testing
import Lessons
import TopologyFile

/// Bad lesson files are refused with every problem, each at the line and column of its cause.
@Suite struct LessonFileErrorTests {
    /// A lesson file in the shipped directory's place (so `lab:` resolves as for a shipped lesson).
    let file = shippedLessonDirectory + "/test-lesson.yaml"

    func lesson(_ pages: String, head: String = "lab: ../../topologies/seed-bridged.yaml\nflow: ssh\n") -> String {
        "lesson: 1\ntitle: Test\n" + head + "pages:\n" + pages
    }

    func diagnostics(_ text: String) -> [Diagnostic] {
        do {
            _ = try LessonFile.parse(text, file: file)
            return []
        } catch {
            return error.diagnostics
        }
    }

    func expectError(_ text: String, line: Int, column: Int, containing words: String, sourceLocation: SourceLocation = #_sourceLocation) {
        let ds = diagnostics(text)
        #expect(ds.contains { $0.line == line && $0.column == column && $0.message.contains(words) },
                "expected \(line):\(column) '\(words)', got:\n\(ds.map(\.description).joined(separator: "\n"))", sourceLocation: sourceLocation)
        #expect(ds.allSatisfy { $0.file == file }, sourceLocation: sourceLocation)
    }

    @Test func aValidMinimalLessonLoads() throws {
        let l = try LessonFile.parse(lesson("  - say: Hello.\n    show: {leg: SYN, node: tap2}\n"), file: file)
        #expect(l.pages.count == 1 && l.name == "test-lesson" && l.title == "Test" && l.flow == "ssh")
        #expect(l.pages[0].title == "Hello." && l.pages[0].line == 6)
        #expect(l.labPath == repositoryRoot + "/topologies/seed-bridged.yaml")
    }

    @Test func isLessonTellsLessonsFromTopologies() {
        #expect(LessonFile.isLesson("# a comment\nlesson: 1\n"))
        #expect(!LessonFile.isLesson("csumlab: 1\nname: x\n"))
        #expect(!LessonFile.isLesson("csumlab: 1\ndescription: |\n  lesson: 1\n"))
    }

    @Test func unknownKeys() {
        expectError(lesson("  - say: Hello.\n    colour: red\n"), line: 7, column: 5, containing: "unknown key 'colour'")
        expectError("lesson: 1\nlab: ../../topologies/seed-bridged.yaml\nauthor: me\npages:\n  - say: x\n", line: 3, column: 1, containing: "unknown key 'author'")
        expectError(lesson("  - ask: Q?\n    pick: step\n    answer: {leg: SYN, nod: tap2}\n"), line: 8, column: 24, containing: "unknown key 'nod'")
    }

    @Test func selectorsMustMatchTheTrace() {
        // tap2 transmits the SYN; it never receives it.
        expectError(lesson("  - say: x\n    show: {leg: SYN, node: tap2, direction: receive}\n"), line: 7, column: 11, containing: "matches no step")
        expectError(lesson("  - say: x\n    show: {leg: SYN, node: nowhere}\n"), line: 7, column: 28, containing: "unknown node 'nowhere'")
        expectError(lesson("  - say: x\n    show: {leg: FIN, node: tap2}\n"), line: 7, column: 17, containing: "has no leg 'FIN'")
        expectError(lesson("  - say: x\n    show: {flow: web, leg: SYN, node: tap2}\n"), line: 7, column: 18, containing: "no flow 'web'")
        expectError(lesson("  - ask: Q?\n    value: {leg: SYN, node: tap2, field: ip-summed}\n"), line: 7, column: 12, containing: "no value")
    }

    @Test func choicesNeedExactlyOneCorrect() {
        let two = "  - ask: Q?\n    choices:\n      - {text: a, correct: true}\n      - {text: b, correct: true}\n"
        expectError(lesson(two), line: 7, column: 5, containing: "exactly one choice")
        let one = "  - ask: Q?\n    choices:\n      - {text: a, correct: true}\n"
        expectError(lesson(one), line: 7, column: 5, containing: "2 to 9 choices")
        let none = "  - ask: Q?\n    choices:\n      - {text: a}\n      - {text: b, correct: maybe}\n"
        expectError(lesson(none), line: 9, column: 28, containing: "expects true or false")
    }

    @Test func pagesHaveOneKind() {
        expectError(lesson("  - say: x\n    task: y\n"), line: 7, column: 5, containing: "exactly one of 'say', 'ask' or 'task'")
        expectError(lesson("  - title: x\n"), line: 6, column: 5, containing: "exactly one of 'say', 'ask' or 'task'")
        expectError(lesson("  - ask: Q?\n"), line: 6, column: 5, containing: "exactly one of 'choices', 'pick' or 'value'")
    }

    @Test func assignmentsMustApply() {
        let task = """
          - task: Do it.
            goal: [{flow: ssh, verdict: fails}]
            solution: ["vm1.eth0.colour=blue"]

        """
        expectError(lesson(task), line: 8, column: 16, containing: "unknown interface setting 'colour'")
        let goal = """
          - task: Do it.
            goal: [{set: "br9.tx=off"}]
            solution: ["vm1.eth0.tx=off"]

        """
        expectError(lesson(goal), line: 7, column: 18, containing: "no node named 'br9'")
    }

    @Test func solutionsAndAttemptsAreSimulated() {
        // tx off on the bridge does nothing: it cannot be a solution of "make the SYN valid".
        let wrongSolution = """
          - task: Do it.
            goal: [{leg: SYN, node: tap1, field: valid, is: yes}]
            solution: ["br0.tx=off"]

        """
        expectError(lesson(wrongSolution), line: 8, column: 5, containing: "does not meet the goal")
        let solvedAttempt = """
          - task: Do it.
            goal: [{leg: SYN, node: tap1, field: valid, is: yes}]
            solution: ["vm1.eth0.tx=off"]
            attempts:
              - {set: ["vm1.eth0.tx=off"], feedback: never}

        """
        expectError(lesson(solvedAttempt), line: 10, column: 9, containing: "meets the goal")
        let nothingToDo = """
          - task: Do it.
            goal: [{flow: ssh, verdict: completes}]
            solution: ["vm1.eth0.tx=off"]

        """
        expectError(lesson(nothingToDo), line: 6, column: 5, containing: "already meets")
    }

    @Test func inlineLabErrorsAreAtTheirLinesInTheLessonFile() {
        let text = """
        lesson: 1
        lab:
          csumlab: 1
          nodes:
            vm1: {kind: vm, interfaces: {eth0: {address: 10.0.0.1/24}}}
            tap1: {kind: tapp}
        pages:
          - say: x

        """
        expectError(text, line: 6, column: 18, containing: "unknown kind 'tapp'")
    }

    @Test func anInlineLabLoads() throws {
        let text = """
        lesson: 1
        lab:
          csumlab: 1
          nodes:
            vm1: {kind: vm, interfaces: {eth0: {address: 10.0.0.1/24}}}
            vm2: {kind: vm, interfaces: {eth0: {address: 10.0.0.2/24}}}
            tap1: {kind: tap}
            tap2: {kind: tap}
            br0: {kind: bridge}
          links:
            - endpoints: ["vm1:eth0", "tap1"]
            - endpoints: ["tap1", "br0"]
            - endpoints: ["br0", "tap2"]
            - endpoints: ["tap2", "vm2:eth0"]
          flows:
            ping: {type: icmp, from: vm1, to: vm2}
        pages:
          - say: x
            show: {leg: echo request, node: br0}

        """
        let l = try LessonFile.parse(text, file: file)
        #expect(l.labPath == nil && l.defaultFlow == "ping" && l.lab.topology.nodes.count == 5)
    }

    @Test func aMissingLabFileIsReportedAtLab() {
        expectError(lesson("  - say: x\n", head: "lab: nowhere.yaml\n"), line: 3, column: 6, containing: "does not load")
    }

    @Test func controlCharactersInTextAreRefused() {
        expectError(lesson("  - say: \"a\\u001b[2Jb\"\n"), line: 6, column: 10, containing: "control character")
    }

    @Test func everyErrorAtOnceSorted() {
        let text = lesson("  - say: x\n    colour: red\n  - ask: Q?\n    choices: [{text: a}, {text: b}]\n  - say: y\n    show: {node: nowhere}\n")
        let ds = diagnostics(text)
        #expect(ds.count == 3, "\(ds)")
        #expect(ds.map(\.line) == ds.map(\.line).sorted())
    }
}

/// assets/lesson-format.md stays accurate: its example is a lesson that `check` accepts.
@Suite struct LessonFormatDocTests {
    @Test func theFormatExampleIsAValidLesson() throws {
        let doc = try FileText.read(repositoryRoot + "/assets/lesson-format.md")
        let start = try #require(doc.range(of: "```yaml\n"))
        let end = try #require(doc.range(of: "```", range: start.upperBound..<doc.endIndex))
        let example = String(doc[start.upperBound..<end.lowerBound])
        let l = try LessonFile.parse(example, file: shippedLessonDirectory + "/format-example.yaml")
        #expect(l.name == "seed-routed" && l.pages.count == 5 && l.flow == "ssh")
    }
}
