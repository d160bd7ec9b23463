#if canImport(Glibc)
import Glibc
#endif
import Testing
@testable import TopologyFile

/// `LabSaver`: a save replaces the file whole or not at all, and a failure says why (issue 11,
/// "Files", and its fault tests). Read-only and full file systems are tmpfs mounts (root can
/// write through file modes); without the right to mount, those tests are skipped outside CI.
@Suite struct LabSaverTests {
    static let mountOrCI = Scratch.canMount || Scratch.isCI

    @Test func aSaveReplacesTheFileAndLeavesNothingElse() throws {
        let dir = Scratch.directory("save")
        defer { Scratch.remove(dir) }
        let path = "\(dir)/lab.yaml"
        try LabSaver.save(text: "first\n", to: path, expecting: nil, keepOriginal: false)
        #expect(Scratch.read(path) == "first\n")
        var st = stat()
        stat(path, &st)
        let mask = Scratch.umask
        #expect(st.st_mode & 0o777 == 0o644 & ~mask, "a new file: 0644 less the umask")
        // The old file's mode is kept.
        chmod(path, 0o600)
        try LabSaver.save(text: "second\n", to: path, expecting: nil, keepOriginal: false)
        #expect(Scratch.read(path) == "second\n")
        stat(path, &st)
        #expect(st.st_mode & 0o777 == 0o600)
        #expect(Scratch.list(dir) == ["lab.yaml"], "no temporary file left")
    }

    @Test func keepOriginalKeepsTheReplacedFileAsOrig() throws {
        let dir = Scratch.directory("orig")
        defer { Scratch.remove(dir) }
        let path = "\(dir)/lab.yaml"
        Scratch.write("by hand # with a comment\n", to: path)
        try LabSaver.save(text: "rewritten\n", to: path, expecting: nil, keepOriginal: true)
        #expect(Scratch.read(path) == "rewritten\n")
        #expect(Scratch.read(path + ".orig") == "by hand # with a comment\n")
        try LabSaver.save(text: "again\n", to: path, expecting: nil, keepOriginal: true)
        #expect(Scratch.read(path + ".orig") == "rewritten\n", "an older .orig is replaced whole")
        #expect(Scratch.list(dir) == ["lab.yaml", "lab.yaml.orig"])
        // Nothing to keep for a new file.
        try LabSaver.save(text: "new\n", to: "\(dir)/other.yaml", expecting: nil, keepOriginal: true)
        #expect(Scratch.list(dir) == ["lab.yaml", "lab.yaml.orig", "other.yaml"])
    }

    @Test func aSymbolicLinkIsFollowed() throws {
        let dir = Scratch.directory("link")
        defer { Scratch.remove(dir) }
        Scratch.write("old\n", to: "\(dir)/real.yaml")
        symlink("real.yaml", "\(dir)/lab.yaml")
        try LabSaver.save(text: "new\n", to: "\(dir)/lab.yaml", expecting: nil, keepOriginal: false)
        #expect(Scratch.read("\(dir)/real.yaml") == "new\n")
        var st = stat()
        lstat("\(dir)/lab.yaml", &st)
        #expect(st.st_mode & S_IFMT == S_IFLNK, "the link stays a link")
    }

