#if canImport(Glibc)
import Glibc
#endif
import Testing
@testable import TopologyFile

/// The recovery store and the lab catalog. Serialized: two tests set environment variables
/// (`XDG_STATE_HOME`, `CSUMLAB_LABS`) that the code under test reads.
@Suite(.serialized) struct EnvironmentFileTests {
    static let packageRoot: String = {
        var parts = #filePath.split(separator: "/", omittingEmptySubsequences: false)
        parts.removeLast(3)
        return parts.joined(separator: "/")
    }()

    /// Run `body` with `name` set to `value`, then put the old value back.
    static func with(_ name: String, _ value: String, _ body: () throws -> Void) rethrows {
        let old = getenv(name).map { String(cString: $0) }
        setenv(name, value, 1)
        defer { if let old { setenv(name, old, 1) } else { unsetenv(name) } }
        try body()
    }

    @Suite struct RecoveryStoreTests {
        @Test func theStoreLivesWhereXDGSays() throws {
            #expect(try RecoveryStore(environment: ["XDG_STATE_HOME": "/s", "HOME": "/h"]).directory == "/s/csumlab/recovery")
            #expect(try RecoveryStore(environment: ["XDG_STATE_HOME": "rel", "HOME": "/h"]).directory == "/h/.local/state/csumlab/recovery",
                    "a relative XDG_STATE_HOME is ignored")
            #expect(try RecoveryStore(environment: ["HOME": "/h"]).directory == "/h/.local/state/csumlab/recovery")
            let error = #expect(throws: SaveError.self) { try RecoveryStore(environment: [:]) }
            #expect(error?.kind == .noStateDirectory)
            #expect(error?.message.contains("HOME") == true)

            let state = Scratch.directory("xdg")
            defer { Scratch.remove(state) }
            try EnvironmentFileTests.with("XDG_STATE_HOME", state) {
                let store = try RecoveryStore()
                #expect(store.directory == state + "/csumlab/recovery")
                try store.write(text: "csumlab: 1\nnodes: {}\n", for: nil)
                var st = stat()
                stat(state + "/csumlab", &st)
                #expect(st.st_mode & 0o777 == 0o700)
                stat(store.directory, &st)
                #expect(st.st_mode & 0o777 == 0o700)
                stat(store.file(for: nil), &st)
                #expect(st.st_mode & 0o777 == 0o600, "a recovery is private")
            }
        }

        @Test func writeFindRemoveByCanonicalPath() throws {
            let root = Scratch.directory("recovery")
            defer { Scratch.remove(root + "/state/csumlab/recovery"); Scratch.remove(root + "/state/csumlab"); Scratch.remove(root + "/state"); Scratch.remove(root + "/labs"); Scratch.remove(root) }
            mkdir(root + "/labs", 0o755)
            let lab = root + "/labs/mine.yaml"
            Scratch.write("csumlab: 1\nnodes: {}\n", to: lab)
            symlink(root + "/labs", root + "/alias")
            defer { unlink(root + "/alias") }
            let store = RecoveryStore(directory: root + "/state/csumlab/recovery")
            #expect(store.find(for: lab) == nil)

            let text = "csumlab: 1\nname: mine\nnodes:\n  tap1: {kind: tap}\n"
            try store.write(text: text, for: root + "/labs/../labs/./mine.yaml")
            // Found by any path naming the same file: relative parts, a symbolic link.
            for name in [lab, root + "/alias/mine.yaml", root + "//labs/mine.yaml"] {
                let found = try #require(store.find(for: name), "\(name)")
                #expect(found.text == text)
                #expect(found.labPath == RecoveryStore.canonicalPath(lab))
                #expect(found.saved > 0)
            }
            // The recovery file is a lab itself: its header is a comment.
            let file = try #require(Scratch.read(store.file(for: lab)))
            #expect(try TopologyFile.parse(file, file: "r.yaml").topology == (try TopologyFile.parse(text, file: "t.yaml")).topology)
            // Another lab, and a lab never saved, have their own.
            #expect(store.find(for: root + "/labs/other.yaml") == nil)
            #expect(store.find(for: nil) == nil)
            try store.write(text: "csumlab: 1\nnodes: {}\n", for: nil)
            #expect(store.find(for: nil)?.labPath == nil)
            #expect(store.find(for: nil)?.text == "csumlab: 1\nnodes: {}\n")
            #expect(store.all().count == 2)
            // A newer write replaces the older.
            try store.write(text: "csumlab: 1\n", for: lab)
            #expect(store.find(for: lab)?.text == "csumlab: 1\n")
            store.remove(for: lab)
            #expect(store.find(for: lab) == nil)
            #expect(Scratch.list(store.directory) == [LabSaver.split(store.file(for: nil)).base])
        }

