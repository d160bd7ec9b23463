#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// What a file was on disk at one moment: which file (device and inode), its size, modification
/// time and a hash of its bytes. Taken when a lab is loaded, it lets a save notice that the file
/// was since replaced (another inode: an editor's save, `mv`), edited in place (other bytes, even
/// of the same size and within the same timestamp tick) or deleted, and ask before overwriting.
public struct DiskStamp: Equatable, Hashable, Sendable {
    public var device: UInt64
    public var inode: UInt64
    public var size: Int64
    /// Modification time in nanoseconds since the epoch.
    public var modified: Int64
    /// FNV-1a 64 of the file's bytes.
    public var contentHash: UInt64

    public init(device: UInt64, inode: UInt64, size: Int64, modified: Int64, contentHash: UInt64) {
        self.device = device
        self.inode = inode
        self.size = size
        self.modified = modified
        self.contentHash = contentHash
    }

    /// The stamp of the file at `path` now (reads it whole to hash it).
    public static func of(_ path: String) throws(SaveError) -> DiskStamp {
        try reading(path).stamp
    }

    /// The stamp of the file at `path` now, or nil when there is none (or it cannot be read).
    /// A UI compares it with the stamp it loaded (`stamp.isCurrent(at:)`) before asking to save.
    public static func current(_ path: String) -> DiskStamp? {
        try? reading(path).stamp
    }

    /// The file's text and its stamp, taken from one open file, so the stamp describes exactly
    /// the bytes returned (load the lab from this text, keep the stamp for the save).
    public static func reading(_ path: String, maxBytes: Int = TopologyFile.maxFileBytes) throws(SaveError) -> (text: String, stamp: DiskStamp) {
        let (bytes, stamp) = try readingBytes(path, maxBytes: maxBytes)
        return (String(decoding: bytes, as: UTF8.self), stamp)
    }

    static func readingBytes(_ path: String, maxBytes: Int) throws(SaveError) -> (bytes: [UInt8], stamp: DiskStamp) {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw SaveError(errno: errno, path: path, doing: "cannot read") }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw SaveError(errno: errno, path: path, doing: "cannot read") }
        if (st.st_mode & S_IFMT) == S_IFDIR { throw SaveError(errno: EISDIR, path: path, doing: "cannot read") }
        var bytes: [UInt8] = []
        var buf = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = read(fd, &buf, buf.count)
            if n < 0 {
                if errno == EINTR { continue }
                throw SaveError(errno: errno, path: path, doing: "cannot read")
            }
            if n == 0 { break }
            bytes += buf[0..<n]
            if bytes.count > maxBytes {
                throw SaveError(kind: .tooLarge, path: path, code: 0, message: "\(path): larger than \(maxBytes) bytes")
            }
        }
        let stamp = DiskStamp(device: UInt64(st.st_dev), inode: UInt64(st.st_ino), size: Int64(bytes.count),
                              modified: modifiedNanoseconds(st),
                              contentHash: fnv1a64(bytes))
        return (bytes, stamp)
    }

    /// The file at `path` is still the one stamped: same file (device, inode) with the same bytes.
    /// A changed modification time alone (`touch`) loses nothing, so it does not count.
    public func isCurrent(at path: String) -> Bool {
        guard let now = DiskStamp.current(path) else { return false }
        return sameFile(as: now)
    }

    /// Same device, inode, size and content hash (the modification time is not compared).
    public func sameFile(as other: DiskStamp) -> Bool {
        device == other.device && inode == other.inode && size == other.size && contentHash == other.contentHash
    }

    /// What differs from `now` (nil: the file is gone), in words for a question to the user.
    public func change(to now: DiskStamp?) -> String {
        guard let now else { return "was deleted" }
        if device != now.device || inode != now.inode { return "was replaced by another file" }
        if size != now.size || contentHash != now.contentHash { return "was changed" }
        return "is unchanged"
    }

    /// A `stat`'s modification time in nanoseconds since the epoch.
    static func modifiedNanoseconds(_ st: stat) -> Int64 {
        #if canImport(Darwin)
        let t = st.st_mtimespec
        #else
        let t = st.st_mtim
        #endif
        return Int64(t.tv_sec) * 1_000_000_000 + Int64(t.tv_nsec)
    }

    /// FNV-1a, 64 bits.
    public static func fnv1a64<C: Collection>(_ bytes: C) -> UInt64 where C.Element == UInt8 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in bytes {
            h ^= UInt64(b)
            h = h &* 0x0000_0100_0000_01B3
        }
        return h
    }
}
