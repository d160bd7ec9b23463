/// EXTENSION POINT for timings other than the checksum kernels.
///
/// The kernel table (`KernelBench`) is fixed; anything else the project wants timed in the same
/// run — traces per second of each shipped topology, the `fix` sweep, the explorer's frames — is
/// a `BenchSuite` returned by `extraSuites()` below. A suite only says what one unit of work is;
/// `csumlab-bench` repeats it, takes medians over rounds, prints `units/s` and ms per unit,
/// checks an optional time goal and includes it all in `--json`. Add the module a suite needs to
/// the `csumlab-bench` target's dependencies in Package.swift; the kernels need no change.
protocol BenchSuite {
    /// A heading for the printed table, e.g. "topology traces".
    var name: String { get }
    /// Lines printed under the heading (what is measured, what is not, what does not exist yet).
    var notes: [String] { get }
    /// The notes when `--case` names only some cases (a suite whose notes measure per case
    /// measures only those; the default is every note).
    func notes(cases: [String]) -> [String]
    /// The timed cases, e.g. one per topology file.
    func cases() throws -> [BenchCase]
}

extension BenchSuite {
    var notes: [String] { [] }
    func notes(cases: [String]) -> [String] { notes }
}

/// One timed unit of work in a `BenchSuite`.
struct BenchCase {
    /// e.g. "seed-bridged.yaml".
    var name: String
    /// What one call of `run` does, for the printout: "trace", "sweep", "frame".
    var unit: String
    /// A goal from an issue: the median time of one unit must be at most this many
    /// milliseconds (`--check` prints PASS/FAIL for it).
    var goalMilliseconds: Double? = nil
    /// The goal is n/a in a debug build (the explorer's goals are for the release build).
    var releaseOnly = false
    /// Why the case cannot be measured here (the goal is then n/a): a missing tool, a debug build.
    var unavailable: String? = nil
    /// For work that times itself (a process in tmux): one sample in nanoseconds, or nil when
    /// it failed (timed out). When set, `run` is not used and each round takes one sample.
    var sample: (() -> Double?)? = nil
    /// Does one unit of work and returns any value derived from its result, so the optimiser
    /// cannot drop it.
    var run: () -> Int
}

/// Suites timed after the kernel table, in this order.
func extraSuites() -> [any BenchSuite] {
    [TopologyTraces(), FixSweep(), ExplorerFrames(), ExplorerFirstFrame()]
}
