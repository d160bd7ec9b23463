#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An unsaved lab kept by the explorer when it could not ask (Ctrl-C, SIGTERM, SIGHUP, a crash).
public struct Recovery: Equatable, Sendable {
    /// The lab's text, as it was written (without the recovery header line).
    public var text: String
    /// The canonical path of the lab it recovers, or nil for a lab never saved.
    public var labPath: String?
    /// When it was written: seconds since the epoch (the recovery file's modification time).
    public var saved: Int64
    /// The recovery file itself (loadable as a lab: its header is a YAML comment).
    public var file: String

    public init(text: String, labPath: String?, saved: Int64, file: String) {
        self.text = text
        self.labPath = labPath
        self.saved = saved
        self.file = file
    }
}

/// Where a crash handler writes a recovery file, computed before any crash: an async-signal-safe
/// writer does `open(tempPath, O_WRONLY|O_CREAT|O_TRUNC, 0600)`, writes `header` then the lab
/// text, `fsync`, `close`, `rename(tempPath, recoveryPath)` — no allocation, no locks.
public struct CrashSnapshot: Equatable, Sendable {
    public var recoveryPath: String
    public var tempPath: String
    /// The first line of the file (ends with a line break), as `write` writes it.
    public var header: String
}

/// Recovery files under `$XDG_STATE_HOME/csumlab/recovery/` (default
/// `~/.local/state/csumlab/recovery/`, created 0700), one per lab, keyed by the lab's absolute,
/// canonical path: the file name is the lab's name and a hash of that path, and the file's first
/// line, a YAML comment, records the path itself (so a hash collision is never taken for a match).
public struct RecoveryStore: Sendable {
    public let directory: String

    /// The store the environment names (`XDG_STATE_HOME`, else `HOME`); an error in words when
    /// neither is set to an absolute path.
    public init() throws(SaveError) {
        try self.init(environment: StateDirectory.processEnvironment())
    }

    /// A store in `directory` (created when first written).
    public init(directory: String) {
        self.directory = directory
    }

    init(environment env: [String: String]) throws(SaveError) {
        // The XDG base directory specification ignores a relative XDG_STATE_HOME.
        if let base = StateDirectory.base(environment: env) {
            directory = base + "/recovery"
        } else {
            throw SaveError(kind: .noStateDirectory, path: "", code: 0,
                            message: "no place for recovery files: set HOME (or XDG_STATE_HOME) to an absolute directory")
        }
    }

    // MARK: Keys

    /// `path` made absolute and canonical: symbolic links resolved, `.` and `..` removed. A file
    /// that does not exist yet is resolved through its directory, else lexically.
    public static func canonicalPath(_ path: String) -> String {
        if let real = realPath(path) { return real }
        let absolute = path.hasPrefix("/") ? path : currentDirectory() + "/" + path
        let (dir, base) = LabSaver.split(absolute)
        if base != "." && base != "..", !base.isEmpty, let realDir = realPath(dir) {
            return (realDir == "/" ? "" : realDir) + "/" + base
        }
        var parts: [Substring] = []
        for p in absolute.split(separator: "/") {
            if p == "." { continue }
            if p == ".." { _ = parts.popLast(); continue }
            parts.append(p)
        }
        return "/" + parts.joined(separator: "/")
    }

    /// The recovery file for a lab (`nil`: a lab never saved).
    public func file(for labPath: String?) -> String {
        guard let labPath else { return directory + "/unsaved-lab.yaml" }
        let key = Self.canonicalPath(labPath)
        var stem = LabSaver.split(key).base
        if stem.hasSuffix(".yaml") { stem.removeLast(5) } else if stem.hasSuffix(".yml") { stem.removeLast(4) }
        stem = String(stem.unicodeScalars.map { $0.isASCII && (Character($0).isLetter || Character($0).isNumber || "-_.".unicodeScalars.contains($0)) ? Character($0) : "_" }.prefix(40))
        let hash = String(DiskStamp.fnv1a64(Array(key.utf8)), radix: 16)
        return "\(directory)/\(stem)-\(String(repeating: "0", count: 16 - hash.count))\(hash).yaml"
    }

    /// The header line that records which lab a recovery file belongs to.
    public func header(for labPath: String?) -> String {
        guard let labPath else { return "# csumlab recovery: (unsaved lab)\n" }
        return "# csumlab recovery: \(Self.escaped(Self.canonicalPath(labPath)))\n"
    }

    // MARK: Files

