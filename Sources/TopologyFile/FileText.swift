#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Minimal file I/O without Foundation's process APIs: read a whole file, and write one
/// atomically (temporary file in the same directory, then `rename`), so a save never leaves a
/// half-written topology behind.
public enum FileText {
    public struct IOError: Error, CustomStringConvertible {
        public var description: String
        /// The file holds more than the `maxBytes` given to `read` (only `maxBytes + 1` were read).
        public var tooLarge = false
    }

    /// The file's text (invalid UTF-8 becomes U+FFFD). Reads at most `maxBytes + 1` bytes, so an
    /// endless file (`/dev/zero`, a pipe) stops at the limit with `tooLarge` set.
    public static func read(_ path: String, maxBytes: Int = Int.max - 1) throws(IOError) -> String {
        guard let f = fopen(path, "rb") else { throw IOError(description: String(cString: strerror(errno))) }
        defer { fclose(f) }
        var bytes: [UInt8] = []
        var buf = [UInt8](repeating: 0, count: 65536)
        while true {
            let want = min(buf.count, maxBytes + 1 - bytes.count)
            let n = fread(&buf, 1, want, f)
            if n > 0 { bytes += buf[0..<n] }
            if bytes.count > maxBytes {
                throw IOError(description: "larger than \(maxBytes) bytes", tooLarge: true)
            }
            if n < want {
                if ferror(f) != 0 { throw IOError(description: String(cString: strerror(errno))) }
                break
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    public static func writeAtomically(_ text: String, to path: String) throws(IOError) {
        let tmp = path + ".tmp-\(getpid())"
        guard let f = fopen(tmp, "wb") else { throw IOError(description: "\(tmp): \(String(cString: strerror(errno)))") }
        let bytes = Array(text.utf8)
        let n = bytes.withUnsafeBytes { fwrite($0.baseAddress, 1, $0.count, f) }
        let flushed = fflush(f) == 0 && fsync(fileno(f)) == 0
        fclose(f)
        guard n == bytes.count, flushed else {
            unlink(tmp)
            throw IOError(description: "\(tmp): short write")
        }
        guard rename(tmp, path) == 0 else {
            let e = String(cString: strerror(errno))
            unlink(tmp)
            throw IOError(description: "\(path): \(e)")
        }
    }
}
