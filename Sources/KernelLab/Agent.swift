#if canImport(Glibc)
import Glibc
#endif

/// The client side of one namespace helper (see `AgentServer`). Used from one thread only.
public final class Agent {
    public let namespace: String
    public let pid: pid_t
    private let stdinFD: Int32
    private var reader: LineReader
    private var stopped = false

    /// Start `ip netns exec NAMESPACE EXECUTABLE ARGUMENTS...` (default `agent`) and wait for its `ready`.
    public init(namespace: String, executable: String, arguments: [String] = ["agent"]) throws(LabError) {
        self.namespace = namespace
        let argv = ["ip", "netns", "exec", namespace, executable] + arguments
        let child = try Spawn.start(argv)
        pid = child.pid
        stdinFD = child.stdin
        reader = LineReader(fd: child.stdout)
        guard reader.readLine() == "ready" else {
            close(stdinFD)
            Spawn.wait(pid)
            throw .agent("helper in \(namespace) did not start")
        }
    }

    /// Send one command; returns its data lines and the words after `ok`.
    @discardableResult
    public func call(_ words: [String]) throws(LabError) -> (data: [String], result: [String]) {
        guard !stopped, writeAll(stdinFD, words.joined(separator: " ") + "\n") else { throw .agent("helper in \(namespace) is gone") }
        var data: [String] = []
        while let line = reader.readLine() {
            if line == "ok" || line.hasPrefix("ok ") { return (data, line.split(separator: " ").dropFirst().map(String.init)) }
            if line.hasPrefix("err ") { throw .agent("\(namespace): \(words.first ?? ""): " + line.dropFirst(4)) }
            data.append(line)
        }
        throw .agent("helper in \(namespace) exited during \(words.first ?? "")")
    }

    /// Close the helper's stdin (it closes its TAPs and exits) and reap it.
    public func stop() {
        guard !stopped else { return }
        stopped = true
        _ = writeAll(stdinFD, "quit\n")
        close(stdinFD)
        close(reader.fd)
        Spawn.wait(pid)
    }

    deinit { stop() }
}
