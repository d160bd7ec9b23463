#if canImport(Glibc)
import Glibc
#endif
import ArgumentParser
import KernelLab
import Simulation
import TerminalText
import TopologyFile

struct VerifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Check the simulation against the running kernel (Linux, root).",
        discussion: """
        Builds the topology inside network namespaces of its own (bridges, veth pairs, TAPs with \
        IFF_VNET_HDR, kernel routers with nft/iptables, csumlab helpers standing in for VMs and \
        userspace routers), writes every checkable leg's frames exactly as the simulation's sender \
        emits them and compares what arrives (virtio flags, csum_start/offset, GSO, the L4 field, \
        validity, TTL, addresses, frame count) with the simulation at linux-6.x for the host side. \
        Exit 0 when everything compared matches, 1 on a mismatch or a file with nothing compared, \
        77 without root or network namespaces.
        """)

    @Argument(help: "Topology file (YAML).")
    var file: String?

    @Option(help: "Check only this flow.")
    var flow: String?

    @Option(name: .customLong("set"), help: ArgumentHelp("Change a setting before verifying: NODE[.INTERFACE].SETTING=VALUE (repeatable).", valueName: "assignment"))
    var assignments: [String] = []

    @Option(name: .customLong("add-flow"), help: ArgumentHelp("Add flows written as in a file's 'flows:' (repeatable; one FILE only).", valueName: "yaml"))
    var addedFlows: [String] = []

    @Flag(help: "Leave the last lab standing for inspection (remove it with --cleanup).")
    var keep = false

    @Option(name: .customLong("all"), help: ArgumentHelp("Verify every .yaml file in this directory.", valueName: "dir"))
    var directory: String?

    @Flag(help: "Remove namespaces left behind by killed runs, then exit.")
    var cleanup = false

    @Flag(name: .shortAndLong, help: "Print every observable of every leg (default for a single file).")
    var verbose = false

    @Flag(help: .hidden)
    var agent = false

    @Option(help: .hidden)
    var prefix: String?

    @Flag(help: .hidden)
    var signalled = false

    func validate() throws {
        if agent || cleanup { return }
        if (file == nil) == (directory == nil) { throw ValidationError("give one topology FILE or --all DIR") }
        if directory != nil && flow != nil { throw ValidationError("--flow needs a single FILE") }
        if directory != nil && !addedFlows.isEmpty { throw ValidationError("--add-flow needs a single FILE") }
    }

    func run() throws {
        if agent {
            var server = AgentServer()
            throw ExitCode(server.run())
        }
        if cleanup { return try runCleanup() }
        // A helper that died must surface as an error from its pipe, not kill this process
        // before it removes the lab.
        signal(SIGPIPE, SIG_IGN)
        guard Host.canBuildLabs, (try? Spawn.run(["ip", "netns", "list"]))?.status == 0 else {
            printError("csumlab verify: needs root, /dev/net/tun, network namespaces and iproute2 (`ip netns`); skipped")
            throw ExitCode(77)
        }
        let missing = Host.missing()
        guard missing.isEmpty else {
            printError("csumlab verify: needs \(missing.joined(separator: ", ")), not found in PATH; install it to compare with the kernel; skipped")
            throw ExitCode(77)
        }
        var files: [String] = []
        if let dir = directory {
            files = listYAML(dir)
            if files.isEmpty { throw ValidationFailure(message: "\(dir): no .yaml files") }
        } else if let file {
            files = [file]
        }
        let executable = Host.executablePath
        let prefix = RunPrefix(pid: getpid())
        Host.execOnSignal(executable: executable, arguments: ["verify", "--cleanup", "--prefix", prefix.value, "--signalled"])
        // The report goes out as it is made; when standard output fails, the run stops after the
        // current file, still removes its lab, and then ends as `OutputFailure.exit` says.
        var outputFailure: OutputFailure?
        func say(_ text: String) {
            guard outputFailure == nil else { return }
            do { try StandardOutput.write(text) } catch { outputFailure = error }
        }
        let leftovers = Namespaces.cleanupLeftovers()
        if !leftovers.removed.isEmpty { say(TerminalEscape.escaped("removed leftovers of killed runs: \(leftovers.removed.joined(separator: " "))") + "\n") }
        reportFailures(leftovers)
        let agentArguments = ["verify", "--agent"]
        let probe = DataValidProbe.run(prefix: prefix, executable: executable, agentArguments: agentArguments)
        say(TerminalEscape.escaped("csumlab verify on Linux \(Host.kernelRelease) (run prefix \(prefix)); the host side is compared with the simulation at linux-6.x") + "\n")
        let dv = probe.reportsDataValid.map { $0 ? "yes" : "NO" } ?? "unknown"
        say(TerminalEscape.escaped("probe: tun reports CHECKSUM_UNNECESSARY as DATA_VALID on this kernel: \(dv) (\(probe.detail)); the linux-6.x model assumes yes") + "\n")
        let runner = VerifyRunner(prefix: prefix, executable: executable, agentArguments: agentArguments)
        var results: [FileResult] = []
        for (i, f) in files.enumerated() where outputFailure == nil {
            runner.keep = keep && i == files.count - 1
            var r: FileResult
            do {
                var loaded = try TopologyFile.load(path: f)
                try OverrideOptions.addFlows(addedFlows, to: &loaded)
                var t = loaded.topology
                for a in assignments {
                    do { try t.apply(assignment: a) } catch { throw ValidationFailure(message: "--set \(error.message)") }
                }
                if !assignments.isEmpty, let problem = TopologyFile.validate(t, file: f).first {
                    throw ValidationFailure(message: "\(f): after --set: \(problem.message)")
                }
                r = runner.run(topology: t, file: f, flow: flow)
            } catch let e as TopologyFileError {
                r = FileResult(file: f, topology: "?")
                r.error = e.description
            } catch {
                r = FileResult(file: f, topology: "?")
                r.error = "\(error)"
            }
            say(VerifyReport.render(r, full: verbose || directory == nil))
            results.append(r)
        }
        if results.count > 1 { say("== summary\n" + VerifyReport.summary(results)) }
        if results.contains(where: { $0.mismatched > 0 }) {
            say("== disagreements between the kernel and the simulation\n" + VerifyReport.disagreements(results))
        }
        var removalFailed = false
        if keep, runner.keptLab != nil, outputFailure == nil {
            say(TerminalEscape.escaped("lab kept: namespaces \(Namespaces.list(prefix: prefix).joined(separator: " ")) (TAPs made persistent; the VM and router stand-ins are stopped); remove with `csumlab verify --cleanup --prefix \(prefix)`") + "\n")
        } else {
            let left = Namespaces.cleanup(prefix: prefix)
            if !left.removed.isEmpty { say(TerminalEscape.escaped("warning: namespaces were left behind and removed: \(left.removed.joined(separator: " "))") + "\n") }
            removalFailed = reportFailures(left)
        }
        if let outputFailure { throw outputFailure }
        if probe.reportsDataValid == nil { printError(TerminalEscape.escaped("csumlab verify: the DATA_VALID probe failed: \(probe.detail)")) }
        if !results.allSatisfy(\.passed) || probe.reportsDataValid == nil || removalFailed { throw ExitCode(1) }
    }

    /// Say on standard error which namespaces could not be removed, and why. True if any.
    @discardableResult
    private func reportFailures(_ r: Namespaces.Removal) -> Bool {
        for f in r.failed { printError(TerminalEscape.escaped("csumlab verify: could not remove namespace \(f.name): \(f.reason)")) }
        return !r.failed.isEmpty
    }

    private func runCleanup() throws {
        let r: Namespaces.Removal
        if let p = prefix {
            guard let rp = RunPrefix(p) else { throw ValidationFailure(message: "bad prefix \(p) (expected csl<pid>-)") }
            r = Namespaces.cleanup(prefix: rp)
        } else {
            guard Host.isRoot else {
                printError("csumlab verify --cleanup: needs root; skipped")
                throw ExitCode(77)
            }
            r = Namespaces.cleanupLeftovers()
        }
        if !r.removed.isEmpty {
            try StandardOutput.line(TerminalEscape.escaped("removed: " + r.removed.joined(separator: " ")))
        } else if r.failed.isEmpty {
            try StandardOutput.line("no lab namespaces to remove")
        }
        if reportFailures(r) { throw ExitCode(1) }
        if signalled { throw ExitCode(130) }
    }

    private func listYAML(_ dir: String) -> [String] {
        guard let d = opendir(dir) else { return [] }
        defer { closedir(d) }
        var names: [String] = []
        while let e = readdir(d) {
            let name = withUnsafeBytes(of: e.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            if name.hasSuffix(".yaml") || name.hasSuffix(".yml") { names.append(name) }
        }
        return names.sorted().map { dir.hasSuffix("/") ? dir + $0 : dir + "/" + $0 }
    }
}
