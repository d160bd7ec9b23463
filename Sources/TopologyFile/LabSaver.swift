#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Why a save (or a read for one) failed, in words, with the path and the system's reason.
public struct SaveError: Error, Equatable, Sendable, CustomStringConvertible {
    public enum Kind: Equatable, Sendable {
        /// The file is not what was loaded (replaced, edited or deleted since): ask the user.
        case changedOnDisk
        case readOnly
        case noSpace
        case permissionDenied
        case isDirectory
        /// The file or its directory does not exist.
        case notFound
        case tooLarge
        /// Neither `XDG_STATE_HOME` nor `HOME` names a place for recovery files.
        case noStateDirectory
        case other
    }

    public var kind: Kind
    /// The path the failure concerns (the file, its directory or a temporary file).
    public var path: String
    /// The `errno` value, or 0 when the failure is not a system call's.
    public var code: Int32
    /// The whole message, e.g. "cannot save lab.yaml: the directory is on a read-only file system
    /// (/mnt/labs: Read-only file system)".
    public var message: String

    public var description: String { message }

    public init(kind: Kind, path: String, code: Int32, message: String) {
        self.kind = kind
        self.path = path
        self.code = code
        self.message = message
    }

    /// A system call's failure: `doing` says what ("cannot save lab.yaml"), the kind and the words
    /// follow from `errno`.
    init(errno e: Int32, path: String, doing: String) {
        let reason = String(cString: strerror(e))
        let kind: Kind
        let words: String
        switch e {
        case EROFS: kind = .readOnly; words = "it is on a read-only file system"
        case ENOSPC, EDQUOT: kind = .noSpace; words = "no space left on the device"
        case EACCES, EPERM: kind = .permissionDenied; words = "permission denied"
        case EISDIR: kind = .isDirectory; words = "it is a directory"
        case ENOENT, ENOTDIR: kind = .notFound; words = "no such file or directory"
        default: kind = .other; words = reason.lowercased()
        }
        self.init(kind: kind, path: path, code: e, message: "\(doing): \(words) (\(path): \(reason))")
    }
}

/// Saves a lab the way an editor should: the new text goes to a temporary file in the same
/// directory, is written whole and flushed to the disk (`fsync`), then renamed over the old
/// file, and the directory is flushed too. A crash, a full disk or a kill at any moment leaves
/// either the old file or the new one, whole; a failure leaves the old file untouched, removes
/// the temporary file and says why.
public enum LabSaver {
    /// Save `text` at `path`.
    /// - `expecting`: the stamp taken when the lab was loaded; the save is refused with
    ///   `.changedOnDisk` when the file no longer matches it (checked before writing and again just
    ///   before the rename). nil: no check (a new file, or the user said to overwrite).
    /// - `keepOriginal`: keep the file being replaced as `path.orig` (itself replaced atomically:
    ///   a hard link to the old file, or a copy where links are not possible).
    /// A symbolic link at `path` is followed: its target is replaced, the link stays. The new file
    /// gets the old file's permission bits (0644 less the umask for a new file).
    /// Returns the stamp of the file as saved: the `expecting` of the next save.
    @discardableResult
    public static func save(text: String, to path: String, expecting: DiskStamp?, keepOriginal: Bool) throws(SaveError) -> DiskStamp {
        try save(bytes: Array(text.utf8), to: path, expecting: expecting, keepOriginal: keepOriginal, newFileMode: 0o644)
    }

    /// Save `bytes` at `path` atomically (temporary file, fsync, rename, directory fsync), with no
    /// stamp check and no `.orig` copy: for exports (`trace --pcapng`) that replace what they wrote.
    @discardableResult
    public static func save(bytes: [UInt8], to path: String) throws(SaveError) -> DiskStamp {
        try save(bytes: bytes, to: path, expecting: nil, keepOriginal: false, newFileMode: 0o644)
    }

    /// The temporary file's name for `path`: hidden, beside it, unique per process and attempt.
    static func temporaryName(for path: String, attempt: Int) -> String {
        let (dir, base) = split(path)
        return "\(dir)/.\(base).csumlab-\(getpid())-\(attempt).tmp"
    }

    /// `path` as directory and file name ("." for a bare name).
    static func split(_ path: String) -> (dir: String, base: String) {
        guard let slash = path.lastIndex(of: "/") else { return (".", path) }
        let dir = String(path[..<slash])
        return (dir.isEmpty ? "/" : dir, String(path[path.index(after: slash)...]))
    }

