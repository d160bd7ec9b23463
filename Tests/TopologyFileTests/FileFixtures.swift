#if canImport(Glibc)
import Glibc
#endif
import TopologyFile

/// Scratch directories and files for the file-layer tests.
enum Scratch {
    /// A new empty directory under /tmp.
    static func directory(_ tag: String) -> String {
        var template = Array("/tmp/csumlab-\(tag)-XXXXXX".utf8CString)
        let made = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!).map { String(cString: $0) } }
        guard let made else { preconditionFailure("mkdtemp failed") }
        return made
    }

    /// The names in `dir` (without . and ..), sorted.
    static func list(_ dir: String) -> [String] {
        guard let d = opendir(dir) else { return [] }
        defer { closedir(d) }
        var names: [String] = []
        while let e = readdir(d) {
            let name = withUnsafeBytes(of: e.pointee.d_name) { String(cString: $0.bindMemory(to: CChar.self).baseAddress!) }
            if name != "." && name != ".." { names.append(name) }
        }
        return names.sorted()
    }

    /// Remove `dir` and what it holds (files and directories, one level of nesting is enough here).
    static func remove(_ dir: String) {
        for name in list(dir) {
            let p = "\(dir)/\(name)"
            if unlink(p) != 0 {
                remove(p)
            }
        }
        rmdir(dir)
    }

    static func write(_ text: String, to path: String) {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        precondition(fd >= 0, "cannot create \(path)")
        let bytes = Array(text.utf8)
        precondition(Glibc.write(fd, bytes, bytes.count) == bytes.count)
        close(fd)
    }

    static func read(_ path: String) -> String? { try? FileText.read(path) }

    /// Mount a tmpfs of `size` (e.g. "16k") on `dir`; false when this process may not mount.
    static func mountTmpfs(_ dir: String, size: String) -> Bool {
        mount("none", dir, "tmpfs", 0, "size=\(size),mode=0755") == 0
    }

    static func remountReadOnly(_ dir: String, size: String) -> Bool {
        mount("none", dir, "tmpfs", UInt(MS_REMOUNT | MS_RDONLY), "size=\(size)") == 0
    }

    static func unmount(_ dir: String) {
        umount2(dir, Int32(MNT_DETACH))
    }

    /// This process's umask, from /proc (calling umask(2) to read it would race other tests).
    static var umask: mode_t {
        let status = read("/proc/self/status") ?? ""
        let line = status.split(separator: "\n").first { $0.hasPrefix("Umask:") }
        return line.flatMap { mode_t($0.dropFirst(6).trimmingPrefix(while: { $0 == " " || $0 == "\t" }), radix: 8) } ?? 0o022
    }

    static var isRoot: Bool { geteuid() == 0 }
    static var isCI: Bool { getenv("CI") != nil }

    /// Whether tmpfs mounts work here (root with CAP_SYS_ADMIN): tried once.
    static let canMount: Bool = {
        guard isRoot else { return false }
        let dir = directory("mountprobe")
        defer { rmdir(dir) }
        guard mountTmpfs(dir, size: "4k") else { return false }
        unmount(dir)
        return true
    }()
}

/// Every diagnostic parsing `text` as a file named `lab.yaml` gives (empty when it loads).
func errors(_ text: String) -> [Diagnostic] {
    do {
        _ = try TopologyFile.parse(text, file: "lab.yaml")
        return []
    } catch {
        return error.diagnostics
    }
}