    /// Keep `text` as the recovery of `labPath`, atomically (as `LabSaver` saves), mode 0600.
    public func write(text: String, for labPath: String?) throws(SaveError) {
        try makeDirectory()
        try LabSaver.save(bytes: Array((header(for: labPath) + text).utf8), to: file(for: labPath),
                          expecting: nil, keepOriginal: false, newFileMode: 0o600)
    }

    /// The recovery of `labPath`, if one is kept.
    public func find(for labPath: String?) -> Recovery? {
        let path = file(for: labPath)
        guard let (text, _) = try? DiskStamp.reading(path, maxBytes: TopologyFile.maxFileBytes + 4096) else { return nil }
        guard let recovery = Self.recovery(text, file: path) else { return nil }
        let key = labPath.map(Self.canonicalPath)
        return recovery.labPath == key ? recovery : nil
    }

    /// Every recovery kept, oldest first.
    public func all() -> [Recovery] {
        guard let d = opendir(directory) else { return [] }
        defer { closedir(d) }
        var found: [Recovery] = []
        while let e = readdir(d) {
            let name = withUnsafeBytes(of: e.pointee.d_name) { String(cString: $0.bindMemory(to: CChar.self).baseAddress!) }
            guard name.hasSuffix(".yaml"), !name.hasPrefix(".") else { continue }
            let path = directory + "/" + name
            if let (text, _) = try? DiskStamp.reading(path, maxBytes: TopologyFile.maxFileBytes + 4096),
               let r = Self.recovery(text, file: path) {
                found.append(r)
            }
        }
        return found.sorted { ($0.saved, $0.file) < ($1.saved, $1.file) }
    }

    /// Forget the recovery of `labPath` (after it was restored or declined).
    public func remove(for labPath: String?) {
        unlink(file(for: labPath))
    }

    /// The paths and header a crash handler needs for `labPath`; creates the directory now, since
    /// a signal handler cannot.
    public func crashSnapshot(for labPath: String?) throws(SaveError) -> CrashSnapshot {
        try makeDirectory()
        let path = file(for: labPath)
        let (dir, base) = LabSaver.split(path)
        return CrashSnapshot(recoveryPath: path, tempPath: "\(dir)/.\(base).crash-\(getpid()).tmp", header: header(for: labPath))
    }

    // MARK: Helpers

    private static let prefix = "# csumlab recovery: "

    private static func recovery(_ text: String, file: String) -> Recovery? {
        guard text.hasPrefix(prefix), let newline = text.firstIndex(of: "\n") else { return nil }
        let value = String(text[text.index(text.startIndex, offsetBy: prefix.count)..<newline])
        let lab: String?
        if value == "(unsaved lab)" {
            lab = nil
        } else if value.hasPrefix("/"), let path = unescaped(value) {
            lab = path
        } else {
            return nil
        }
        var st = stat()
        let saved = stat(file, &st) == 0 ? DiskStamp.modifiedNanoseconds(st) / 1_000_000_000 : 0
        return Recovery(text: String(text[text.index(after: newline)...]), labPath: lab, saved: saved, file: file)
    }

    /// Bytes outside printable ASCII, and `%`, as `%XX`: the header stays one line whatever the path.
    static func escaped(_ path: String) -> String {
        var out = ""
        for b in path.utf8 {
            if b >= 0x20 && b < 0x7F && b != UInt8(ascii: "%") {
                out.append(Character(Unicode.Scalar(b)))
            } else {
                let h = String(b, radix: 16, uppercase: true)
                out += "%" + (h.count == 1 ? "0" + h : h)
            }
        }
        return out
    }

    static func unescaped(_ s: String) -> String? {
        var bytes: [UInt8] = []
        let u = Array(s.utf8)
        var i = 0
        while i < u.count {
            if u[i] == UInt8(ascii: "%") {
                guard i + 2 < u.count, let b = UInt8(String(decoding: u[(i + 1)...(i + 2)], as: UTF8.self), radix: 16) else { return nil }
                bytes.append(b)
                i += 3
            } else {
                bytes.append(u[i])
                i += 1
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Create the store's directory and any missing parents, 0700 (state is private).
    private func makeDirectory() throws(SaveError) {
        try StateDirectory.create(directory, what: "the recovery directory")
    }

    private static func realPath(_ path: String) -> String? {
        guard let p = realpath(path, nil) else { return nil }
        defer { free(p) }
        return String(cString: p)
    }

    private static func currentDirectory() -> String {
        var buf = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        guard getcwd(&buf, buf.count) != nil else { return "/" }
        return String(decoding: buf.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