    @discardableResult
    static func save(bytes: [UInt8], to givenPath: String, expecting: DiskStamp?, keepOriginal: Bool, newFileMode: mode_t) throws(SaveError) -> DiskStamp {
        let shown = givenPath
        let path = try target(of: givenPath)
        let (dir, _) = split(path)
        if split(path).base.isEmpty { throw SaveError(errno: EISDIR, path: path, doing: "cannot save \(shown)") }

        var old = stat()
        let exists = stat(path, &old) == 0
        if exists && (old.st_mode & S_IFMT) == S_IFDIR {
            throw SaveError(errno: EISDIR, path: path, doing: "cannot save \(shown)")
        }
        if !exists && errno != ENOENT { throw SaveError(errno: errno, path: path, doing: "cannot save \(shown)") }
        if let expecting { try check(expecting, path: path, shown: shown) }

        // The temporary file: created exclusively, so nothing else's file is ever reused.
        var tmp = ""
        var fd: Int32 = -1
        for attempt in 0..<100 {
            tmp = temporaryName(for: path, attempt: attempt)
            fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, newFileMode)
            if fd >= 0 || errno != EEXIST { break }
        }
        guard fd >= 0 else {
            throw SaveError(errno: errno, path: dir, doing: "cannot save \(shown): cannot create a file in its directory")
        }
        var done = false
        defer { if !done { unlink(tmp) } }
        var saved = DiskStamp(device: 0, inode: 0, size: 0, modified: 0, contentHash: 0)
        do throws(SaveError) {
            if exists {
                // Best effort for the owner (root saving a user's file); the mode is required.
                _ = fchown(fd, old.st_uid, old.st_gid)
                guard fchmod(fd, old.st_mode & 0o7777) == 0 else {
                    throw SaveError(errno: errno, path: tmp, doing: "cannot save \(shown)")
                }
            }
            try writeAll(fd, bytes, path: tmp, doing: "cannot save \(shown)")
            guard fsync(fd) == 0 else { throw SaveError(errno: errno, path: tmp, doing: "cannot save \(shown)") }
            var st = stat()
            guard fstat(fd, &st) == 0 else { throw SaveError(errno: errno, path: tmp, doing: "cannot save \(shown)") }
            // The inode keeps its number and times through the rename.
            saved = DiskStamp(device: UInt64(st.st_dev), inode: UInt64(st.st_ino), size: Int64(bytes.count),
                              modified: DiskStamp.modifiedNanoseconds(st),
                              contentHash: DiskStamp.fnv1a64(bytes))
        } catch {
            close(fd)
            throw error
        }
        guard close(fd) == 0 else { throw SaveError(errno: errno, path: tmp, doing: "cannot save \(shown)") }

        if let expecting { try check(expecting, path: path, shown: shown) }
        if keepOriginal && exists { try keepCopy(of: path, mode: old.st_mode & 0o7777) }
        guard rename(tmp, path) == 0 else {
            throw SaveError(errno: errno, path: path, doing: "cannot save \(shown)")
        }
        done = true
        syncDirectory(dir)
        return saved
    }

    /// The file a save replaces: `path`, or the target of the symbolic link at `path`.
    private static func target(of path: String) throws(SaveError) -> String {
        var st = stat()
        guard lstat(path, &st) == 0, (st.st_mode & S_IFMT) == S_IFLNK else { return path }
        var buf = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let n = readlink(path, &buf, buf.count - 1)
        guard n > 0 else { throw SaveError(errno: errno, path: path, doing: "cannot save \(path)") }
        let link = String(decoding: buf[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
        let resolved = link.hasPrefix("/") ? link : "\(split(path).dir)/\(link)"
        // A chain of links resolves one step per call; more than a few is a loop.
        var next = resolved, hops = 0
        while hops < 40, lstat(next, &st) == 0, (st.st_mode & S_IFMT) == S_IFLNK {
            let m = readlink(next, &buf, buf.count - 1)
            guard m > 0 else { break }
            let l = String(decoding: buf[0..<m].map { UInt8(bitPattern: $0) }, as: UTF8.self)
            next = l.hasPrefix("/") ? l : "\(split(next).dir)/\(l)"
            hops += 1
        }
        if hops == 40 { throw SaveError(errno: ELOOP, path: path, doing: "cannot save \(path)") }
        return next
    }

    private static func check(_ expecting: DiskStamp, path: String, shown: String) throws(SaveError) {
        let now = DiskStamp.current(path)
        if let now, expecting.sameFile(as: now) { return }
        throw SaveError(kind: .changedOnDisk, path: path, code: 0,
                        message: "\(shown) \(expecting.change(to: now)) on disk since it was loaded: save anyway, or save as another file")
    }

    private static func writeAll(_ fd: Int32, _ bytes: [UInt8], path: String, doing: String) throws(SaveError) {
        var written = 0
        while written < bytes.count {
            let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress! + written, $0.count - written) }
            if n < 0 {
                if errno == EINTR { continue }
                throw SaveError(errno: errno, path: path, doing: doing)
            }
            if n == 0 { throw SaveError(errno: ENOSPC, path: path, doing: doing) }
            written += n
        }
    }

    /// `path.orig` becomes the file at `path` as it is now: a hard link made under a temporary
    /// name and renamed into place (so an old `.orig` is replaced whole), or a copy, written and
    /// flushed the same way, where the file system has no hard links.
    private static func keepCopy(of path: String, mode: mode_t) throws(SaveError) {
        let orig = path + ".orig"
        let doing = "cannot keep the original as \(split(orig).base)"
        var tmp = ""
        var linked = false
        for attempt in 0..<100 {
            tmp = temporaryName(for: orig, attempt: attempt)
            if link(path, tmp) == 0 { linked = true; break }
            if errno != EEXIST { break }
        }
        if !linked {
            let (bytes, _) = try DiskStamp.readingBytes(path, maxBytes: Int.max - 1)
            try save(bytes: bytes, to: orig, expecting: nil, keepOriginal: false, newFileMode: mode)
            return
        }
        guard rename(tmp, orig) == 0 else {
            let e = errno
            unlink(tmp)
            throw SaveError(errno: e, path: orig, doing: doing)
        }
    }

    /// Flush the directory entry of a rename. The file is already in place; a file system that
    /// cannot sync directories (EINVAL) has nothing more to do, so a failure here is not reported.
    private static func syncDirectory(_ dir: String) {
        let fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { return }
        _ = fsync(fd)
        close(fd)
    }
}
