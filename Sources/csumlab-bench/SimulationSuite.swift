import Simulation
import TopologyFile

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Traces per second of each shipped topology: the file is loaded and validated once
/// (`TopologyFile.load(path:)`), then one unit is `Simulator(topology).run()` — every flow of the
/// topology, every leg, every step, with the checksums the model computes on the way.
struct TopologyTraces: BenchSuite {
    let name = "topology traces"
    var notes: [String] {
        ["one trace = Simulator(topology).run(): every flow of the file; loading and validating the YAML is not timed",
         "topologies from \(shippedTopologiesDirectory() ?? "(not found)")"]
    }

    func cases() throws -> [BenchCase] {
        guard let dir = shippedTopologiesDirectory() else { throw MissingTopologies() }
        return try yamlFiles(in: dir).map { file in
            let loaded = try TopologyFile.load(path: dir + "/" + file)
            let sim = Simulator(loaded.topology)
            // A topology that does not simulate is a bug the tests catch; here it counts as 0 steps.
            return BenchCase(name: file, unit: "trace") {
                guard let t = try? sim.run() else { return 0 }
                var steps = 0
                for f in t.flows { for leg in f.legs { steps &+= leg.steps.count } }
                return steps
            }
        }
    }
}

/// The `fix` sweep of issue 4 does not exist yet: the suite has no case and says so.
struct FixSweep: BenchSuite {
    let name = "fix sweep"
    let notes = ["not measured: no `fix` sweep exists yet in csumlab (issue 4 asks for its time once it does)"]
    func cases() throws -> [BenchCase] { [] }
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
