import Simulation
import TopologyFile

/// The lab being explored and edited: the lab as last saved, the user's changes on top of it, the
/// topology and trace they give, and the history that undo walks.
///
/// A change is a whole new `Revision` (a value), committed only after it passes the file
/// validator and simulates, so nothing is ever half-applied. Undo keeps whole revisions rather
/// than inverse operations: the inverse of "delete a node" would have to restore its links,
/// flows and toggles, and a snapshot does that by construction. Revisions share storage
/// (copy-on-write arrays), so an unlimited history costs little more than the changes made.
public struct LabDocument: Sendable {
    /// One state of the lab: its structure (the saved lab plus structural edits), the toggles
    /// on top (`--set` assignments, in the order made, one per setting) and what the flows are
    /// expected to do.
    public struct Revision: Sendable, Hashable {
        public var structure: Topology
        public var toggles: [String]
        public var expectations: [String: Expectation]

        public init(structure: Topology, toggles: [String] = [], expectations: [String: Expectation] = [:]) {
            self.structure = structure
            self.toggles = toggles
            self.expectations = expectations
        }

        /// This revision with a structural edit applied: toggles that name a renamed node or
        /// interface follow it and those of a deleted one go; expectations follow a flow rename
        /// and a renamed host in an expected leg, and go with a deleted flow.
        public func applying(_ edit: LabEdit) throws(EditError) -> Revision {
            var r = self
            let removed = r.structure.removals(of: edit).flows
            try r.structure.apply(edit)
            r.toggles = r.toggles.compactMap { edit.carry(assignment: $0) }
            r.expectations = r.expectations.mapValues { x in
                var x = x
                x.leg = x.leg.map { edit.carry(leg: $0) }
                return x
            }
            for f in removed { r.expectations[f] = nil }
            if case let .deleteFlow(name) = edit { r.expectations[name] = nil }
            if let (from, to) = edit.flowRename, let x = r.expectations.removeValue(forKey: from) { r.expectations[to] = x }
            return r
        }

        /// The structure with the toggles applied, and the toggles that did not apply (a toggle
        /// from the command line for a setting the lab lacks).
        public func materialized() -> (topology: Topology, errors: [String]) {
            var t = structure
            var errors: [String] = []
            for a in toggles {
                do { try t.apply(assignment: a) } catch { errors.append(error.message) }
            }
            return (t, errors)
        }
    }

    /// A change that was refused, with the validator's (or the simulator's) reason.
    public struct Refusal: Error, Sendable, Equatable {
        public var message: String
    }

    /// Where the lab lives on disk, or nil for the built-in default lab (never saved to a path
    /// the user did not choose).
    public private(set) var path: String?
    /// How the user named the lab (for messages and the `csumlab trace` line).
    public private(set) var label: String
    /// The file as it was on disk when opened or last saved: its text (to tell what a
    /// rewrite would drop) and its stamp (to notice a change on disk before overwriting it).
    public var origin: (text: String, stamp: DiskStamp)?
    /// A file that holds the same lab as `saved` when `path` is nil: the shipped copy of the
    /// built-in lab, found from the executable. Used for the `csumlab trace` line only, never
    /// as a place to save.
    public var referencePath: String?
    /// The lab as last saved (or as loaded): what `*` marks are measured against, and what `r`
    /// returns to.
    public private(set) var saved: Revision
    public private(set) var savedTrace: Trace
    /// The lab now.
    public private(set) var current: Revision
    public private(set) var topology: Topology
    public private(set) var trace: Trace
    /// The trace of the structure without toggles (what a setting's own value is read from).
    private var structureTrace: Trace
    /// The revision at the last save or load: the document has unsaved changes when it differs.
    private var clean: Revision
    /// What a revision gives, kept with it in the history so undo and redo neither validate nor
    /// simulate again: a revision once committed was valid and simulated, and its topology and
    /// traces are functions of it alone (the model is a value).
    private struct Derived: Sendable {
        var topology: Topology
        var trace: Trace
        var structureTrace: Trace
    }
    private typealias HistoryEntry = (revision: Revision, label: String, derived: Derived)
    private var undoStack: [HistoryEntry] = []
    private var redoStack: [HistoryEntry] = []

    /// A document over a lab as loaded (`toggles` are command-line `--set`s: changes on top of
    /// the file, shown and undoable like any toggle). Throws when the lab does not simulate.
    public init(structure: Topology, expectations: [String: Expectation] = [:], toggles: [String] = [],
                path: String?, label: String) throws(SimulationError) {
        let base = Revision(structure: structure, expectations: expectations)
        let baseTrace = try Simulator(structure).run()
        var now = base
        now.toggles = toggles
        let t = now.materialized().topology
        let tr = toggles.isEmpty ? baseTrace : try Simulator(t).run()
        self.init(saved: base, savedTrace: baseTrace, current: now, topology: t, trace: tr, path: path, label: label)
    }

    /// A document over a trace already simulated (tests cut traces to shapes a file cannot give).
    init(topology: Topology, trace: Trace, label: String) {
        let r = Revision(structure: topology)
        self.init(saved: r, savedTrace: trace, current: r, topology: topology, trace: trace, path: nil, label: label)
    }

