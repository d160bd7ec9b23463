#if canImport(Glibc)
import Glibc
#endif

/// Standard output written straight to fd 1, so a failed write is seen. Swift's `print` goes
/// through a stdio buffer whose errors are dropped at exit: `csumlab trace F > /dev/full`
/// exited 0 with nothing written.
enum StandardOutput {
    /// Write all of `text`, or throw the write's errno.
    static func write(_ text: String) throws(OutputFailure) {
        var bytes = Array(text.utf8)[...]
        while !bytes.isEmpty {
            let n = bytes.withUnsafeBytes { Glibc.write(1, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw OutputFailure(errno: errno)
            }
            bytes = bytes.dropFirst(n)
        }
    }

    /// `write` with a newline, as `print` would.
    static func line(_ text: String) throws(OutputFailure) {
        try write(text + "\n")
    }

    /// Give each of fds 0, 1 and 2 that is closed a descriptor of /dev/null opened read-only.
    /// Otherwise the next file or pipe opened would land on fd 1 and the report would be written
    /// into it; this way a write to a closed standard output fails (EBADF), as it should.
    static func occupyClosedStandardDescriptors() {
        for fd: Int32 in 0...2 where fcntl(fd, F_GETFD) == -1 && errno == EBADF {
            // open returns the lowest free descriptor: `fd`, since the lower ones are open now.
            _ = open("/dev/null", O_RDONLY)
        }
    }
}

/// Standard output could not be written.
struct OutputFailure: Error, CustomStringConvertible {
    var errno: Int32

    var description: String { "csumlab: error writing standard output: \(String(cString: strerror(errno)))" }

    /// A reader that went away (`csumlab trace F | head -3`) ends the process quietly by SIGPIPE,
    /// as other Unix tools end, even when SIGPIPE was ignored (`verify` ignores it for its
    /// helpers' pipes; a parent may have ignored it). Any other error is reported, with
    /// status 74 (EX_IOERR).
    func exit() -> Never {
        if errno == EPIPE {
            signal(SIGPIPE, SIG_DFL)
            var set = sigset_t()
            sigemptyset(&set)
            sigaddset(&set, SIGPIPE)
            sigprocmask(SIG_UNBLOCK, &set, nil)
            raise(SIGPIPE)
        }
        printError(description)
        Glibc.exit(Self.exitStatus)
    }

    /// EX_IOERR from sysexits.h.
    static let exitStatus: Int32 = 74
}
