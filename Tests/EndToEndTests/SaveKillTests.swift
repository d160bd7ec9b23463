import ProcessSpawn
import Testing
import TopologyFile

#if canImport(Glibc)
import Glibc
#endif

/// A save killed with SIGKILL at any moment leaves the old file or the new one, whole (issue 11,
/// fault tests): `csumlab new OUT --from BIG --force` is killed at delays spread over the time a
/// whole run takes, alternating between two large labs, and after each kill OUT is byte for byte
/// one of them. Where the kills land depends on the machine; the property holds wherever they do.
@Suite struct SaveKillTests {
    /// A lab of `pairs` × (two netns joined by a veth, a TAP and a bridge) and a flow per pair.
    static func bigLab(pairs: Int, tag: String) -> String {
        var nodes = "csumlab: 1\nname: big-\(tag)\nnodes:\n", links = "links:\n", flows = "flows:\n"
        for i in 0..<pairs {
            let net = "10.\(i / 256).\(i % 256)"
            nodes += "  a\(i): {kind: netns, interfaces: {eth0: {address: \(net).1/30}}}\n"
            nodes += "  b\(i): {kind: netns, interfaces: {eth0: {address: \(net).2/30}}}\n"
            nodes += "  v\(i): {kind: veth, ends: {x\(i): {tx: off}, y\(i): {}}}\n"
            nodes += "  t\(i): {kind: tap, vnet-hdr: on}\n  br\(i): {kind: bridge}\n"
            links += "  - endpoints: [\"a\(i):eth0\", \"v\(i):x\(i)\"]\n  - endpoints: [\"v\(i):y\(i)\", \"b\(i):eth0\"]\n"
            links += "  - endpoints: [\"t\(i)\", \"br\(i)\"]\n"
            flows += "  f\(i): {type: udp, from: a\(i), to: b\(i), payload: \(tag == "a" ? 10 : 20)}\n"
        }
        return nodes + links + flows
    }

    /// Start `argv` with standard input and output on /dev/null; its pid.
    static func start(_ argv: [String]) -> pid_t? {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
        let cArgs = argv.map { strdup($0) } + [nil]
        defer { for p in cArgs { free(p) } }
        var pid: pid_t = 0
        return posix_spawn(&pid, argv[0], &actions, nil, cArgs, environ) == 0 ? pid : nil
    }

    // The limit guards a hang, not a speed (CI once failed it at 2 minutes on a loaded machine).
    @Test(.timeLimit(.minutes(10)))
    func aKilledSaveLeavesTheOldOrTheNewFileWhole() throws {
        let bin = try #require(csumlabBinary, "csumlab binary not found next to the test bundle")
        let dir = "/tmp/csumlab-kill-\(getpid())"
        mkdir(dir, 0o755)
        defer {
            var names: [String] = []
            if let d = opendir(dir) {
                while let e = readdir(d) {
                    names.append(withUnsafeBytes(of: e.pointee.d_name) { String(cString: $0.bindMemory(to: CChar.self).baseAddress!) })
                }
                closedir(d)
            }
            for n in names where n != "." && n != ".." { unlink("\(dir)/\(n)") }
            rmdir(dir)
        }
        let labs = [Self.bigLab(pairs: 800, tag: "a"), Self.bigLab(pairs: 800, tag: "b")]
        let sources = ["\(dir)/a.yaml", "\(dir)/b.yaml"]
        for (text, path) in zip(labs, sources) {
            try LabSaver.save(text: text, to: path, expecting: nil, keepOriginal: false)
            _ = try TopologyFile.parse(text, file: path)
        }
        let out = "\(dir)/out.yaml"

        // One whole run, to spread the kills over the time a run takes.
        let t0 = monotonicMilliseconds()
        #expect(Spawn.run([bin, "new", out, "--from", sources[0]]).status == 0)
        let whole = max(monotonicMilliseconds() - t0, 20)
        #expect(readText(out) == labs[0])

        let kills = 16
        var current = 0
        var replaced = 0, untouched = 0
        for i in 0..<kills {
            let next = 1 - current
            guard let pid = Self.start([bin, "new", out, "--from", sources[next], "--force"]) else {
                Issue.record("cannot start csumlab")
                return
            }
            sleepMilliseconds(whole * (60 + 55 * i / (kills - 1)) / 100)
            kill(pid, SIGKILL)
            var status: Int32 = 0
            while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
            let text = readText(out)
            #expect(text == labs[current] || text == labs[next],
                    "after a kill at \(60 + 55 * i / (kills - 1))% of a run, \(out) is neither lab whole (\(text?.utf8.count ?? -1) bytes)")
            if text == labs[next] { replaced += 1; current = next } else { untouched += 1 }
        }
        print("SaveKillTests: a run takes \(whole) ms; of \(kills) kills, \(replaced) came after the rename, \(untouched) before it")
    }

    /// `--from NAME` finds the shipped lab from the executable's path, whatever the working directory.
    @Test func newFromAShippedLabWorksFromAnyDirectory() throws {
        let bin = try #require(csumlabBinary, "csumlab binary not found next to the test bundle")
        let out = "/tmp/csumlab-new-anywhere-\(getpid()).yaml"
        defer { unlink(out) }
        let run = Spawn.run(["/bin/sh", "-c", "cd / && exec \"$0\" new \"$1\" --from seed-bridged", bin, out])
        #expect(run.status == 0)
        #expect(readText(out) == readText(packageRoot + "/topologies/seed-bridged.yaml"))
    }
}