    private init(saved: Revision, savedTrace: Trace, current: Revision, topology: Topology, trace: Trace, path: String?, label: String) {
        self.saved = saved
        self.savedTrace = savedTrace
        self.current = current
        self.topology = topology
        self.trace = trace
        structureTrace = savedTrace
        self.path = path
        self.label = label
        self.clean = saved
    }

    // MARK: State

    /// Toggles made since the lab was last saved.
    public var toggles: [String] { current.toggles }

    /// The structure differs from the lab as saved (nodes, links, flows, addresses…), so a
    /// `--set` line alone cannot reproduce it.
    public var hasStructuralEdits: Bool { current.structure != saved.structure || current.expectations != saved.expectations }

    /// Something would be lost by quitting now.
    public var hasUnsavedChanges: Bool { current != clean }

    /// Counts the changes (commits, undos, redos, saves): a cheap "did anything change".
    public private(set) var version = 0

    /// Structural edits (not toggles) in the history that led here: undone ones do not count.
    /// A lesson's task counts them with the toggles ("with one change").
    public var structuralEditCount: Int {
        var n = 0
        var later = current
        for e in undoStack.reversed() {
            if e.revision.structure != later.structure { n += 1 }
            later = e.revision
        }
        return n
    }

    public var canUndo: Bool { !undoStack.isEmpty }
    public var canRedo: Bool { !redoStack.isEmpty }
    /// What `u` would undo and Ctrl-R redo.
    public var undoLabel: String? { undoStack.last?.label }
    public var redoLabel: String? { redoStack.last?.label }

    // MARK: Changes

    /// Make `next` the current revision if the lab it gives is valid and simulates; otherwise
    /// leave everything as it was and say why. The previous revision goes onto the undo stack.
    public mutating func commit(_ next: Revision, label: String) throws(Refusal) {
        guard next != current else { throw Refusal(message: "\(label): nothing changes") }
        let derived = try derive(next)
        let before = move(to: next, derived)
        undoStack.append((before.revision, label, before.derived))
        redoStack.removeAll()
    }

    /// Why the file validator would refuse `next` (what `commit` would say), nil when it accepts it.
    public func refusal(of next: Revision) -> String? {
        TopologyFile.validate(next.materialized().topology, file: label).first?.message
    }

    /// The topology and traces `next` gives, if the file validator accepts it and it simulates.
    private func derive(_ next: Revision) throws(Refusal) -> Derived {
        let (t, _) = next.materialized()
        if let problem = TopologyFile.validate(t, file: label).first {
            throw Refusal(message: problem.message)
        }
        let newTrace: Trace
        do { newTrace = try Simulator(t).run() } catch { throw Refusal(message: "the simulation cannot run this lab: \(error)") }
        let structureTrace: Trace
        if next.toggles.isEmpty {
            structureTrace = newTrace
        } else if next.structure != current.structure {
            structureTrace = (try? Simulator(next.structure).run()) ?? newTrace
        } else {
            structureTrace = self.structureTrace
        }
        return Derived(topology: t, trace: newTrace, structureTrace: structureTrace)
    }

    /// Make `next` current with what it gives; returns the revision it replaced and what that gave.
    private mutating func move(to next: Revision, _ d: Derived) -> (revision: Revision, derived: Derived) {
        let before = (current, Derived(topology: topology, trace: trace, structureTrace: structureTrace))
        current = next
        version += 1
        topology = d.topology
        trace = d.trace
        structureTrace = d.structureTrace
        return before
    }

    /// Undo the last change; returns what was undone, nil when there is nothing to undo.
    public mutating func undo() -> String? {
        guard let last = undoStack.popLast() else { return nil }
        let before = move(to: last.revision, last.derived)
        redoStack.append((before.revision, last.label, before.derived))
        return last.label
    }

    /// Redo the last undone change; returns what was redone.
    public mutating func redo() -> String? {
        guard let next = redoStack.popLast() else { return nil }
        let before = move(to: next.revision, next.derived)
        undoStack.append((before.revision, next.label, before.derived))
        return next.label
    }

    /// The toggles with `assignment` set (replacing an earlier value of the same setting, whose
    /// assignments start with `key`), or without it when the value is the structure's own.
    public func toggles(setting assignment: String, key: String, restoresStructure: Bool) -> [String] {
        var out = current.toggles
        out.removeAll { $0.hasPrefix(key) }
        if !restoresStructure { out.append(assignment) }
        return out
    }

    /// The value a setting has in the structure, before any toggle.
    public func structureValue(of item: SettingItem) -> String? {
        SettingItem.items(for: item.node, topology: current.structure, trace: structureTrace)
            .first { $0.interface == item.interface && $0.key == item.key }?.value
    }

    // MARK: Saving

    /// The lab as it would be written now: the structure with the toggles folded in.
    public var materialized: Revision {
        Revision(structure: topology, toggles: [], expectations: current.expectations)
    }

    /// Record that the current lab was written to `path`: the toggles become part of the lab,
    /// `*` marks and `r` now measure against it, and it is no longer unsaved. The history stays:
    /// its revisions are whole labs, so undo after a save gives the lab before the last change
    /// (an unsaved change again).
    public mutating func markSaved(path: String, label: String, text: String, stamp: DiskStamp) {
        origin = (text, stamp)
        referencePath = nil
        version += 1
        let m = materialized
        current = m
        saved = m
        savedTrace = trace
        structureTrace = trace
        clean = m
        self.path = path
        self.label = label
    }
}
