import Checksum
import Simulation
import TopologyFile

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Traces per second of each shipped topology: the file is loaded and validated once
/// (`TopologyFile.load(path:)`) and its `Simulator` built once, then one unit is its `run()` —
/// every flow of the topology, every leg, every step, with the checksums the model computes on
/// the way (seed-routed-netns also with the simulator built per trace, and with every step's
/// facts read as a printed trace reads them).
struct TopologyTraces: BenchSuite {
    let name = "topology traces"
    var notes: [String] {
        ["one trace = run() of a Simulator(topology) built once (the network is resolved in its init): every flow of the file; loading and validating the YAML is not timed",
         "under each file, its checksum work floor (issue 12): one unit = InternetChecksum.sum over the frame of every step the trace records, once each (the least a walk that looks at each step's frame could do), in traces/s; trace ÷ floor = how many times the floor a trace costs",
         "topologies from \(shippedTopologiesDirectory() ?? "(not found)")"]
    }

    func cases() throws -> [BenchCase] {
        guard let dir = shippedTopologiesDirectory() else { throw MissingTopologies() }
        return try yamlFiles(in: dir).flatMap { file in
            let loaded = try TopologyFile.load(path: dir + "/" + file)
            let sim = Simulator(loaded.topology)
            // A topology that does not simulate is a bug the tests catch; here it counts as 0 steps.
            let trace = BenchCase(name: file, unit: "trace") {
                guard let t = try? sim.run() else { return 0 }
                var steps = 0
                for f in t.flows { for leg in f.legs { steps &+= leg.steps.count } }
                return steps
            }
            let frames = (try? sim.run())?.flows.flatMap { $0.legs.flatMap { $0.steps.map(\.frame) } } ?? []
            let floor = BenchCase(name: file + " floor", unit: "trace") {
                var s: UInt32 = 0
                for f in frames { s &+= InternetChecksum.sum(f) }
                return Int(s)
            }
            guard file == "seed-routed-netns.yaml" else { return [trace, floor] }
            // The unit above runs a simulator built once (its network resolved once); this one
            // builds the simulator, and so the network, for every trace, as a changed lab needs.
            let fresh = BenchCase(name: file + " (simulator built per trace)", unit: "trace") {
                guard let t = try? Simulator(loaded.topology).run() else { return 0 }
                return t.flows.count
            }
            // A step's checksum facts, addresses and changed bytes are worked out when read
            // (`Step.facts`), so the units above do not pay for them; this one reads every
            // step's once, as `csumlab trace` printing the whole trace (text or JSON) does.
            let shown = BenchCase(name: file + " (built per trace, every step's facts read)", unit: "trace") {
                guard let t = try? Simulator(loaded.topology).run() else { return 0 }
                var h = 0
                for f in t.flows {
                    for leg in f.legs {
                        for st in leg.steps {
                            let f = st.facts
                            h &+= Int(f.l4Field) &+ Int(f.l4Correct) &+ Int(f.l4PseudoSum) &+ (f.condition == .completeValid ? 1 : 0)
                            h &+= f.source.utf8.count &+ f.destination.utf8.count &+ st.changedBytes.count &+ Int(f.ttl)
                            h &+= (f.ipFragments ?? 0) &+ (f.inner?.offset ?? 0)
                        }
                    }
                }
                return h
            }
            return [trace, floor, fresh, shown]
        }
    }
}

/// `csumlab fix` on every shipped topology: one unit is `FixSearch.run(maxChanges: 3)` with the
/// file validator as `fix` runs it (issue 12's goal: at most 0.5 s each, release build). The notes
/// add, per lab that needs a fix, the sweep's time against (variants simulated × one full trace of
/// the lab), measured here in the same run: the pruning (flows that cannot change are reused, a
/// variant stops at its first failing flow) shows as a ratio below 1 (goal ≤ 0.5). The ratio's
/// sweeps use one walker, so the parallel walkers `fix` uses on a multi-core host do not count
/// toward it; the per-lab times (the 0.5 s goal) are measured as `fix` runs.
struct FixSweep: BenchSuite {
    let name = "fix sweep"

    var notes: [String] { notes(cases: []) }

