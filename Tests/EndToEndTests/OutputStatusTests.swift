import ProcessSpawn
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// What every printing command does when its standard output fails: a full device or a closed
/// descriptor is an error (message on standard error, status 74); a reader that went away ends
/// it quietly by SIGPIPE (141 in the shell), also when SIGPIPE was ignored by the parent.
/// Runs the built binary under bash (no tmux needed).
@Suite struct OutputStatusTests {
    static let lab = packageRoot + "/topologies/seed-bridged.yaml"

    /// Every command that prints, with arguments that make it print. The cleanup prefix belongs
    /// to no run (no pid is that large), so nothing is removed.
    static let printing: [[String]] = [
        ["trace", lab], ["trace", "--json", lab], ["trace", "-v", lab], ["check", lab],
        ["explore", lab], ["verify", "--cleanup", "--prefix", "csl999999999-"],
    ]

    /// Run `script` with bash: `$0` is the csumlab binary, `$@` the arguments. Returns bash's
    /// status and standard output.
    static func bash(_ script: String, _ arguments: [String]) throws -> Spawn.Result {
        let bin = try #require(csumlabBinary, "csumlab binary not found next to the test bundle")
        let bash = try #require(Spawn.which("bash"), "bash not found")
        return Spawn.run([bash, "-c", script, bin] + arguments, capture: true)
    }

    @Test(arguments: printing)
    func aFullDeviceIsAnErrorWithAMessage(arguments: [String]) throws {
        let r = try Self.bash(#""$0" "$@" 2>&1 >/dev/full; echo "status=$?""#, arguments)
        #expect(r.output == "csumlab: error writing standard output: No space left on device\nstatus=74\n")
    }

    @Test(arguments: printing)
    func aClosedStandardOutputIsAnError(arguments: [String]) throws {
        let r = try Self.bash(#""$0" "$@" 2>&1 >&-; echo "status=$?""#, arguments)
        #expect(r.output == "csumlab: error writing standard output: Bad file descriptor\nstatus=74\n")
    }

    /// The reader of the pipe has exited before csumlab starts (`wait` on the process
    /// substitution), so the first write meets a closed pipe whatever the timing.
    @Test(arguments: printing, [false, true])
    func aClosedPipeEndsQuietlyBySIGPIPE(arguments: [String], parentIgnoresSIGPIPE: Bool) throws {
        let ignore = parentIgnoresSIGPIPE ? "trap '' PIPE; " : ""
        let r = try Self.bash(ignore + #"exec 4> >(exit 0); wait $!; "$0" "$@" 2>&1 >&4; echo "status=$?""#, arguments)
        #expect(r.output == "status=141\n")
    }

    /// `csumlab trace … | head -1` on a trace far larger than a pipe holds (≈1 MB): head takes
    /// its line and exits while csumlab is still writing.
    @Test(arguments: [false, true])
    func headOfALargeTraceEndsQuietlyBySIGPIPE(parentIgnoresSIGPIPE: Bool) throws {
        var dirTemplate = Array("/tmp/csumlab-output-XXXXXX".utf8CString)
        let dir = try #require(mkdtemp(&dirTemplate).map { String(cString: $0) })
        let file = dir + "/many-flows.yaml"
        defer {
            unlink(file)
            rmdir(dir)
        }
        var yaml = """
            csumlab: 1
            name: many-flows
            nodes:
              vm1: {kind: vm, interfaces: {eth0: {address: 10.0.0.1/24}}}
              vm2: {kind: vm, interfaces: {eth0: {address: 10.0.0.2/24}}}
              tap1: {kind: tap}
              tap2: {kind: tap}
              br0: {kind: bridge}
            links:
              - endpoints: ["vm1:eth0", "tap1"]
              - endpoints: ["tap1", "br0"]
              - endpoints: ["br0", "tap2"]
              - endpoints: ["tap2", "vm2:eth0"]
            flows:

            """
        for i in 0..<100 { yaml += "  f\(i): {type: tcp, from: vm1, to: vm2, payload: 200}\n" }
        let fd = open(file, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        try #require(fd >= 0)
        _ = yaml.utf8CString.withUnsafeBufferPointer { write(fd, $0.baseAddress, $0.count - 1) }
        close(fd)

        let size = try Self.bash(#""$0" trace -v "$1" | wc -c"#, [file])
        #expect((Int(size.output.split(separator: "\n").first ?? "") ?? 0) > 512 * 1024, "the trace must outgrow any pipe buffer")
        let ignore = parentIgnoresSIGPIPE ? "trap '' PIPE; " : ""
        let r = try Self.bash(ignore + #"{ "$0" trace -v "$1" 2>&3 | head -1; echo "status=${PIPESTATUS[0]}"; } 3>&1"#, [file])
        #expect(r.output == "csumlab trace: many-flows (host kernel linux-6.x)\nstatus=141\n")
    }
}
