import Simulation

/// The settings menu of a node (`o`): every toggle the lab file has for it.
enum MenuController {
    static func perform(_ a: Action, on s: inout ExplorerState) {
        guard case let .menu(node, sel) = s.overlay else { return }
        switch a {
        case .menuUp, .menuDown:
            let n = s.menuItems.count
            let d = a == .menuDown ? 1 : -1
            s.overlay = .menu(node: node, selected: n == 0 ? 0 : (sel + d + n) % n)
        case .menuActivate: activate(sel, &s)
        case .closeOverlay: s.overlay = nil
        default: break
        }
    }

    static func activate(_ sel: Int, _ s: inout ExplorerState) {
        let items = s.menuItems
        guard items.indices.contains(sel) else { return }
        let item = items[sel]
        guard let next = item.next else {
            s.message = "\(item.label): \(item.disabled ?? "cannot be changed here")"
            return
        }
        let own = s.document.structureValue(of: item)
        var r = s.document.current
        r.toggles = s.document.toggles(setting: item.assignment(next), key: item.assignment(""), restoresStructure: own == next)
        s.change(to: r, described: "\(item.node)\(item.interface.map { ".\($0)" } ?? "") \(item.key)=\(next)")
        // The list can change shape (a router that becomes a VM gains NIC features): keep the
        // same setting selected.
        if let i = s.menuItems.firstIndex(where: { $0.interface == item.interface && $0.key == item.key }) {
            s.overlay = .menu(node: item.node, selected: i)
        }
    }
}
