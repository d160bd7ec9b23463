import Simulation
import TerminalText
import TopologyFile

/// Files: save (`w`), save as (`W`), open (`O`, a path), quit with unsaved changes, and the
/// recovery file. A save writes the lab in the canonical layout (`TopologyWriter`); when the
/// file on disk holds comments or a layout the rewrite would change, or changed on disk since it
/// was read, it asks first.
enum FileController {
    static func noStorage(_ s: inout ExplorerState) -> Bool {
        if s.storage == nil { s.message = "this explorer cannot read or write files" }
        return s.storage == nil
    }

    /// The lab as a file would hold it now.
    static func text(_ s: ExplorerState) -> String {
        let m = s.document.materialized
        return TopologyWriter.yaml(m.structure, expectations: m.expectations)
    }

    // MARK: Save

    static func save(_ s: inout ExplorerState, thenQuit: Bool = false) {
        if noStorage(&s) { return }
        guard let path = s.document.path else {
            openSaveAs(&s, thenQuit: thenQuit)
            s.message = "the built-in lab has no file yet: choose where to save it"
            return
        }
        if let o = s.document.origin {
            let now = s.storage?.stamp(path)
            if now != o.stamp {
                s.overlay = .confirm(Confirmation(
                    purpose: .overwriteChanged(path), title: "\(path) changed on disk",
                    lines: ["It was \(now == nil ? "removed" : "changed") since csumlab read it. Overwriting loses that change (the file on disk is kept as \(path).orig)."],
                    yes: "overwrite, keeping \(path).orig", alternative: "save as a new file"))
                return
            }
            // Would the canonical layout lose what the user wrote? Compare the file with the
            // rewrite of what it said when read: any difference is the rewrite's, not the edit's
            // (a folded description whose lines break elsewhere but fold to the same text is none).
            let asRead = TopologyWriter.yaml(s.document.saved.structure, expectations: s.document.saved.expectations)
            let losses = SaveCheck.rewriteLosses(original: o.text, rewritten: asRead)
            if !losses.isLossless {
                var lines: [String] = []
                if losses.droppedComments.isEmpty {
                    lines.append("The file has no comments, but its layout differs from csumlab's; a save rewrites it.")
                } else {
                    lines.append("csumlab rewrites the file in its own layout and cannot keep comments; these \(losses.droppedComments.count) would go:")
                    for c in losses.droppedComments.prefix(12) { lines.append("  line \(c.line): \(c.text)") }
                    if losses.droppedComments.count > 12 { lines.append("  … and \(losses.droppedComments.count - 12) more") }
                }
                lines.append("y keeps the old file as \(path).orig; s saves under a new name instead.")
                s.overlay = .confirm(Confirmation(purpose: .saveDroppingComments(path), title: "Save \(path)?", lines: lines,
                                                  yes: "save anyway, keeping \(path).orig", alternative: "save as a new file"))
                return
            }
        }
        write(to: path, keepOriginal: false, force: false, &s)
        if thenQuit && !s.document.hasUnsavedChanges { s.quitRequested = true }
    }

    /// Write the lab to `path` (the file the document came from, or a new one) and record it as
    /// saved. `force` overwrites a file that changed on disk.
    static func write(to path: String, keepOriginal: Bool, force: Bool, _ s: inout ExplorerState) {
        guard let storage = s.storage else { _ = noStorage(&s); return }
        let new = text(s)
        let expecting = force || path != s.document.path ? nil : s.document.origin?.stamp
        do {
            let stamp = try storage.save(new, to: path, expecting: expecting, keepOriginal: keepOriginal)
            let oldPath = s.document.path
            s.document.markSaved(path: path, label: path, text: new, stamp: stamp)
            storage.removeRecovery(for: oldPath)
            storage.removeRecovery(for: path)
            s.refreshMarks()
            s.message = "saved \(path)" + (keepOriginal ? " (the old file is \(path).orig)" : "")
        } catch where error.changedOnDisk {
            s.overlay = .confirm(Confirmation(
                purpose: .overwriteChanged(path), title: "\(path) changed on disk",
                lines: [error.message], yes: "overwrite, keeping \(path).orig", alternative: "save as a new file"))
        } catch {
            s.message = "not saved: \(error.message) (the file on disk is unchanged)"
        }
    }

    static func openSaveAs(_ s: inout ExplorerState, thenQuit: Bool = false) {
        if noStorage(&s) { return }
        let suggestion = s.document.path.map { p in p.hasSuffix(".yaml") ? String(p.dropLast(5)) + "-2.yaml" : p + "-2.yaml" }
            ?? (s.topology.name.isEmpty ? "lab" : s.topology.name) + ".yaml"
        s.overlay = .form(Form(purpose: .saveAs, title: "Save the lab as", fields: [
            Form.Field(key: "path", label: "file", text: suggestion, help: "a path for the new file (relative to where csumlab started); an existing file is not overwritten"),
        ]))
    }

    static func openPathForm(_ s: inout ExplorerState) {
        if noStorage(&s) { return }
        s.overlay = .form(Form(purpose: .open, title: "Open a lab file", fields: [
            Form.Field(key: "path", label: "file", text: "", help: "the path of a topology file"),
        ]))
    }

    /// Apply a save-as or open form; the refusal, or nil when done.
    static func submit(_ f: Form, _ s: inout ExplorerState) -> String? {
        guard let storage = s.storage else { return "this explorer cannot read or write files" }
        let path = f["path"].trimmed
        guard !path.isEmpty else { return "type a file name" }
        switch f.purpose {
        case .saveAs:
            // The document's own file: a plain save, with its questions.
            if path == s.document.path {
                save(&s)
                return nil
            }
            if storage.stamp(path) != nil {
                return "\(TerminalEscape.escaped(path)) exists: choose another name"
            }
            write(to: path, keepOriginal: false, force: false, &s)
            return s.document.path == path ? nil : s.message
        case .open:
            open(path, &s)
            return nil
        case .editNode, .addInterface, .deleteInterface, .addFlow, .editFlow, .editLab:
            return nil
        }
    }

