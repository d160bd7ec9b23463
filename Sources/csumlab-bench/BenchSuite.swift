/// EXTENSION POINT for timings other than the checksum kernels.
///
/// The kernel table (`KernelBench`) is fixed; anything else the project wants timed in the same
/// run — traces per second of each shipped topology, the `fix` sweep, the explorer's render of a
/// frame — is a `BenchSuite` returned by `extraSuites()` below. A suite only says what one unit of
/// work is; `csumlab-bench` repeats it, takes medians over rounds, prints `units/s` and includes
/// it in `--json`. Add the module the suite needs (e.g. `Simulation`, `TopologyFile`) to the
/// `csumlab-bench` target's dependencies in Package.swift; the kernels need no change.
protocol BenchSuite {
    /// A heading for the printed table, e.g. "topology traces".
    var name: String { get }
    /// The timed cases, e.g. one per topology file.
    func cases() throws -> [BenchCase]
}

/// One timed unit of work in a `BenchSuite`.
struct BenchCase {
    /// e.g. "bridged-veth.yaml".
    var name: String
    /// What one call of `run` does, for the printout: "trace", "sweep", "frame".
    var unit: String
    /// Does one unit of work and returns any value derived from its result, so the optimiser
    /// cannot drop it.
    var run: () -> Int
}

/// Suites timed after the kernel table (add yours to the returned list). Empty today: the simulation does not exist yet. Example
/// of what goes here later:
///
///     struct TopologyTraces: BenchSuite {
///         let name = "topology traces"
///         func cases() throws -> [BenchCase] {
///             try shippedTopologies().map { file in
///                 let topo = try TopologyFile.load(file)
///                 return BenchCase(name: file.name, unit: "trace") { Simulator(topo).run().steps.count }
///             }
///         }
///     }
func extraSuites() -> [any BenchSuite] {
    []
}
