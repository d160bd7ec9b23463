import Simulation

/// The lists that choose one entry: the host kernel profile (`K`), the kind of node to add
/// (`a`), the link to make or undo (`x`), the lab to open (`O`) and the lesson to follow (`L`).
enum ChooserController {
    static func perform(_ a: Action, on s: inout ExplorerState) {
        switch a {
        case .menuUp, .menuDown: move(a == .menuDown ? 1 : -1, &s)
        case .menuActivate: activate(&s)
        case .closeOverlay: s.overlay = nil
        default: break
        }
    }

    static func count(_ s: ExplorerState) -> Int {
        switch s.overlay {
        case .kernels?: return KernelProfile.allCases.count
        case .addNode?: return NodeTemplate.allCases.count
        case .link?: return s.linkChoices.count
        case .browser?: return s.browserEntries.count
        case .lessons?: return s.lessonEntries.count
        default: return 0
        }
    }

    static func move(_ d: Int, _ s: inout ExplorerState) {
        let n = count(s)
        func next(_ i: Int) -> Int { n == 0 ? 0 : (i + d + n) % n }
        switch s.overlay {
        case let .kernels(i)?: s.overlay = .kernels(selected: next(i))
        case let .addNode(i)?: s.overlay = .addNode(selected: next(i))
        case let .link(i)?: s.overlay = .link(selected: next(i))
        case let .browser(i)?: s.overlay = .browser(selected: next(i))
        case let .lessons(i)?: s.overlay = .lessons(selected: next(i))
        default: break
        }
    }

    static func activate(_ s: inout ExplorerState) {
        switch s.overlay {
        case let .kernels(i)?:
            s.overlay = nil
            guard KernelProfile.allCases.indices.contains(i) else { return }
            let k = KernelProfile.allCases[i]
            var r = s.document.current
            r.toggles = s.document.toggles(setting: "kernel=\(k.rawValue)", key: "kernel=", restoresStructure: k == r.structure.hostKernel)
            s.change(to: r, described: "host kernel \(k.rawValue)")
        case let .addNode(i)?:
            s.overlay = nil
            guard NodeTemplate.allCases.indices.contains(i) else { return }
            EditController.add(NodeTemplate.allCases[i], &s)
        case let .link(i)?:
            s.overlay = nil
            let choices = s.linkChoices
            guard choices.indices.contains(i) else { return }
            EditController.apply(choices[i].edit, &s)
        case let .browser(i)?:
            guard s.browserEntries.indices.contains(i) else { s.overlay = nil; return }
            FileController.open(s.browserEntries[i].path, &s)
        case let .lessons(i)?:
            guard s.lessonEntries.indices.contains(i) else { s.overlay = nil; return }
            let e = s.lessonEntries[i]
            if let err = e.error { s.message = "\(e.name) does not load: \(err)"; return }
            LessonController.open(e.path, &s)
        default: break
        }
    }
}
