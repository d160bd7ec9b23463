#if canImport(Glibc)
import Glibc
#endif
import CKernelLab

/// What a finished command printed.
public struct CommandResult: Sendable, Equatable {
    public var status: Int32
    public var stdout: String
    public var stderr: String
}

/// Runs programs with `posix_spawnp` (Foundation.Process is known to hang here, and labs must not
/// depend on Foundation's run loop). Child ends of pipes are dup2'ed onto 0/1/2; every other fd
/// this process opens is O_CLOEXEC, so children inherit nothing else.
public enum Spawn {
    /// Run to completion, capturing stdout and stderr.
    public static func run(_ argv: [String]) throws(LabError) -> CommandResult {
        let out = try makePipe(), err = try makePipe()
        let pid = try spawn(argv, stdin: nil, stdout: out.write, stderr: err.write)
        close(out.write)
        close(err.write)
        let (o, e) = drain(out.read, err.read)
        close(out.read)
        close(err.read)
        let status = wait(pid)
        return CommandResult(status: status, stdout: o, stderr: e)
    }

    /// Run and throw unless it exits 0; returns stdout.
    @discardableResult
    public static func check(_ argv: [String]) throws(LabError) -> String {
        let r = try run(argv)
        guard r.status == 0 else { throw .command(argv, status: r.status, stderr: r.stderr) }
        return r.stdout
    }

    /// Start a long-running child with pipes on its stdin and stdout; stderr is inherited.
    public static func start(_ argv: [String]) throws(LabError) -> (pid: pid_t, stdin: Int32, stdout: Int32) {
        let inPipe = try makePipe(), outPipe = try makePipe()
        let pid = try spawn(argv, stdin: inPipe.read, stdout: outPipe.write, stderr: nil)
        close(inPipe.read)
        close(outPipe.write)
        return (pid, inPipe.write, outPipe.read)
    }

    /// waitpid, retrying on EINTR; returns the exit status (128 + signal if killed).
    @discardableResult
    public static func wait(_ pid: pid_t) -> Int32 {
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 {
            if errno != EINTR { return -1 }
        }
        if status & 0x7F == 0 { return (status >> 8) & 0xFF }
        return 128 + (status & 0x7F)
    }

    static func makePipe() throws(LabError) -> (read: Int32, write: Int32) {
        var fds: [Int32] = [0, 0]
        let r = ckl_pipe_cloexec(&fds)
        guard r == 0 else { throw .system("pipe2", errno: -r) }
        return (fds[0], fds[1])
    }

    private static func spawn(_ argv: [String], stdin: Int32?, stdout: Int32?, stderr: Int32?) throws(LabError) -> pid_t {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        if let fd = stdin { posix_spawn_file_actions_adddup2(&actions, fd, 0) }
        if let fd = stdout { posix_spawn_file_actions_adddup2(&actions, fd, 1) }
        if let fd = stderr { posix_spawn_file_actions_adddup2(&actions, fd, 2) }
        var cargs: [UnsafeMutablePointer<CChar>?] = argv.map { strdup($0) }
        cargs.append(nil)
        defer { for p in cargs { free(p) } }
        var pid: pid_t = 0
        let r = posix_spawnp(&pid, argv[0], &actions, nil, cargs, environ)
        guard r == 0 else { throw .system("posix_spawnp \(argv[0])", errno: r) }
        return pid
    }

    /// Read two pipes to EOF without deadlocking on either.
    private static func drain(_ a: Int32, _ b: Int32) -> (String, String) {
        var bufs: [[UInt8]] = [[], []]
        var open = [true, true]
        let fds = [a, b]
        var chunk = [UInt8](repeating: 0, count: 4096)
        while open[0] || open[1] {
            var pfds = [pollfd(fd: open[0] ? a : -1, events: Int16(POLLIN), revents: 0),
                        pollfd(fd: open[1] ? b : -1, events: Int16(POLLIN), revents: 0)]
            if poll(&pfds, 2, -1) < 0 {
                if errno == EINTR { continue }
                break
            }
            for i in 0..<2 where open[i] && pfds[i].revents != 0 {
                let n = chunk.withUnsafeMutableBytes { read(fds[i], $0.baseAddress, $0.count) }
                if n > 0 { bufs[i] += chunk[0..<n] } else if n == 0 || errno != EINTR { open[i] = false }
            }
        }
        return (String(decoding: bufs[0], as: UTF8.self), String(decoding: bufs[1], as: UTF8.self))
    }
}

/// Buffered line reading from a file descriptor (the agent protocol is one line per message).
struct LineReader {
    let fd: Int32
    private var buffer: [UInt8] = []

    init(fd: Int32) { self.fd = fd }

    /// The next line without its newline, or nil at EOF.
    mutating func readLine() -> String? {
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            if let nl = buffer.firstIndex(of: UInt8(ascii: "\n")) {
                let line = String(decoding: buffer[..<nl], as: UTF8.self)
                buffer.removeSubrange(...nl)
                return line
            }
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 {
                if buffer.isEmpty { return nil }
                let line = String(decoding: buffer, as: UTF8.self)
                buffer.removeAll()
                return line
            }
            buffer += chunk[0..<n]
        }
    }

    /// Whether a full line is already buffered (so poll on the fd would miss it).
    var hasBufferedLine: Bool { buffer.contains(UInt8(ascii: "\n")) }
}

/// Write all bytes of a string to a file descriptor.
func writeAll(_ fd: Int32, _ s: String) -> Bool {
    var bytes = Array(s.utf8)
    var off = 0
    while off < bytes.count {
        let n = bytes.withUnsafeMutableBytes { write(fd, $0.baseAddress! + off, $0.count - off) }
        if n < 0 && errno == EINTR { continue }
        if n <= 0 { return false }
        off += n
    }
    return true
}
