#if canImport(Glibc)
import Glibc
#endif
import FoundationEssentials
import KernelLab

// csumlab-kprobe: measures what the running kernel does to checksum-offload state in the seed
// labs and writes each measurement as a fixture. Subcommands:
//   all | NAME...   run scenarios (default fixtures dir Tests/SimulationTests/Fixtures/kernel)
//   list            scenario names
//   cleanup [--prefix cslPID-]   remove lab namespaces left by killed runs
//   agent           (internal) namespace helper speaking the line protocol on stdin/stdout

var args = Array(CommandLine.arguments.dropFirst())
let command = args.first ?? "help"

func fail(_ s: String, code: Int32 = 1) -> Never {
    FileHandleErr.write("csumlab-kprobe: \(s)\n")
    exit(code)
}

enum FileHandleErr {
    static func write(_ s: String) {
        let b = Array(s.utf8)
        _ = b.withUnsafeBytes { Glibc.write(2, $0.baseAddress, $0.count) }
    }
}

switch command {
case "agent":
    var server = AgentServer()
    exit(server.run())
case "list":
    for s in ProbeScenario.all { print("\(s.name)\t\(s.description)") }
    exit(0)
case "cleanup":
    var prefix: RunPrefix?
    if let i = args.firstIndex(of: "--prefix"), i + 1 < args.count {
        guard let p = RunPrefix(args[i + 1]) else { fail("bad prefix \(args[i + 1])") }
        prefix = p
    }
    let r = Namespaces.cleanup(prefix: prefix)
    if !r.removed.isEmpty || r.failed.isEmpty { print(r.removed.isEmpty ? "no lab namespaces" : "removed: " + r.removed.joined(separator: " ")) }
    for f in r.failed { print("could not remove \(f.name): \(f.reason)") }
    exit(!r.failed.isEmpty ? 1 : args.contains("--signalled") ? 130 : 0)
case "help", "-h", "--help":
    print("""
    usage: csumlab-kprobe all | NAME... [--fixtures DIR | --no-fixtures]
           csumlab-kprobe list
           csumlab-kprobe cleanup [--prefix cslPID-]
    Builds each scenario's lab in namespaces named csl<pid>-ROLE (root, Linux), writes a frame with a
    virtio_net_hdr into tap1, prints what arrives at tap2 and writes one JSON fixture per scenario
    (default directory Tests/SimulationTests/Fixtures/kernel). Exit 77 without root or netns.
    """)
    exit(0)
default:
    break
}

guard Host.canBuildLabs else { fail("needs root, /dev/net/tun and network namespaces; skipped", code: 77) }

var fixturesDir: String? = "Tests/SimulationTests/Fixtures/kernel"
if let i = args.firstIndex(of: "--fixtures"), i + 1 < args.count {
    fixturesDir = args[i + 1]
    args.removeSubrange(i...(i + 1))
}
if let i = args.firstIndex(of: "--no-fixtures") {
    fixturesDir = nil
    args.remove(at: i)
}
if let dir = fixturesDir, access(dir, F_OK) != 0 {
    // Create the fixtures directory (one level at a time) if this checkout lacks it.
    var path = dir.hasPrefix("/") ? "" : "."
    for part in dir.split(separator: "/") {
        path += "/" + part
        if access(path, F_OK) != 0, mkdir(path, 0o755) != 0 { fail("cannot create \(path)") }
    }
}
let selected: [ProbeScenario]
if args == ["all"] {
    selected = ProbeScenario.all
} else {
    selected = args.map { name in
        guard let s = ProbeScenario.all.first(where: { $0.name == name }) else { fail("unknown scenario \(name) (see `list`)") }
        return s
    }
}
let prefix = RunPrefix(pid: getpid())
let executable = Host.executablePath
Host.execOnSignal(executable: executable, arguments: ["cleanup", "--prefix", prefix.value, "--signalled"])
let runner = ProbeRunner(prefix: prefix, executable: executable, kernelRelease: Host.kernelRelease)
let encoder = JSONEncoder()
encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
var failures = 0
var measured: [KernelFixture] = []
print("kernel \(Host.kernelRelease); run prefix \(prefix)")
for s in selected {
    do {
        let fixture = try runner.run(s)
        print(FixtureTable.render(fixture))
        measured.append(fixture)
        if let dir = fixturesDir {
            let data = try encoder.encode(fixture) + Data("\n".utf8)
            try data.write(to: URL(fileURLWithPath: dir + "/" + s.name + ".json"))
        }
    } catch {
        failures += 1
        print("== \(s.name): FAILED: \(error)\n")
    }
}
if measured.count > 1 { print("== summary (frames read at tap2)\n" + FixtureTable.summary(measured)) }
let left = Namespaces.list(prefix: prefix)
if !left.isEmpty { print("warning: namespaces left behind: \(left)"); Namespaces.cleanup(prefix: prefix) }
exit(failures == 0 ? 0 : 1)
