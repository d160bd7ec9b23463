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
        case .menuActivate:
            s.overlay = nil
            guard s.fixes.indices.contains(sel) else { return }
            let changes = s.fixes[sel].changes
            var r = s.document.current
            for ch in changes {
                r.toggles.removeAll { $0.hasPrefix(ch.setting + "=") }
                r.toggles.append(ch.assignment)
            }
            s.change(to: r, described: "fix \(sel + 1): " + changes.map(\.assignment).joined(separator: ", "))
        case .closeOverlay: s.overlay = nil
        default: break
        }
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
    }
}
