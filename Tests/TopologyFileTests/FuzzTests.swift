import Foundation
import Testing
import Simulation
import TestSupport
@testable import TopologyFile

/// Mutations of every shipped topology through the loader and, when one loads, the simulator
/// (issue 10, "Tests"). Each case must end in a located error (a line and column inside the text)
/// or a load whose every flow traces; never a crash or a hang.
///
/// Deterministic: case `n` draws from its own generator seeded by (seed, n), so one case replays
/// alone. Environment: `CSUMLAB_FUZZ_CASES` (default 10,000), `CSUMLAB_FUZZ_SEED`, and
/// `CSUMLAB_FUZZ_CASE` to run a single case. The text of the case under way is kept in a file
/// (printed at the start) so a crash leaves its input behind; a watchdog thread aborts with the
/// case number if one case runs for a minute (work is bounded by counting, so this is only there
/// to turn a hang into a failure).
@Suite struct FuzzTests {
    static let env = ProcessInfo.processInfo.environment
    static let cases = env["CSUMLAB_FUZZ_CASES"].flatMap(Int.init) ?? 10_000
    static let seed = env["CSUMLAB_FUZZ_SEED"].flatMap { UInt64($0) } ?? 0x5EED_C5A1_AB
    static let only = env["CSUMLAB_FUZZ_CASE"].flatMap(Int.init)