        @Test func aPathWithLineBreaksStaysOneHeaderLine() throws {
            let root = Scratch.directory("recovery-odd")
            let store = RecoveryStore(directory: root + "/r")
            defer { Scratch.remove(root + "/r"); Scratch.remove(root) }
            let odd = root + "/odd\nname %41 é.yaml"
            try store.write(text: "csumlab: 1\n", for: odd)
            #expect(store.header(for: odd).filter { $0 == "\n" }.count == 1)
            #expect(store.find(for: odd)?.labPath == RecoveryStore.canonicalPath(odd))
            #expect(store.find(for: odd)?.text == "csumlab: 1\n")
            // A file at the right name whose header names another lab is not taken for it.
            Scratch.write(store.header(for: root + "/else.yaml") + "csumlab: 1\n", to: store.file(for: odd))
            #expect(store.find(for: odd) == nil)
        }

        @Test func aCrashSnapshotIsWrittenWithPlainSystemCalls() throws {
            let root = Scratch.directory("recovery-crash")
            let store = RecoveryStore(directory: root + "/deep/r")
            defer { Scratch.remove(root + "/deep/r"); Scratch.remove(root + "/deep"); Scratch.remove(root) }
            let lab = root + "/lab.yaml"
            let snap = try store.crashSnapshot(for: lab)
            #expect(snap.recoveryPath == store.file(for: lab))
            #expect(LabSaver.split(snap.tempPath).dir == store.directory)
            #expect(snap.tempPath != snap.recoveryPath)
            // What an async-signal-safe handler does with it.
            let text = "csumlab: 1\nnodes: {}\n"
            let bytes = Array((snap.header + text).utf8)
            let fd = open(snap.tempPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
            #expect(fd >= 0, "the directory exists before any crash")
            #expect(Glibc.write(fd, bytes, bytes.count) == bytes.count)
            fsync(fd)
            close(fd)
            rename(snap.tempPath, snap.recoveryPath)
            #expect(store.find(for: lab)?.text == text)
            #expect(store.find(for: lab)?.labPath == RecoveryStore.canonicalPath(lab))
        }
    }

    @Suite struct LabCatalogTests {
        @Test func theShippedLabsAreFoundFromTheExecutable() throws {
            // This test bundle lives under .build/ in the repository, like a built csumlab.
            let exe = try #require(LabCatalog.executablePath())
            let dir = try LabCatalog.shippedDirectory(labsVariable: nil, executable: exe)
            #expect(RecoveryStore.canonicalPath(dir) == RecoveryStore.canonicalPath(EnvironmentFileTests.packageRoot + "/topologies"))
            // CSUMLAB_LABS wins, read from the environment.
            let other = Scratch.directory("labs-env")
            defer { Scratch.remove(other) }
            try EnvironmentFileTests.with("CSUMLAB_LABS", other) { () throws -> Void in
                let found = try LabCatalog.shippedDirectory()
                #expect(found == other)
            }
            let notDir = #expect(throws: LabCatalogError.self) {
                try LabCatalog.shippedDirectory(labsVariable: other + "/missing", executable: exe)
            }
            #expect(notDir?.message.contains("CSUMLAB_LABS") == true)
        }

