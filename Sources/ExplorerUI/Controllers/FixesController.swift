import Simulation
import TopologyFile

/// The fixes list (`F`): the smallest sets of toggles that make the current flow work, as
/// `csumlab fix` finds them on the lab as it is now; Enter applies one as one change.
enum FixesController {
    static func perform(_ a: Action, on s: inout ExplorerState) {
        guard case let .fixes(sel) = s.overlay else { return }
        switch a {
        case .menuUp, .menuDown:
            let n = s.fixes.count
            let d = a == .menuDown ? 1 : -1
            s.overlay = .fixes(selected: n == 0 ? 0 : (sel + d + n) % n)
            if case let .fixes(i)? = s.overlay { preview(i, &s) }
        case .menuActivate:
            s.overlay = nil
            endPreview(&s)
            guard s.fixes.indices.contains(sel) else { return }
            let changes = s.fixes[sel].changes
            s.change(to: revision(with: sel, s), described: "fix \(sel + 1): " + changes.map(\.assignment).joined(separator: ", "))
        case .closeOverlay:
            s.overlay = nil
            endPreview(&s)
        default: break
        }
    }

    /// The lab now with fix `i`'s toggles (each replacing an earlier value of its setting).
    static func revision(with i: Int, _ s: ExplorerState) -> LabDocument.Revision {
        var r = s.document.current
        for ch in s.fixes[i].changes {
            r.toggles.removeAll { $0.hasPrefix(ch.setting + "=") }
            r.toggles.append(ch.assignment)
        }
        return r
    }

    /// Search the toggles that make the current flow work (as `csumlab fix --flow` does, on the
    /// lab as it is now) and list them.
    static func open(_ s: inout ExplorerState) {
        guard let f = s.flow else { s.message = "no flows in this lab: nothing to fix"; return }
        if f.verdict.completes && !f.verdict.corruptedData && s.topology.flows.first(where: { $0.name == f.flow })?.corruptAfter == nil {
            s.message = "flow \(f.flow) already works: nothing to fix"
            return
        }
        if let k = s.fixesFor, k.revision == s.document.current, k.flow == f.flow, !s.fixes.isEmpty {
            s.overlay = .fixes(selected: 0)
            preview(0, &s)
            return
        }
        let label = s.fileLabel
        guard let search = try? FixSearch(s.topology, flow: f.flow, problems: { TopologyFile.validate($0, file: label).map(\.message) }),
              let result = search.run(maxChanges: 3) else {
            s.message = "the fix search cannot run on this lab"
            return
        }
        if result.baseline.allWork { s.message = "flow \(f.flow) already works: nothing to fix"; return }
        s.fixesFor = (s.document.current, f.flow)
        s.fixes = result.ranked(bitsPerSecond: 1e9)
        if s.fixes.isEmpty {
            s.message = "no set of up to 3 changes makes flow \(f.flow) work (\(result.evaluated) tried)"
            return
        }
        s.overlay = .fixes(selected: 0)
        s.message = nil
        preview(0, &s)
    }
}

/// A fix applied for a look while the fixes list is open: the trace re-runs with it and the hops
/// it changes are marked, but the document is untouched — Esc returns to the lab as it was, Enter
/// commits it as one undoable change.
public struct FixPreview: Sendable {
    public var fix: Int
    public var topology: Topology
    public var trace: Trace
    /// Where the cursor was before the preview, to return to it.
    var position: Int
}

extension FixesController {
    /// Show fix `i` (or nothing when the list is empty or the fix does not simulate).
    static func preview(_ i: Int, _ s: inout ExplorerState) {
        let position = s.preview?.position ?? s.position
        let before = s.document.trace.flows.first { $0.flow == s.flow?.flow }
        s.preview = nil
        guard s.fixes.indices.contains(i) else { return }
        let t = revision(with: i, s).materialized().topology
        guard let trace = try? Simulator(t).run() else { return }
        s.preview = FixPreview(fix: i, topology: t, trace: trace, position: position)
        s.setPosition(min(position, max(0, s.steps.count - 1)))
        s.markChanges(from: before)
    }

    /// Back to the lab as it is: the cursor where it was, the marks of the document.
    static func endPreview(_ s: inout ExplorerState) {
        guard let p = s.preview else { return }
        s.preview = nil
        s.setPosition(p.position)
        s.refreshMarks()
    }
}
