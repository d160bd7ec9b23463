import ExplorerUI
import Simulation
import Testing
import TopologyFile

#if canImport(Glibc)
import Glibc
#endif

/// Saving, opening and recovering labs from the explorer, over real files in a temporary
/// directory (the storage the terminal front end uses) and a storage that fails on purpose.
@Suite struct FileTests {
    /// A fresh directory, and a storage whose recovery files live in it.
    func sandbox() throws -> (dir: String, storage: FileStorage) {
        var template = Array("/tmp/csumlab-filetests-XXXXXX".utf8CString)
        let dir = try #require(template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }.map { String(cString: $0) })
        return (dir, FileStorage(recoveryDirectory: dir + "/state"))
    }

    let commented = """
        # My lab: the seed, by hand.
        csumlab: 1
        name: mine
        nodes:
          vm1:   # the client
            kind: vm
            interfaces:
              eth0: {address: 10.0.1.2/24}
          tap1: {kind: tap}
          br1: {kind: bridge}
        links:
          - endpoints: ["vm1:eth0", "tap1"]
          - endpoints: ["tap1", "br1"]   # a bridge port

        """

    /// Open `path` as `csumlab explore PATH` does.
    func open(_ path: String, _ storage: FileStorage) throws -> ExplorerState {
        var s = ExplorerState(document: try LabDocument(structure: Topology(name: "start"), path: nil, label: "start"), storage: storage)
        s.perform(.openFile)
        for c in path { s.handle(.key(.char(c))) }
        s.handle(.key(.enter))
        #expect(s.document.path == path, "\(s.message ?? "")")
        return s
    }

    func addBridge(_ s: inout ExplorerState) throws {
        s.handle(.key(.char("a")))
        let i = try #require(NodeTemplate.allCases.firstIndex(of: .bridge))
        for _ in 0..<i { s.handle(.key(.down)) }
        s.handle(.key(.enter))
    }

    @Test func aSaveThatDropsCommentsAsksAndKeepsTheOriginal() throws {
        let (dir, storage) = try sandbox()
        let path = dir + "/mine.yaml"
        try FileText.writeAtomically(commented, to: path)
        var s = try open(path, storage)
        try addBridge(&s)
        s.handle(.key(.char("w")))
        guard case let .confirm(q) = s.overlay else { Issue.record("no question before dropping comments"); return }
        // The three comments, by line.
        #expect(q.lines.contains { $0.contains("line 1: # My lab: the seed, by hand.") })
        #expect(q.lines.contains { $0.contains("line 5:") && $0.contains("# the client") })
        #expect(q.lines.contains { $0.contains("line 13:") && $0.contains("# a bridge port") })
        // n: nothing written.
        s.handle(.key(.char("n")))
        #expect(try FileText.read(path) == commented)
        s.handle(.key(.char("w")))
        s.handle(.key(.char("y")))
        #expect(try FileText.read(path + ".orig") == commented)
        let saved = try TopologyFile.load(path: path)
        #expect(saved.topology == s.topology)
        #expect(!s.document.hasUnsavedChanges)
        #expect(s.changedNodes.isEmpty)
        // The file is in csumlab's layout now: the next save does not ask.
        try addBridge(&s)
        s.handle(.key(.char("w")))
        #expect(s.overlay == nil)
        #expect(try TopologyFile.load(path: path).topology == s.topology)
    }

