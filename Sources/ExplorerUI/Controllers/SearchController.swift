/// The search field (`/`) and `n`: find the next step whose element, function, explanation or
/// state mentions the text.
enum SearchController {
    static func perform(_ a: Action, on s: inout ExplorerState) {
        guard case let .search(t) = s.overlay else { return }
        switch a {
        case .searchType(let c): s.overlay = .search(text: t + String(c))
        case .searchBackspace: s.overlay = .search(text: String(t.dropLast()))
        case .searchSubmit:
            s.overlay = nil
            s.view.lastSearch = t
            search(t, &s)
        case .closeOverlay: s.overlay = nil
        default: break
        }
    }

    static func search(_ text: String, _ s: inout ExplorerState) {
        guard !text.isEmpty else { return }
        let all = s.steps
        // An empty lab, or a flow without steps: nothing to look through (and no index to take
        // modulo of).
        guard !all.isEmpty else {
            s.message = "/\(text): \(s.nothingToStep)"
            return
        }
        let needle = text.lowercased()
        for k in 1...all.count {
            let i = (s.position + k) % all.count
            guard let st = s.step(all[i]) else { continue }
            let hay = [st.element, st.interface ?? "", st.function, st.explanation, st.before.summary, st.after.summary].joined(separator: " ").lowercased()
            if hay.contains(needle) {
                s.setPosition(i)
                s.message = "/\(text): step \(i + 1)"
                return
            }
        }
        s.message = "/\(text): no step matches"
    }
}