    /// The sweep ratio of each lab `cases` names (every lab when empty).
    func notes(cases: [String]) -> [String] {
        guard let dir = shippedTopologiesDirectory(), let files = try? yamlFiles(in: dir) else { return ["topologies not found"] }
        var out = ["one sweep = FixSearch(topology).run(maxChanges: 3), as `csumlab fix` runs it: \(FixSearch.defaultWorkers) walker(s) on this machine's CPUs (FixSearch.defaultWorkers)",
                   "the ratios below walk with one walker (the time is one thread's work, not the wall clock of several), so they compare walk costs"]
        for file in files where cases.isEmpty || cases.contains(where: { file.contains($0) }) {
            guard let loaded = try? TopologyFile.load(path: dir + "/" + file),
                  let search = try? Self.search(loaded) else { continue }
            guard let first = search.run(maxChanges: 3, proveFailures: true, workers: 1), !first.baseline.allWork else { continue }
            // A full trace of a variant is a simulator built from its topology and run (the
            // network resolved from scratch), as a sweep without shortcuts would do it.
            let topology = loaded.topology
            // Sweep and full traces alternate until each has taken ≥ 100 ms and three pairs are
            // done; the median of the pairs' ratios is printed (a busy host slows both sides).
            var sweeps: [Double] = [], fulls: [Double] = [], ratios: [Double] = []
            var evaluated = first.evaluated
            let decided = first.decided
            while ratios.count < 3 || sweeps.reduce(0, +) < 1e8 || fulls.reduce(0, +) < 1e8 {
                let t0 = nowNanoseconds()
                evaluated = search.run(maxChanges: 3, proveFailures: true, workers: 1)?.evaluated ?? 0
                let sweep = Double(nowNanoseconds() - t0)
                let t1 = nowNanoseconds()
                for _ in 0..<evaluated { _ = try? Simulator(topology).run() }
                let full = Double(nowNanoseconds() - t1)
                sweeps.append(sweep); fulls.append(full); ratios.append(sweep / full)
                if ratios.count >= 41 { break }
            }
            let ratio = ratios.sorted()[ratios.count / 2]
            let sweep = sweeps.sorted()[sweeps.count / 2], full = fulls.sorted()[fulls.count / 2]
            out.append("\(file): \(evaluated) variants walked (\(decided) more decided without a walk, not counted below) in \(format2(sweep / 1e6)) ms; ÷ (variants × one full trace = \(format2(full / 1e6)) ms) = \(format2(ratio)) (median of \(ratios.count) pairs; goal ≤ 0.5: \(ratio <= 0.5 ? "PASS" : "FAIL"))")
        }
        return out
    }

    static func search(_ loaded: LoadedTopology) throws -> FixSearch {
        let file = loaded.file
        return try FixSearch(loaded.topology) { TopologyFile.validate($0, file: file).map(\.message) }
    }

    func cases() throws -> [BenchCase] {
        guard let dir = shippedTopologiesDirectory() else { throw MissingTopologies() }
        return try yamlFiles(in: dir).map { file in
            let loaded = try TopologyFile.load(path: dir + "/" + file)
            let search = try Self.search(loaded)
            return BenchCase(name: file, unit: "sweep", goalMilliseconds: 500, releaseOnly: true) {
                search.run(maxChanges: 3)?.evaluated ?? 0
            }
        }
    }
}

/// Two decimals.
func format2(_ v: Double) -> String {
    let r = (v * 100).rounded() / 100
    return String(r)
}

struct MissingTopologies: Error, CustomStringConvertible {
    var description: String {
        "no topologies/ directory next to the current directory or above the executable; run csumlab-bench from the repository root"
    }
}

/// The shipped `topologies/` directory: `./topologies` (run from the repository root), else the
/// first `topologies/` found walking up from the executable (`.build/release/csumlab-bench` sits
/// three levels below the root).
func shippedTopologiesDirectory() -> String? {
    var candidates: [String] = []
    var buf = [CChar](repeating: 0, count: 4096)
    if getcwd(&buf, buf.count) != nil {
        let cwd = String(decoding: buf.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        candidates.append(cwd + "/topologies")
    }
    if let exe = executablePath() {
        var dir = exe
        while let slash = dir.lastIndex(of: "/"), slash != dir.startIndex {
            dir = String(dir[..<slash])
            candidates.append(dir + "/topologies")
        }
    }
    return candidates.first { isDirectory($0) }
}

/// This executable's absolute path (Linux: /proc/self/exe; elsewhere argv[0] when absolute).
func executablePath() -> String? {
    var buf = [CChar](repeating: 0, count: 4096)
    let n = readlink("/proc/self/exe", &buf, buf.count - 1)
    if n > 0 {
        return String(decoding: buf[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
    let a = CommandLine.arguments[0]
    return a.hasPrefix("/") ? a : nil
}

func isDirectory(_ path: String) -> Bool {
    var st = stat()
    return stat(path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFDIR
}

/// The `*.yaml` files of a directory, sorted by name.
func yamlFiles(in dir: String) throws -> [String] {
    guard let d = opendir(dir) else { throw MissingTopologies() }
    defer { closedir(d) }
    var out: [String] = []
    while let e = readdir(d) {
        let name = withUnsafeBytes(of: e.pointee.d_name) { raw in
            String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
        }
        if name.hasSuffix(".yaml") { out.append(name) }
    }
    return out.sorted()
}
