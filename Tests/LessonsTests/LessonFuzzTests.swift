import Foundation
import Testing
import Lessons
import Simulation
import TestSupport
import TopologyFile

/// Mutations of the shipped lesson files through `LessonFile.parse` (issue 13, "Tests"): each
/// case ends in a lesson whose every selector locates a step and every check runs, or in errors
/// each located inside the text; never a crash or a hang.
///
/// Deterministic: case `n` draws from its own generator seeded by (seed, n), so one case replays
/// alone. Environment: `CSUMLAB_LESSON_FUZZ_CASES` (default 10,000), `CSUMLAB_FUZZ_SEED`,
/// `CSUMLAB_LESSON_FUZZ_CASE` (one case). The text of the case under way is kept in a scratch
/// file (printed at the start) so a crash leaves its input behind.
@Suite struct LessonFuzzTests {
    static let env = ProcessInfo.processInfo.environment
    static let cases = env["CSUMLAB_LESSON_FUZZ_CASES"].flatMap(Int.init) ?? 10_000
    static let seed = env["CSUMLAB_FUZZ_SEED"].flatMap { UInt64($0) } ?? 0x1E55_0A5F_0221
    static let only = env["CSUMLAB_LESSON_FUZZ_CASE"].flatMap(Int.init)

    static let shipped: [(path: String, text: String)] = shippedLessonPaths.map { ($0, (try? FileText.read($0)) ?? "") }

    /// Words of the lessons and of the labs they use, and values at the edges.
    static let vocabulary: [String] = {
        var words = Set<String>()
        var texts = shipped.map(\.text)
        for name in ["seed-bridged", "seed-routed-userspace", "seed-routed-netns"] {
            texts.append((try? FileText.read(repositoryRoot + "/topologies/\(name).yaml")) ?? "")
        }
        for text in texts {
            for w in text.split(whereSeparator: { !($0.isLetter || $0.isNumber || "_.:/-=".contains($0)) }) where w.count < 40 {
                words.insert(String(w))
            }
        }
        words.formUnion(["99999999999999999999999", "-1", "0", "10", "~", "null", "''", "\"\"", "日本", "on", "off", "yes",
                         "true", "false", "step", "node", "last", "first", "ip-summed", "l4-correct", "csum-start",
                         "valid", "condition", "partial", "echo request", "../../topologies/seed-routed-netns.yaml",
                         "/dev/zero", "/nonexistent.yaml", "../../topologies", "vm1.eth0.tx=off", "router.flavour=netns",
                         "{max: 0}", "{min: 3}", "[]", "{}", "is-not", "counter", "Tcp: InCsumErrors", "sent", "outcome"])
        return words.sorted()
    }()

    @Test func mutatedLessonsLoadOrFailWithALocatedError() async throws {
        try #require(Self.shipped.count >= 2, "shipped lessons not found")
        let range = Self.only.map { $0...$0 } ?? 0...(Self.cases - 1)
        let scratch = NSTemporaryDirectory() + "csumlab-lesson-fuzz-\(getpid())"
        print("lesson fuzz: seed \(Self.seed), cases \(range); the cases under way are in \(scratch)-*.yaml; replay one with CSUMLAB_FUZZ_SEED=\(Self.seed) CSUMLAB_LESSON_FUZZ_CASE=N")
        let lanes = min(4, range.count)
        let stats = await withTaskGroup(of: (Int, Int).self) { group in
            for lane in 0..<lanes {
                group.addTask {
                    var loaded = 0, refused = 0
                    for n in stride(from: range.lowerBound + lane, through: range.upperBound, by: lanes) {
                        if Self.run(case: n, scratch: "\(scratch)-\(lane).yaml") { loaded += 1 } else { refused += 1 }
                    }
                    return (loaded, refused)
                }
            }
            var total = (0, 0)
            for await s in group { total.0 += s.0; total.1 += s.1 }
            return total
        }
        for lane in 0..<lanes { unlink("\(scratch)-\(lane).yaml") }
        print("lesson fuzz: \(stats.0) loaded and exercised, \(stats.1) refused with located errors")
        if range.count >= 1_000 {
            #expect(stats.0 > range.count / 50 && stats.1 > range.count / 2)
        }
    }

    /// One case; true when the mutated text loads.
    static func run(case n: Int, scratch: String) -> Bool {
        var rng = SplitMix(state: seed ^ (UInt64(n) &* 0x9E37_79B9_7F4A_7C15))
        let base = shipped[n % shipped.count]
        let (text, kinds) = mutate(base.text, &rng)
        if let f = fopen(scratch, "wb") {
            fputs("# lesson fuzz case \(n) of seed \(seed) (\(base.path): \(kinds.joined(separator: ", ")))\n", f)
            fputs(text, f)
            fclose(f)
        }
        let what = Comment(rawValue: "case \(n) (seed \(seed), \(base.path): \(kinds.joined(separator: ", ")))")
        do {
            let l = try LessonFile.parse(text, file: base.path)
            // Simulating again is the slow part: every seventh lesson that loads.
            if n % 7 == 0 { exercise(l, what) }
            return true
        } catch {
            let lines = YAMLMutations.lineLengths(text)
            #expect(!error.diagnostics.isEmpty, what)
            for d in error.diagnostics {
                let inside = d.line >= 1 && d.line <= lines.count && d.column >= 1 && d.column <= lines[d.line - 1] + 1
                #expect(inside && d.file == base.path, "\(what): \(d) is outside the text (\(lines.count) lines)")
                #expect(!d.description.unicodeScalars.contains(where: FreeTextRule.isControl), "\(what): \(d.description.debugDescription)")
            }
            return false
        }
    }

