import Checksum

/// A goal of issue 4, evaluated from one run's medians.
struct Goal {
    enum Status: String { case pass, fail, na = "n/a" }
    var name: String
    var value: Double?
    var comparison: String
    var target: Double
    var status: Status
}

/// The goals: at 1500 B and 64 KiB the fastest path (`auto`) ≥ 3× the Linux-like peer and each
/// SIMD path ≥ 1.0× the strongest peer of its ISA; at 64 MiB `auto` ≥ 0.95× the read floor;
/// `portable` ≥ 1.25× Linux-like at 1500 B; `auto` at 20 B within 10 % of a plain inlined loop
/// (ns/call ratio ≤ 1.10). A SIMD path this CPU lacks is n/a.
func evaluateGoals(cell: (String, String) -> Cell?) -> [Goal] {
    var goals: [Goal] = []
    func ratio(_ name: String, _ a: String, _ b: String, _ size: String, atLeast target: Double, isa: ChecksumEngine.Path? = nil) {
        if let isa, !ChecksumEngine.availablePaths.contains(isa) {
            goals.append(Goal(name: name, value: nil, comparison: "≥", target: target, status: .na))
            return
        }
        guard let x = cell(a, size), let y = cell(b, size) else {
            goals.append(Goal(name: name, value: nil, comparison: "≥", target: target, status: .na))
            return
        }
        let r = x.gbps / y.gbps
        goals.append(Goal(name: name, value: r, comparison: "≥", target: target, status: r >= target ? .pass : .fail))
    }
    let peer512 = cell("peer avx512 (vnni)", "1500 B") != nil ? "peer avx512 (vnni)" : "peer avx512"
    for size in ["1500 B", "64 KiB"] {
        ratio("\(size): csumlab auto ÷ peer linux-like", "csumlab auto", "peer linux-like", size, atLeast: 3.0)
        ratio("\(size): csumlab avx2 ÷ peer avx2", "csumlab avx2", "peer avx2", size, atLeast: 1.0, isa: .avx2)
        ratio("\(size): csumlab avx512 ÷ \(peer512)", "csumlab avx512", peer512, size, atLeast: 1.0, isa: .avx512)
    }
    ratio("64 MiB: csumlab auto ÷ read floor", "csumlab auto", "read floor", "64 MiB", atLeast: 0.95)
    ratio("1500 B: csumlab portable ÷ peer linux-like", "csumlab portable", "peer linux-like", "1500 B", atLeast: 1.25)
    if let a = cell("csumlab auto", "20 B"), let p = cell("plain inlined loop", "20 B") {
        let r = a.nsPerCall / p.nsPerCall
        goals.append(Goal(name: "20 B: csumlab auto ns/call ÷ plain inlined loop", value: r, comparison: "≤",
                          target: 1.10, status: r <= 1.10 ? .pass : .fail))
    }
    return goals
}

/// Release-only goals are n/a in a debug build.
let isDebugBuild: Bool = {
    #if DEBUG
    return true
    #else
    return false
    #endif
}()

/// Results of the `extraSuites`.
struct SuiteResult {
    var suite: String
    var name: String
    var unit: String
    /// Median over rounds; nil when the case could not be measured (`unavailable`).
    var perSecond: Double?
    /// The slowest round's time per unit, ms.
    var worstMilliseconds: Double?
    var goalMilliseconds: Double?
    var releaseOnly = false
    var unavailable: String?
    /// Rounds whose sample failed (a timeout in tmux).
    var failedSamples = 0

    var milliseconds: Double? { perSecond.map { 1000 / $0 } }

    /// PASS/FAIL/n/a of the time goal, if there is one.
    var goal: Goal? {
        guard let target = goalMilliseconds else { return nil }
        let label = "\(suite): \(name) ms/\(unit)"
        guard unavailable == nil, !(releaseOnly && isDebugBuild), let ms = milliseconds, failedSamples == 0 else {
            return Goal(name: label, value: milliseconds, comparison: "≤", target: target, status: .na)
        }
        return Goal(name: label, value: ms, comparison: "≤", target: target, status: ms <= target ? .pass : .fail)
    }
}

/// The notes and results of one suite.
struct SuiteReport {
    var name: String
    var notes: [String]
    var results: [SuiteResult]
    var error: String?
}

/// Times every case of every extra suite, round by round (every case once per round, in order):
/// a `run` case repeats its unit for about 20 ms and records the mean; a `sample` case takes one
/// sample. The median over rounds is reported, and the slowest round.
/// `only`, `cases`: run just the suites (the cases) whose name contains one of these strings
/// (all when empty).
func runExtraSuites(rounds: Int, only: [String] = [], cases caseFilter: [String] = []) -> [SuiteReport] {
    var reports: [SuiteReport] = []
    for suite in extraSuites() where only.isEmpty || only.contains(where: { suite.name.contains($0) }) {
        var cases: [BenchCase]
        do { cases = try suite.cases() } catch {
            reports.append(SuiteReport(name: suite.name, notes: suite.notes, results: [], error: "\(error)"))
            continue
        }
        if !caseFilter.isEmpty {
            cases = cases.filter { c in caseFilter.contains { c.name.contains($0) } }
            if cases.isEmpty { continue }
        }
        var times: [String: [Double]] = [:] // ns per unit
        var failed: [String: Int] = [:]
        var sink = 0
        for round in 0...rounds { // round 0 warms up and is discarded
            for c in cases where c.unavailable == nil {
                if let sample = c.sample {
                    guard let ns = sample() else { failed[c.name, default: 0] += round > 0 ? 1 : 0; continue }
                    if round > 0 { times[c.name, default: []].append(ns) }
                    continue
                }
                var n = 0
                let t0 = nowNanoseconds()
                var t1 = t0
                while t1 - t0 < 20_000_000 {
                    sink &+= c.run()
                    n += 1
                    t1 = nowNanoseconds()
                }
                if round > 0 { times[c.name, default: []].append(Double(t1 - t0) / Double(n)) }
            }
        }
        let results = cases.map { c in
            let ts = times[c.name] ?? []
            return SuiteResult(suite: suite.name, name: c.name, unit: c.unit,
                               perSecond: ts.isEmpty ? nil : 1e9 / median(ts),
                               worstMilliseconds: ts.max().map { $0 / 1e6 },
                               goalMilliseconds: c.goalMilliseconds, releaseOnly: c.releaseOnly,
                               unavailable: c.unavailable ?? (ts.isEmpty ? "every sample failed" : nil),
                               failedSamples: failed[c.name] ?? 0)
        }
        reports.append(SuiteReport(name: suite.name, notes: suite.notes(cases: caseFilter), results: results))
        if sink == 42 { printError("") }
    }
    return reports
}