    @Test func saveAsNeverOverwritesAndMovesTheDocument() throws {
        let (dir, storage) = try sandbox()
        let path = dir + "/mine.yaml"
        try FileText.writeAtomically(commented, to: path)
        var s = try open(path, storage)
        try addBridge(&s)
        s.handle(.key(.char("w")))
        s.handle(.key(.char("s")))
        guard case .form = s.overlay else { Issue.record("s did not offer save as"); return }
        try FileText.writeAtomically("other", to: dir + "/other.yaml")
        for _ in 0..<200 { s.handle(.key(.backspace)) }
        for c in dir + "/other.yaml" { s.handle(.key(.char(c))) }
        s.handle(.key(.enter))
        if case let .form(f) = s.overlay { #expect(f.error?.contains("exists") == true) } else { Issue.record("overwrote an existing file") }
        #expect(try FileText.read(dir + "/other.yaml") == "other")
        for _ in 0..<200 { s.handle(.key(.backspace)) }
        for c in dir + "/copy.yaml" { s.handle(.key(.char(c))) }
        s.handle(.key(.enter))
        #expect(s.overlay == nil, "\(String(describing: s.overlay)) \(s.message ?? "")")
        #expect(s.document.path == dir + "/copy.yaml")
        #expect(try FileText.read(path) == commented)
        #expect(try TopologyFile.load(path: dir + "/copy.yaml").topology == s.topology)
    }

    @Test func aFileChangedOnDiskIsNoticedBeforeASave() throws {
        let (dir, storage) = try sandbox()
        let path = dir + "/mine.yaml"
        let canonical = TopologyWriter.yaml(try TopologyFile.parse(commented, file: "x").topology)
        try FileText.writeAtomically(canonical, to: path)
        var s = try open(path, storage)
        try addBridge(&s)
        // Someone else edits the file (same size, different bytes).
        let other = canonical.replacingFirst("name: mine", with: "name: mind")
        try FileText.writeAtomically(other, to: path)
        s.handle(.key(.char("w")))
        guard case let .confirm(q) = s.overlay, case .overwriteChanged = q.purpose else { Issue.record("a changed file was overwritten without asking"); return }
        #expect(try FileText.read(path) == other)
        s.handle(.key(.char("y")))
        #expect(try FileText.read(path + ".orig") == other)
        #expect(try TopologyFile.load(path: path).topology == s.topology)
    }

    /// A storage whose saves fail, as a read-only directory or a full disk would.
    struct FailingStorage: LabStorage {
        let inner: FileStorage
        let why: String
        func read(_ path: String) throws(StorageError) -> (text: String, stamp: DiskStamp) { try inner.read(path) }
        func stamp(_ path: String) -> DiskStamp? { inner.stamp(path) }
        func save(_ text: String, to path: String, expecting: DiskStamp?, keepOriginal: Bool) throws(StorageError) -> DiskStamp {
            throw StorageError(why)
        }
        func labs(in directory: String?) -> [LabEntry] { inner.labs(in: directory) }
        func writeRecovery(_ text: String, for path: String?) throws(StorageError) { try inner.writeRecovery(text, for: path) }
        func recovery(for path: String?) -> Recovery? { inner.recovery(for: path) }
        func removeRecovery(for path: String?) { inner.removeRecovery(for: path) }
        func crashSnapshot(for path: String?) -> CrashSnapshot? { inner.crashSnapshot(for: path) }
    }

    @Test func aFailedSaveSaysWhyAndKeepsTheChanges() throws {
        let (dir, storage) = try sandbox()
        let path = dir + "/mine.yaml"
        let canonical = TopologyWriter.yaml(try TopologyFile.parse(commented, file: "x").topology)
        try FileText.writeAtomically(canonical, to: path)
        var s = try open(path, storage)
        s.storage = FailingStorage(inner: storage, why: "\(path): cannot create a file in \(dir): Read-only file system")
        try addBridge(&s)
        s.handle(.key(.char("w")))
        #expect(s.message?.hasPrefix("not saved: ") == true)
        #expect(s.message?.contains("Read-only file system") == true)
        #expect(s.document.hasUnsavedChanges)
        #expect(try FileText.read(path) == canonical)
    }

    @Test func quittingOrOpeningWithUnsavedChangesAsks() throws {
        let (dir, storage) = try sandbox()
        let path = dir + "/mine.yaml"
        try FileText.writeAtomically(TopologyWriter.yaml(try TopologyFile.parse(commented, file: "x").topology), to: path)
        var s = try open(path, storage)
        s.handle(.key(.char("q")))
        #expect(s.quitRequested, "nothing unsaved: q quits at once")
        s = try open(path, storage)
        try addBridge(&s)
        s.handle(.key(.char("q")))
        #expect(!s.quitRequested)
        guard case .confirm = s.overlay else { Issue.record("no question"); return }
        s.handle(.key(.escape))
        #expect(!s.quitRequested)
        // Opening another lab asks too, and n keeps this one.
        s.perform(.openFile)
        for c in path { s.handle(.key(.char(c))) }
        s.handle(.key(.enter))
        guard case let .confirm(q) = s.overlay, case .open = q.purpose else { Issue.record("opened over unsaved changes"); return }
        s.handle(.key(.char("n")))
        #expect(s.document.hasUnsavedChanges)
        // s on the quit question saves, then quits.
        s.handle(.key(.char("q")))
        s.handle(.key(.char("s")))
        #expect(s.quitRequested)
        #expect(try TopologyFile.load(path: path).topology == s.topology)
    }

    @Test func unsavedChangesSurviveASignalThroughTheRecoveryFile() throws {
        let (dir, storage) = try sandbox()
        let path = dir + "/mine.yaml"
        try FileText.writeAtomically(TopologyWriter.yaml(try TopologyFile.parse(commented, file: "x").topology), to: path)
        var s = try open(path, storage)
        #expect(s.keepUnsavedChanges() == nil, "nothing unsaved: no recovery file")
        try addBridge(&s)
        let edited = s.topology
        #expect(s.keepUnsavedChanges()?.contains("unsaved changes kept") == true)
        // The next start offers it; y restores it as unsaved changes.
        var t = try open(path, storage)
        guard case let .confirm(q) = t.overlay, case .restoreRecovery = q.purpose else { Issue.record("no offer to restore"); return }
        t.handle(.key(.char("y")))
        #expect(t.topology == edited)
        #expect(t.document.hasUnsavedChanges)
        // Declined, it is gone.
        _ = s.keepUnsavedChanges()
        var u = try open(path, storage)
        u.handle(.key(.char("n")))
        #expect(storage.recovery(for: path) == nil)
        u = try open(path, storage)
        #expect(u.overlay == nil)
    }

    @Test func theBrowserListsADirectorysLabsAndOpensOne() throws {
        let (dir, storage) = try sandbox()
        try FileText.writeAtomically(commented, to: dir + "/a.yaml")
        try FileText.writeAtomically("csumlab: 1\nname: broken\nnodes: {x: {kind: spaceship}}\n", to: dir + "/b.yaml")
        var s = ExplorerState(document: try LabDocument(structure: Topology(name: "start"), path: nil, label: "start"), storage: storage)
        s.browse(directory: dir)
        guard case .browser = s.overlay else { Issue.record("no browser: \(s.message ?? "")"); return }
        let mine = try #require(s.browserEntries.firstIndex { $0.path.hasSuffix("/a.yaml") })
        let broken = try #require(s.browserEntries.first { $0.path.hasSuffix("/b.yaml") })
        #expect(broken.error != nil)
        for _ in 0..<mine { s.handle(.key(.down)) }
        s.handle(.key(.enter))
        #expect(s.document.path?.hasSuffix("/a.yaml") == true)
        #expect(s.topology.name == "mine")
    }
}

extension String {
    func replacingFirst(_ a: String, with b: String) -> String {
        guard let r = range(of: a) else { return self }
        return replacingCharacters(in: r, with: b)
    }
}

extension FileTests {
    /// `w` on a shipped lab just opened asks nothing: the canonical rewrite says what the file
    /// says, in a description wrapped the way the file wraps it or folded to the same text.
    /// The one shipped lab with comments asks about its comments only, never its layout.
    @Test func savingAShippedLabUnchangedAsksNothingButItsComments() throws {
        let (dir, storage) = try sandbox()
        let names = Self.entries(of: packageRoot + "/topologies").filter { $0.hasSuffix(".yaml") }.sorted()
        #expect(names.count > 20)
        for name in names {
            let text = try FileText.read(packageRoot + "/topologies/" + name)
            let path = dir + "/" + name
            try FileText.writeAtomically(text, to: path)
            var s = try open(path, storage)
            s.handle(.key(.char("w")))
            let comments = SaveCheck.comments(in: text)
            if comments.isEmpty {
                if case let .confirm(q)? = s.overlay { Issue.record("\(name): asks \(q.lines)") }
                #expect(s.message == "saved \(path)", "\(name)")
                #expect(try TopologyFile.load(path: path).topology == s.topology, "\(name)")
            } else {
                guard case let .confirm(q)? = s.overlay else { Issue.record("\(name): its comments go without a question"); continue }
                #expect(!SaveCheck.rewriteLosses(original: text, rewritten: s.fileText).layoutChanges, "\(name): \(q.lines)")
                #expect(q.lines.filter { $0.hasPrefix("  line ") }.count == comments.count, "\(name): \(q.lines)")
            }
        }
    }
}

extension FileTests {
    /// The names in a directory.
    static func entries(of path: String) -> [String] {
        guard let d = opendir(path) else { return [] }
        defer { closedir(d) }
        var out: [String] = []
        while let e = readdir(d) {
            let name = withUnsafePointer(to: e.pointee.d_name) { p in
                p.withMemoryRebound(to: CChar.self, capacity: 256) { String(cString: $0) }
            }
            if name != "." && name != ".." { out.append(name) }
        }
        return out
    }
}