    /// A lesson that loads is usable: every selector locates a step, every check answers.
    static func exercise(_ l: Lesson, _ what: Comment) {
        guard let trace = try? Simulator(l.lab.topology).run() else {
            Issue.record("\(what): the lesson's lab does not trace")
            return
        }
        let flow = l.defaultFlow
        #expect(!l.pages.isEmpty, what)
        for p in l.pages {
            if case let .step(s)? = p.show { #expect(s.locate(in: trace, defaultFlow: flow) != nil, what) }
            switch p.content {
            case .say: break
            case let .choice(q):
                #expect(q.choices.indices.filter { LessonCheck.choice(q, index: $0).correct }.count == 1, what)
            case let .pick(q):
                if case let .step(s) = q.answer {
                    let loc = s.locate(in: trace, defaultFlow: flow)
                    #expect(loc != nil && LessonCheck.pick(q, step: loc, node: s.node, trace: trace, defaultFlow: flow).correct, what)
                } else {
                    #expect(q.kind == .step || LessonCheck.pick(q, step: nil, node: q.answer.node, trace: trace, defaultFlow: flow).correct, what)
                }
            case let .value(q):
                let v = q.reference.value(in: trace, defaultFlow: flow)
                #expect(v != nil && LessonCheck.value(q, typed: v ?? "", trace: trace, defaultFlow: flow).correct, what)
            case let .task(t):
                var solved = l.lab.topology
                for a in t.solution { try? solved.apply(assignment: a) }
                if let st = try? Simulator(solved).run() {
                    #expect(LessonCheck.task(t, live: solved, trace: st, changes: t.solution.count, defaultFlow: flow).met, what)
                } else {
                    Issue.record("\(what): a solution that check accepted does not trace")
                }
            }
        }
    }

    // MARK: Mutations

    static func mutate(_ text: String, _ rng: inout SplitMix) -> (String, [String]) {
        var b = Array(text.utf8)
        var kinds: [String] = []
        for _ in 0..<Int.random(in: 1...3, using: &rng) {
            switch Int.random(in: 0..<1000, using: &rng) {
            case 0..<350: kinds.append("word"); m.replaceWord(&b, from: vocabulary, &rng)
            case 350..<450: kinds.append("flip"); m.flip(&b, &rng)
            case 450..<550: kinds.append("delete-line"); m.deleteLine(&b, &rng)
            case 550..<650: kinds.append("duplicate-line"); m.duplicateLine(&b, &rng)
            case 650..<720: kinds.append("control"); insertControl(&b, &rng)
            case 720..<760: kinds.append("anchor"); insertAnchor(&b, &rng)
            case 760..<800: kinds.append("truncate"); if !b.isEmpty { b.removeLast(Int.random(in: 0...b.count, using: &rng)) }
            case 800..<850: kinds.append("unicode"); m.insertUnicode(&b, &rng)
            case 850..<900: kinds.append("deep"); b += Array(("\npages2: " + String(repeating: "[", count: [5, 65, 500].randomElement(using: &rng)!) + "\n").utf8)
            default: kinds.append("indent"); m.shiftIndent(&b, &rng)
            }
        }
        return (String(decoding: b, as: UTF8.self), kinds)
    }

    /// Word characters include `=`, so an assignment (`vm1.eth0.tx=off`) is one word.
    static let m = YAMLMutations(extraWordBytes: [UInt8(ascii: "=")])

    static let controls = ["\0", "\u{1B}", "\u{7}", "\u{7F}", "\u{85}", "\u{9B}", "\r", "\t", "\u{2028}", "\u{FEFF}", "\u{1B}[2J"]

    static func insertControl(_ b: inout [UInt8], _ rng: inout SplitMix) {
        let c = controls.randomElement(using: &rng)!
        let at = m.randomWord(b, &rng)?.upperBound ?? Int.random(in: 0...b.count, using: &rng)
        b.insert(contentsOf: Array(c.utf8), at: at)
    }

    static func insertAnchor(_ b: inout [UInt8], _ rng: inout SplitMix) {
        guard let r = m.randomWord(b, &rng) else { return }
        b.insert(contentsOf: Array(["&x ", "*x", "& ", "*"].randomElement(using: &rng)!.utf8), at: r.lowerBound)
    }
}