        @Test func anInstalledBinaryFindsShareCsumlabTopologies() throws {
            let prefix = Scratch.directory("prefix")
            defer {
                Scratch.remove(prefix + "/share/csumlab/topologies"); Scratch.remove(prefix + "/share/csumlab")
                Scratch.remove(prefix + "/share"); Scratch.remove(prefix + "/bin"); Scratch.remove(prefix)
            }
            for d in ["/bin", "/share", "/share/csumlab", "/share/csumlab/topologies"] { mkdir(prefix + d, 0o755) }
            let exe = prefix + "/bin/csumlab"
            let none = #expect(throws: LabCatalogError.self) { try LabCatalog.shippedDirectory(labsVariable: nil, executable: exe) }
            #expect(none?.message.contains("CSUMLAB_LABS") == true, "an empty topologies directory does not count")
            Scratch.write("csumlab: 1\nnodes: {}\n", to: prefix + "/share/csumlab/topologies/a.yaml")
            #expect(try LabCatalog.shippedDirectory(labsVariable: nil, executable: exe) == prefix + "/share/csumlab/topologies")
        }

        @Test func everyShippedLabIsListedWithItsFirstSentence() throws {
            let dir = EnvironmentFileTests.packageRoot + "/topologies"
            let entries = try LabCatalog.entries(in: dir)
            #expect(entries.map { $0.name + ".yaml" } == FuzzTests.shipped.map(\.name))
            for e in entries {
                #expect(e.error == nil, "\(e.name): \(e.error ?? "")")
                #expect(!e.summary.isEmpty && e.description.hasPrefix(e.summary), "\(e.name)")
                #expect(e.summary.count < e.description.count || !e.description.dropLast().contains(". "), "\(e.name)")
            }
            let bridged = try #require(entries.first { $0.name == "seed-bridged" })
            #expect(bridged.summary == "The seed's first lab: two QEMU guests on one host bridge.")
            #expect(try LabCatalog.shippedLab(named: "seed-bridged").hasSuffix("/topologies/seed-bridged.yaml"))
            let unknown = #expect(throws: LabCatalogError.self) { try LabCatalog.shippedLab(named: "no-such-lab") }
            #expect(unknown?.message.contains("seed-bridged") == true, "the message names the labs there are")
        }

        @Test func aUsersDirectoryListsBrokenFilesWithTheirError() throws {
            let dir = Scratch.directory("userlabs")
            defer { Scratch.remove(dir) }
            Scratch.write("csumlab: 1\ndescription: Mine. More text.\nnodes: {}\n", to: dir + "/b-good.yaml")
            Scratch.write("csumlab: 1\nnodes: {tap1: {kind: nonsense}}\n", to: dir + "/a-broken.yml")
            Scratch.write("not a lab", to: dir + "/notes.txt")
            Scratch.write("csumlab: 1\n", to: dir + "/.hidden.yaml")
            let entries = try LabCatalog.entries(in: dir)
            #expect(entries.map(\.name) == ["a-broken", "b-good"])
            #expect(entries[0].error?.contains("a-broken.yml:2:") == true, "\(entries[0].error ?? "")")
            #expect(entries[1].error == nil && entries[1].summary == "Mine.")
            let missing = #expect(throws: LabCatalogError.self) { try LabCatalog.entries(in: dir + "/nope") }
            #expect(missing?.message.contains("No such file") == true)
        }

        @Test func theSummaryIsTheFirstSentence() {
            #expect(LabCatalog.summary(of: "One. Two.") == "One.")
            #expect(LabCatalog.summary(of: "Linux 4.4 (v4.4.0) drops it! Then") == "Linux 4.4 (v4.4.0) drops it!")
            #expect(LabCatalog.summary(of: "no full stop") == "no full stop")
            #expect(LabCatalog.summary(of: "first line\nsecond. line") == "first line")
            #expect(LabCatalog.summary(of: "") == "")
        }
    }
}