    @Test func aDirectoryOrAMissingDirectoryIsRefusedInWords() {
        let dir = Scratch.directory("dir")
        defer { Scratch.remove(dir) }
        mkdir("\(dir)/sub.yaml", 0o755)
        let isDir = #expect(throws: SaveError.self) {
            try LabSaver.save(text: "x\n", to: "\(dir)/sub.yaml", expecting: nil, keepOriginal: false)
        }
        #expect(isDir?.kind == .isDirectory)
        #expect(isDir?.message.contains("\(dir)/sub.yaml") == true)
        #expect(isDir?.message.contains("is a directory") == true)
        let missing = #expect(throws: SaveError.self) {
            try LabSaver.save(text: "x\n", to: "\(dir)/nowhere/lab.yaml", expecting: nil, keepOriginal: false)
        }
        #expect(missing?.kind == .notFound)
        #expect(missing?.message.contains("\(dir)/nowhere") == true)
        #expect(Scratch.list(dir) == ["sub.yaml"])
    }

    @Test(.enabled(if: mountOrCI, "needs root and the right to mount a tmpfs"))
    func aReadOnlyDirectoryLeavesTheOldFileAndSaysWhy() throws {
        let dir = Scratch.directory("ro")
        defer { Scratch.remove(dir) }
        let path = "\(dir)/lab.yaml"
        if Scratch.isRoot {
            try #require(Scratch.mountTmpfs(dir, size: "64k"), "mount tmpfs")
            Scratch.write("old\n", to: path)
            try #require(Scratch.remountReadOnly(dir, size: "64k"), "remount read-only")
        } else {
            Scratch.write("old\n", to: path)
            chmod(dir, 0o555)
        }
        defer { if Scratch.isRoot { Scratch.unmount(dir) } else { chmod(dir, 0o755) } }
        let error = #expect(throws: SaveError.self) {
            try LabSaver.save(text: "new\n", to: path, expecting: nil, keepOriginal: true)
        }
        #expect(error?.kind == (Scratch.isRoot ? .readOnly : .permissionDenied))
        #expect(error?.message.contains(Scratch.isRoot ? "read-only file system" : "permission denied") == true)
        #expect(error?.message.contains(dir) == true)
        #expect(Scratch.read(path) == "old\n")
        #expect(Scratch.list(dir) == ["lab.yaml"])
    }

    @Test(.enabled(if: mountOrCI, "needs root and the right to mount a tmpfs"))
    func aFullDiskLeavesTheOldFileAndNoTemporaryFile() throws {
        let dir = Scratch.directory("full")
        defer { Scratch.remove(dir) }
        try #require(Scratch.mountTmpfs(dir, size: "16k"), "mount tmpfs")
        defer { Scratch.unmount(dir) }
        let path = "\(dir)/lab.yaml"
        let old = "csumlab: 1\nnodes: {}\n"
        Scratch.write(old, to: path)
        let big = String(repeating: "# a long comment line to fill the disk well past sixteen KiB\n", count: 1000)
        for keep in [false, true] {
            let error = #expect(throws: SaveError.self) {
                try LabSaver.save(text: big, to: path, expecting: DiskStamp.of(path), keepOriginal: keep)
            }
            #expect(error?.kind == .noSpace)
            #expect(error?.message.contains("no space left") == true)
            #expect(error?.message.contains(dir) == true)
            #expect(Scratch.read(path) == old)
            #expect(Scratch.list(dir) == ["lab.yaml"], "the temporary file is removed")
        }
        // A text that fits still saves there.
        try LabSaver.save(text: "csumlab: 1\n", to: path, expecting: nil, keepOriginal: false)
        #expect(Scratch.read(path) == "csumlab: 1\n")
    }

    @Test func aFileReplacedOrEditedOnDiskIsNoticed() throws {
        let dir = Scratch.directory("stamp")
        defer { Scratch.remove(dir) }
        let path = "\(dir)/lab.yaml"
        Scratch.write("loaded: 1\n", to: path)
        let (text, stamp) = try DiskStamp.reading(path)
        #expect(text == "loaded: 1\n")
        #expect(stamp.isCurrent(at: path))

        // Unchanged: the save goes through, and its own result is the new stamp.
        let saved = try LabSaver.save(text: "saved: 1\n", to: path, expecting: stamp, keepOriginal: false)
        #expect(saved == (try DiskStamp.of(path)), "a save returns the stamp of what it wrote")
        #expect(!stamp.isCurrent(at: path))
        // The next save expects that stamp.
        try LabSaver.save(text: "saved: 1\n", to: path, expecting: saved, keepOriginal: false)
        let again = try DiskStamp.of(path)

        // Another file renamed over it (an editor's save), even with the same bytes.
        Scratch.write("saved: 1\n", to: "\(dir)/other")
        rename("\(dir)/other", path)
        expectChanged(path, again, "replaced by another file")

        // Rewritten in place with the same size, the modification time put back.
        let now = try DiskStamp.of(path)
        var st = stat()
        stat(path, &st)
        let fd = open(path, O_WRONLY)
        _ = pwrite(fd, "X", 1, 0)
        var times = [st.st_atim, st.st_mtim]
        futimens(fd, &times)
        close(fd)
        let edited = try DiskStamp.of(path)
        #expect(edited.size == now.size && edited.modified == now.modified && edited.inode == now.inode)
        expectChanged(path, now, "was changed")

        // Deleted.
        let last = try DiskStamp.of(path)
        unlink(path)
        expectChanged(path, last, "was deleted")
        #expect(DiskStamp.current(path) == nil)

        // Touched only: nothing would be lost, the save goes through.
        Scratch.write("same\n", to: path)
        let same = try DiskStamp.of(path)
        var later = [timespec(tv_sec: 1, tv_nsec: 0), timespec(tv_sec: 1, tv_nsec: 0)]
        utimensat(AT_FDCWD, path, &later, 0)
        try LabSaver.save(text: "mine\n", to: path, expecting: same, keepOriginal: false)
        #expect(Scratch.read(path) == "mine\n")
        #expect(Scratch.list(dir) == ["lab.yaml"])
    }

    private func expectChanged(_ path: String, _ stamp: DiskStamp, _ words: String, sourceLocation: SourceLocation = #_sourceLocation) {
        let before = Scratch.read(path)
        #expect(!stamp.isCurrent(at: path), sourceLocation: sourceLocation)
        let error = #expect(throws: SaveError.self, sourceLocation: sourceLocation) {
            try LabSaver.save(text: "overwrite\n", to: path, expecting: stamp, keepOriginal: true)
        }
        #expect(error?.kind == .changedOnDisk, sourceLocation: sourceLocation)
        #expect(error?.message.contains(words) == true, "\(error?.message ?? "")", sourceLocation: sourceLocation)
        #expect(Scratch.read(path) == before, "the file on disk is left alone", sourceLocation: sourceLocation)
        #expect(!Scratch.list(LabSaver.split(path).dir).contains { $0.hasSuffix(".tmp") || $0.hasSuffix(".orig") },
                sourceLocation: sourceLocation)
    }

    @Test func fnv1aMatchesItsPublishedVectors() {
        // From the FNV reference (draft-eastlake-fnv): "" and "a" and "foobar".
        #expect(DiskStamp.fnv1a64([UInt8]()) == 0xcbf2_9ce4_8422_2325)
        #expect(DiskStamp.fnv1a64(Array("a".utf8)) == 0xaf63_dc4c_8601_ec8c)
        #expect(DiskStamp.fnv1a64(Array("foobar".utf8)) == 0x8594_4171_f739_67e8)
    }
}