    // MARK: Open

    static func openBrowser(_ s: inout ExplorerState) {
        if noStorage(&s) { return }
        s.browserEntries = s.storage?.labs(in: nil) ?? []
        if let dir = s.document.path.map(directory), dir != "." || !s.browserEntries.contains(where: { directory($0.path) == "." }) {
            let own = s.storage?.labs(in: dir) ?? []
            for e in own where !s.browserEntries.contains(where: { $0.path == e.path }) { s.browserEntries.append(e) }
        }
        if s.browserEntries.isEmpty {
            s.message = "no labs found (set CSUMLAB_LABS to the topologies directory); o opens a path: press O then…"
            return
        }
        let i = s.browserEntries.firstIndex { $0.path == s.document.path } ?? 0
        s.overlay = .browser(selected: i)
    }

    static func directory(_ path: String) -> String {
        guard let i = path.lastIndex(of: "/") else { return "." }
        return i == path.startIndex ? "/" : String(path[..<i])
    }

    /// Open a lab in place of this one, asking first when there are unsaved changes.
    static func open(_ path: String?, _ s: inout ExplorerState) {
        s.overlay = nil
        if s.document.hasUnsavedChanges {
            s.overlay = .confirm(Confirmation(purpose: .open(path), title: "Unsaved changes",
                                              lines: changeSummary(s) + ["Opening \(path ?? "the built-in lab") drops them."],
                                              yes: "open it, dropping them", alternative: nil))
            return
        }
        openConfirmed(path, &s)
    }

    static func openConfirmed(_ path: String?, _ s: inout ExplorerState) {
        guard let storage = s.storage, let path else { return }
        let read: (text: String, stamp: DiskStamp)
        do { read = try storage.read(path) } catch {
            s.message = "cannot open: \(error.message)"
            return
        }
        let loaded: LoadedTopology
        do { loaded = try TopologyFile.parse(read.text, file: path) } catch {
            s.message = "cannot open: " + (error.diagnostics.first.map { "\($0)" } ?? "\(path): invalid")
            return
        }
        var doc: LabDocument
        do { doc = try LabDocument(structure: loaded.topology, expectations: loaded.expectations, path: path, label: path) } catch {
            s.message = "cannot open \(path): \(error)"
            return
        }
        doc.origin = (read.text, read.stamp)
        s = ExplorerState(document: doc, storage: storage)
        s.message = "opened \(path): \(doc.topology.name)"
        offerRecovery(&s)
    }

    // MARK: Quit and recovery

    /// "3 changes: add vm vm3, link …" — what quitting would lose.
    static func changeSummary(_ s: ExplorerState) -> [String] {
        var out: [String] = []
        let d = s.document
        if d.hasStructuralEdits { out.append("The lab's structure differs from \(d.path ?? "the built-in lab").") }
        if !d.toggles.isEmpty { out.append("Toggles: " + d.toggles.joined(separator: ", ")) }
        if out.isEmpty { out.append("The lab differs from the file as last saved.") }
        return out
    }

    static func quit(_ s: inout ExplorerState) {
        guard s.document.hasUnsavedChanges else { s.quitRequested = true; return }
        s.overlay = .confirm(Confirmation(purpose: .quit, title: "Quit with unsaved changes?",
                                          lines: changeSummary(s), yes: "quit, dropping them", alternative: "save, then quit"))
    }

    /// On a signal or a typed Ctrl-C (which cannot ask): keep the unsaved lab in the recovery
    /// store. Returns the message to print after the terminal is restored.
    public static func writeRecovery(_ s: ExplorerState) -> String? {
        guard s.document.hasUnsavedChanges, let storage = s.storage else { return nil }
        do {
            try storage.writeRecovery(text(s), for: s.document.path)
            return "csumlab: unsaved changes kept; the next csumlab explore \(s.document.path ?? "") offers to restore them"
        } catch {
            return "csumlab: could not keep the unsaved changes: \(error.message)"
        }
    }

    /// At open: an unsaved lab left by a signal or a crash is offered back.
    static func offerRecovery(_ s: inout ExplorerState) {
        guard let r = s.storage?.recovery(for: s.document.path) else { return }
        s.overlay = .confirm(Confirmation(purpose: .restoreRecovery, title: "Restore unsaved changes?",
                                          lines: ["csumlab ended (a signal or a crash) with unsaved changes to \(s.document.path ?? "the built-in lab"), kept \(FileStorage.age(r.saved)).",
                                                  "Restored, they are unsaved changes again (u undoes the restore)."],
                                          yes: "restore them", no: "drop them"))
    }

    static func restoreRecovery(_ s: inout ExplorerState) {
        guard let storage = s.storage, let r = storage.recovery(for: s.document.path) else { return }
        let loaded: LoadedTopology
        do { loaded = try TopologyFile.parse(r.text, file: "recovered lab") } catch {
            s.message = "the recovery file does not load: " + (error.diagnostics.first.map { "\($0)" } ?? "invalid")
            return
        }
        var next = s.document.current
        next.structure = loaded.topology
        next.toggles = []
        next.expectations = loaded.expectations
        if s.change(to: next, described: "restored the unsaved changes") == nil {
            storage.removeRecovery(for: s.document.path)
        }
    }

    static func discardRecovery(_ s: inout ExplorerState) {
        s.storage?.removeRecovery(for: s.document.path)
    }
}
