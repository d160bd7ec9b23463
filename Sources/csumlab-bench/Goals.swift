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

/// Results of the `extraSuites`.
struct SuiteResult {
    var suite: String
    var name: String
    var unit: String
    var perSecond: Double
}

/// Times every case of every extra suite: each round runs a case for about 20 ms; the median
/// rate over rounds is reported.
func runExtraSuites(rounds: Int) -> [SuiteResult] {
    var results: [SuiteResult] = []
    for suite in extraSuites() {
        let cases: [BenchCase]
        do { cases = try suite.cases() } catch {
            printError("csumlab-bench: suite \(suite.name): \(error)")
            continue
        }
        var rates: [String: [Double]] = [:]
        var sink = 0
        for _ in 0..<rounds {
            for c in cases {
                var n = 0
                let t0 = nowNanoseconds()
                var t1 = t0
                while t1 - t0 < 20_000_000 {
                    sink &+= c.run()
                    n += 1
                    t1 = nowNanoseconds()
                }
                rates[c.name, default: []].append(Double(n) * 1e9 / Double(t1 - t0))
            }
        }
        for c in cases {
            results.append(SuiteResult(suite: suite.name, name: c.name, unit: c.unit, perSecond: median(rates[c.name]!)))
        }
        if sink == 42 { printError("") }
    }
    return results
}
