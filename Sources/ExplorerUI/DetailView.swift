import Simulation
import Wire

/// The detail pane: what the current step did, field by field, and why.
enum DetailView {
    /// Where the checksum is computed from and stored: `csum_start`/`csum_offset` from the
    /// metadata when it carries them, else from the headers.
    static func csumRange(_ st: Step) -> (start: Int, offset: Int, end: Int)? {
        guard let l = try? FrameLayout.parse(st.frame) else { return nil }
        switch st.after {
        case let .skb(k) where k.ipSummed == .partial: return (k.csumStart, k.csumOffset, l.end)
        case let .vnet(h) where h.needsChecksum: return (Int(h.csumStart), Int(h.csumOffset), l.end)
        default: return (l.l4Offset, l.checksumFieldOffset - l.l4Offset, l.end)
        }
    }

    /// The lab itself (`i`): its name, description, file and what is unsaved.
    static func aboutLines(_ s: ExplorerState, width: Int) -> [(String, Style)] {
        var out: [(String, Style)] = []
        func add(_ text: String, _ style: Style = .plain) {
            for l in text.wrapped(width) { out.append((l, style)) }
        }
        let t = s.topology
        add(t.name.isEmpty ? "(a lab without a name)" : t.name, Theme.title)
        add(s.document.path.map { "file: \($0)" } ?? "the built-in lab (W saves it to a file)", Theme.rule)
        if s.document.hasUnsavedChanges { add("unsaved changes (w saves, u undoes)", Theme.changed) }
        out.append(("", .plain))
        for para in (t.description.isEmpty ? "No description: E adds one." : t.description).split(separator: "\n", omittingEmptySubsequences: false) {
            add(String(para))
        }
        out.append(("", .plain))
        add("\(t.nodes.count) nodes, \(t.links.count) links, \(t.flows.count) flows; kernel \(t.hostKernel.rawValue)", Theme.rule)
        add("i: back to the step", Theme.rule)
        return out
    }

    static func lines(_ s: ExplorerState, width: Int) -> [(String, Style)] {
        if s.view.showsDescription { return aboutLines(s, width: width) }
        guard let f = s.flow else {
            var out: [(String, Style)] = []
            let what = s.topology.nodes.isEmpty ? "This lab has no nodes and no flows." : "This lab has \(s.topology.nodes.count) node\(s.topology.nodes.count == 1 ? "" : "s") and no flows."
            for l in what.wrapped(width) { out.append((l, Theme.title)) }
            for l in "A flow (f then a here, or flows: in the file: type, from, to) is a packet exchange to step through; a adds nodes, x links them.".wrapped(width) {
                out.append((l, .plain))
            }
            return out
        }
        guard let ref = s.current, let st = s.currentStep else {
            return "No steps: this flow produced no packets.".wrapped(width).map { ($0, .plain) }
        }
        let leg = f.legs[ref.leg]
        var out: [(String, Style)] = []
        func add(_ text: String, _ style: Style = .plain) {
            for l in text.wrapped(width) { out.append((l, style)) }
        }
        add("\(leg.name) step \(ref.step + 1)/\(leg.steps.count) · \(StepsView.elementName(st)) · \(st.direction.rawValue)", Theme.title)
        add(st.function)
        add("\(st.before.summary) → \(st.after.summary)", Theme.title)
        let verdict = st.receiverWouldAccept ? (st.bytesValid ? "a receiver accepts it" : "a receiver trusts the flag") : "a receiver drops it"
        add("\(st.condition.glyph) \(st.condition.label); \(verdict)", st.condition.style)
        add(st.explanation)
        out.append(("", .plain))
        add((st.inner == nil ? "" : "outer ") + "L4 csum field 0x\(hex(st.l4Field))  correct 0x\(hex(st.l4Correct))  pseudo-header sum 0x\(hex(st.l4PseudoSum))")
        if let i = st.inner {
            add("inner \(i.l4Protocol == .tcp ? "TCP" : "UDP") (at byte \(i.l4Offset)) csum field 0x\(hex(i.field))  correct 0x\(hex(i.correct))  pseudo-header sum 0x\(hex(i.pseudoSum))  \(i.bytesValid ? "valid" : (i.field == i.pseudoSum ? "pending" : "wrong"))")
        }
        var where_ = csumRange(st).map { "csum_start \($0.start)  csum_offset \($0.offset)  " } ?? ""
        where_ += ((try? FrameLayout.parse(st.frame))?.ipVersion == .v6 ? "hop limit " : "TTL ") + "\(st.ttl)"
        add(where_)
        if let n = st.ipFragments {
            add("on the link as \(n) IP fragments (\(st.firstFragment.count)-byte first frame); the checksum covers the whole \(st.frame.count)-byte datagram")
        }
        for carrier in [st.before, st.after] {
            if case let .vnet(h) = carrier {
                add("virtio_net_hdr flags=\(h.flags) gso_type=\(h.gsoType) hdr_len=\(h.hdrLen) gso_size=\(h.gsoSize) csum_start=\(h.csumStart) csum_offset=\(h.csumOffset)")
                break
            }
        }
        if let d = st.drop { add("here the packet ends: \(d)", d == "delivered" ? Theme.ok : Theme.bad) }
        add("\(leg.name): \(leg.outcome.summary)", leg.outcome.isSuccess ? Theme.ok : Theme.bad)
        return out
    }

    static func hex(_ v: UInt16) -> String {
        let h = String(v, radix: 16)
        return String(repeating: "0", count: 4 - h.count) + h
    }

    static func draw(_ s: ExplorerState, in r: Rect, on c: inout Canvas) {
        Screen.title(s.view.showsDescription ? "About this lab" : Pane.detail.title, focused: s.focus == .detail, in: r, on: &c)
        let area = Rect(x: r.x + 1, y: r.y + 1, width: r.width - 1, height: r.height - 1)
        guard !area.isEmpty else { return }
        let all = lines(s, width: area.width)
        let start = min(s.detailScroll, max(0, all.count - area.height))
        for (i, (text, style)) in all.dropFirst(start).prefix(area.height).enumerated() {
            c.put(text, x: area.x, y: area.y + i, style: style, maxWidth: area.width)
        }
        if start + area.height < all.count { c.put("↓", x: area.maxX - 1, y: area.maxY - 1, style: Theme.title) }
    }
}