    static let shipped: [(name: String, text: String)] = {
        var parts = #filePath.split(separator: "/", omittingEmptySubsequences: false)
        parts.removeLast(3)
        let dir = parts.joined(separator: "/") + "/topologies"
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).filter { $0.hasSuffix(".yaml") }.sorted()
        return names.map { ($0, (try? FileText.read(dir + "/" + $0)) ?? "") }
    }()

    /// Words of the shipped files (names, kinds, settings, values) and values at the edges.
    static let vocabulary: [String] = {
        var words = Set<String>()
        for (_, text) in shipped {
            for w in text.split(whereSeparator: { !isWordCharacter($0) }) where w.count < 40 { words.insert(String(w)) }
        }
        words.formUnion(["99999999999999999999999", "9223372036854775807", "-9223372036854775808", "18446744073709551616",
                         "1e309", "-1", "0", "65535", "65536", "4294967296", "0x10", ".inf", "-.nan", "~", "null", "''",
                         "\"\"", "日本", "e\u{301}", "on", "off", "yes", "fd00::ffff:1/128", "0.0.0.0/0", "255.255.255.255/32"])
        return words.sorted()
    }()

    static func isWordCharacter(_ c: Character) -> Bool {
        c.isLetter || c.isNumber || "_.:/-".contains(c)
    }

    @Test func mutatedTopologiesLoadOrFailWithALocatedError() async throws {
        try #require(Self.shipped.count >= 20, "shipped topologies not found")
        let range = Self.only.map { $0...$0 } ?? 0...(Self.cases - 1)
        let scratch = NSTemporaryDirectory() + "csumlab-fuzz-\(getpid())"
        print("fuzz: seed \(Self.seed), cases \(range), \(Self.shipped.count) topologies; the cases under way are in \(scratch)-*.yaml; replay one with CSUMLAB_FUZZ_SEED=\(Self.seed) CSUMLAB_FUZZ_CASE=N")
        // Cases are independent: run them in a few interleaved lanes.
        let lanes = min(8, range.count)
        let watchdog = Watchdog(lanes: lanes, scratch: scratch)
        watchdog.start()
        let stats = await withTaskGroup(of: Stats.self) { group in
            for lane in 0..<lanes {
                group.addTask {
                    var stats = Stats()
                    for n in stride(from: range.lowerBound + lane, through: range.upperBound, by: lanes) {
                        Self.run(case: n, lane: lane, watchdog: watchdog, stats: &stats)
                    }
                    watchdog.finish(lane: lane)
                    return stats
                }
            }
            var total = Stats()
            for await s in group { total.add(s) }
            return total
        }
        watchdog.stop()
        for lane in 0..<lanes { unlink("\(scratch)-\(lane).yaml") }
        print("fuzz: \(stats.loaded) loaded and traced, \(stats.refused) refused with located errors, \(stats.compared) compared with Yams")
        // A fuzzer that only ever produces errors (or only loads) tests little.
        if range.count >= 1_000 {
            #expect(stats.loaded > range.count / 50 && stats.refused > range.count / 2)
        }
    }

    static func run(case n: Int, lane: Int, watchdog: Watchdog, stats: inout Stats) {
        var rng = SplitMix(state: seed ^ (UInt64(n) &* 0x9E37_79B9_7F4A_7C15))
        let base = shipped[n % shipped.count]
        let (text, kinds) = mutate(base.text, &rng)
        watchdog.begin(lane: lane, case: n)
        // Left behind if the case crashes the process.
        if let f = fopen("\(watchdog.scratch)-\(lane).yaml", "wb") {
            fputs("# fuzz case \(n) of seed \(seed) (\(base.name): \(kinds.joined(separator: ", ")))\n", f)
            fputs(text, f)
            fclose(f)
        }
        check(text, case: n, base: base.name, kinds: kinds, stats: &stats)
    }

    struct Stats {
        var loaded = 0
        var refused = 0
        var compared = 0

        mutating func add(_ o: Stats) {
            loaded += o.loaded
            refused += o.refused
            compared += o.compared
        }
    }

    static func check(_ text: String, case n: Int, base: String, kinds: [String], stats: inout Stats) {
        let what = Comment(rawValue: "case \(n) (seed \(seed), \(base): \(kinds.joined(separator: ", ")))")
        // What the text still holds after all mutations (a truncation may have cut a bomb off).
        let hasBomb = text.contains("&a0 [x, x")
        let oversized = text.utf8.count > YAMLGate.maxBytes
        do {
            let loaded = try TopologyFile.parse(text, file: "fuzz.yaml")
            stats.loaded += 1
            #expect(!hasBomb && !oversized, what)
            do {
                let trace = try Simulator(loaded.topology).run()
                #expect(trace.flows.count == loaded.topology.flows.count, what)
            } catch {
                Issue.record("\(what): a validated topology does not trace: \(error)")
            }
        } catch {
            stats.refused += 1
            let lines = YAMLMutations.lineLengths(text)
            #expect(!error.diagnostics.isEmpty, what)
            for d in error.diagnostics {
                let inside = d.line >= 1 && d.line <= lines.count && d.column >= 1 && d.column <= lines[d.line - 1] + 1
                #expect(inside && d.file == "fuzz.yaml", "\(what): \(d) is outside the text (\(lines.count) lines)")
                #expect(!d.description.unicodeScalars.contains(where: FreeTextRule.isControl), "\(what): \(d.description.debugDescription)")
            }
        }
        // The gate against Yams itself, where Yams can be run safely (no bombs, no huge texts).
        // (Every third case: Yams is the slow part of a debug build.)
        if n % 3 == 0 && !hasBomb && !oversized && !kinds.contains("deep") && !kinds.contains("large") {
            let gate = YAMLGate.check(text)
            let refusedAnchor = gate?.message.contains("not supported") == true
            if let yams = yamsSeesAnchorOrAlias(text) {
                stats.compared += 1
                if gate == nil { #expect(!yams, "\(what): the gate let an anchor or alias through") }
                if refusedAnchor { #expect(yams, "\(what): the gate refused text as an anchor at \(gate!.line):\(gate!.column)") }
            }
        }
    }

    // MARK: Mutations

    static let m = YAMLMutations()

    static func mutate(_ text: String, _ rng: inout SplitMix) -> (String, [String]) {
        var bytes = Array(text.utf8)
        var kinds: [String] = []
        let count = Int.random(in: 1...3, using: &rng)
        for _ in 0..<count {
            let roll = Int.random(in: 0..<1000, using: &rng)
            switch roll {
            case 0..<220: kinds.append("word"); m.replaceWord(&bytes, from: vocabulary, &rng)
            case 220..<340: kinds.append("flip"); m.flip(&bytes, &rng)
            case 340..<420: kinds.append("delete-line"); m.deleteLine(&bytes, &rng)
            case 420..<500: kinds.append("duplicate-line"); m.duplicateLine(&bytes, &rng)
            case 500..<600: kinds.append("control"); insertControl(&bytes, &rng)
            case 600..<680: kinds.append("bomb"); insertBomb(&bytes, &rng)
            case 680..<740: kinds.append("anchor"); insertAnchorOrAlias(&bytes, &rng)
            case 740..<800: kinds.append("number"); replaceNumber(&bytes, &rng)
            case 800..<850: kinds.append("deep"); insertDeep(&bytes, &rng)
            case 850..<900: kinds.append("truncate"); bytes.removeLast(Int.random(in: 0...bytes.count, using: &rng))
            case 900..<960: kinds.append("unicode"); m.insertUnicode(&bytes, &rng)
            default: kinds.append("indent"); m.shiftIndent(&bytes, &rng)
            }
        }
        // Large inputs last (so no other mutation walks them), and rarely: they are slow to build.
        let roll = Int.random(in: 0..<1000, using: &rng)
        if roll < 4 {
            kinds.append("oversized")
            bytes += Array("\n# ".utf8) + [UInt8](repeating: UInt8(ascii: "x"), count: YAMLGate.maxBytes)
        } else if roll < 5 {
            kinds.append("large")
            bytes += Array("\nextra:\n".utf8)
            for i in 0..<20_000 { bytes += Array("  k\(i): [\(i), \(i)]\n".utf8) }
        }
        return (String(decoding: bytes, as: UTF8.self), kinds)
    }








    static let controls: [String] = ["\0", "\u{1B}", "\u{7}", "\u{8}", "\u{7F}", "\u{85}", "\u{9B}", "\r", "\t", "\u{2028}",
                                     "\u{FEFF}", "\u{1B}]0;PWNED\u{7}", "\u{1B}[2J", "\\e", "\\0", "\\x9b", "\\u2028", "\\a"]

    static func insertControl(_ b: inout [UInt8], _ rng: inout SplitMix) {
        let c = controls.randomElement(using: &rng)!
        let word = m.randomWord(b, &rng)
        // Inside a word (a name, a value), or anywhere.
        let at = word == nil || Bool.random(using: &rng) ? Int.random(in: 0...b.count, using: &rng) : word!.upperBound
        if c.hasPrefix("\\") {
            // An escape is a control character only inside double quotes: quote a word with it.
            if let r = word {
                b.replaceSubrange(r, with: Array(("\"" + String(decoding: b[r], as: UTF8.self) + c + "\"").utf8))
            }
        } else {
            b.insert(contentsOf: Array(c.utf8), at: at)
        }
    }

    /// The issue's bomb: `levels` anchored lists, each nine aliases of the one before, then the
    /// last used as a value or as a key, at the top level or inside a node.
    static func insertBomb(_ b: inout [UInt8], _ rng: inout SplitMix) {
        let levels = Int.random(in: 1...12, using: &rng)
        let nested = Bool.random(using: &rng)
        let pad = nested ? "    " : ""
        var s = nested ? "  bomb:\n" : ""
        s += "\(pad)a0: &a0 [x, x, x, x, x, x, x, x, x]\n"
        for i in 1..<max(levels, 1) {
            s += "\(pad)a\(i): &a\(i) [" + Array(repeating: "*a\(i - 1)", count: 9).joined(separator: ", ") + "]\n"
        }
        let last = "a\(max(levels, 1) - 1)"
        s += Bool.random(using: &rng) ? "\(pad)? *\(last)\n\(pad): v\n" : "\(pad)z: *\(last)\n"
        let text = String(decoding: b, as: UTF8.self)
        if nested, let r = text.range(of: "\nnodes:\n") {
            let at = text.utf8.distance(from: text.utf8.startIndex, to: r.upperBound.samePosition(in: text.utf8)!)
            b.insert(contentsOf: Array(s.utf8), at: at)
        } else {
            b += Array(("\n" + s).utf8)
        }
    }

    static func insertAnchorOrAlias(_ b: inout [UInt8], _ rng: inout SplitMix) {
        guard let r = m.randomWord(b, &rng) else { return }
        let forms = ["&x ", "*x", "&x", "*x ", "& ", "* ", "&", "*"]
        b.insert(contentsOf: Array(forms.randomElement(using: &rng)!.utf8), at: Bool.random(using: &rng) ? r.lowerBound : r.upperBound)
    }

    static func replaceNumber(_ b: inout [UInt8], _ rng: inout SplitMix) {
        // The first number at or after a random byte.
        var r: Range<Int>?
        var from = b.isEmpty ? 0 : Int.random(in: 0..<b.count, using: &rng)
        while r == nil && from < b.count {
            while from < b.count && !(b[from] >= 0x30 && b[from] <= 0x39) { from += 1 }
            var end = from
            while end < b.count && m.isWord(b[end]) { end += 1 }
            if from < end && b[from..<end].allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) && (from == 0 || !m.isWord(b[from - 1])) { r = from..<end }
            from = end
        }
        guard let r else { return }
        let huge = ["99999999999999999999999", "9223372036854775807", "-9223372036854775808", "18446744073709551616",
                    "4294967295", "65535", "65536", "9000", "89", "88", "65000", "65001", "1e309", "-0", "00022", "0"]
        b.replaceSubrange(r, with: Array(huge.randomElement(using: &rng)!.utf8))
    }

    static func insertDeep(_ b: inout [UInt8], _ rng: inout SplitMix) {
        let depth = [3, 30, 63, 64, 65, 200, 5000].randomElement(using: &rng)!
        let open = Bool.random(using: &rng) ? "[" : "{a: "
        let close = open == "[" ? "]" : "}"
        let s = "\ndeep: " + String(repeating: open, count: depth) + "x" + String(repeating: close, count: depth) + "\n"
        b += Array(s.utf8)
    }


}

/// Aborts the process, naming the cases under way, when a case has begun and none has finished
/// for a minute.
final class Watchdog: @unchecked Sendable {
    private let lock = NSLock()
    private var current: [Int]
    private var progress = Date()
    private var running = true
    let scratch: String

    init(lanes: Int, scratch: String) {
        current = Array(repeating: -1, count: lanes)
        self.scratch = scratch
    }

    func start() {
        Thread.detachNewThread { [self] in
            while true {
                Thread.sleep(forTimeInterval: 1)
                lock.lock()
                let (cases, since, live) = (current, progress, running)
                lock.unlock()
                if !live { return }
                // Only a lane that is running a case can hang: on a loaded machine lanes may
                // wait a long time for a thread of the test pool before their first case or
                // after their last (CI once aborted here with every lane still at -1).
                if cases.contains(where: { $0 >= 0 }) && Date().timeIntervalSince(since) > 60 {
                    FileHandle.standardError.write("fuzz: no case finished for a minute (a hang) in cases \(cases); their inputs are in \(scratch)-*.yaml\n".data(using: .utf8)!)
                    abort()
                }
            }
        }
    }

    func begin(lane: Int, case n: Int) {
        lock.lock()
        current[lane] = n
        progress = Date()
        lock.unlock()
    }

    /// The lane has run all its cases: it can no longer hang (the group may still wait a long
    /// time for a thread of the test pool to collect it).
    func finish(lane: Int) {
        lock.lock()
        current[lane] = -1
        lock.unlock()
    }

    func stop() {
        lock.lock()
        running = false
        lock.unlock()
    }
}
