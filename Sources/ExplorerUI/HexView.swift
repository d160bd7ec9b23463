import Simulation
import Wire

/// The hex pane: the frame bytes after the current step, the checksum field reversed, the
/// `csum_start..end` range underlined, bytes this step changed in bold. A tunnelled frame shows
/// both checksums: both fields reversed, the inner range (inner L4 header to the end) as the
/// single range is, and the outer UDP range's own part (outer UDP header to the inner L4
/// header) underlined in another colour — the outer sum covers the inner range too. Colour is
/// not the only mark (`NO_COLOR`, a monochrome terminal): a `|` in the gap before a byte marks
/// where the outer range starts and where the inner one starts.
enum HexView {
    static func bytesPerRow(width: Int) -> Int { width >= 74 ? 16 : 8 }

    static func draw(_ s: ExplorerState, in r: Rect, on c: inout Canvas) {
        let st = s.currentStep
        let extra = st.map {
            $0.inner == nil
                ? "\($0.frame.count) bytes · ▒field▒ checksum · _csum range_ · bold changed"
                : "\($0.frame.count) bytes · ▒fields▒ · |_range_ outer blue, inner cyan · bold changed"
        } ?? ""
        Screen.title(Pane.hex.title, extra: extra, focused: s.focus == .hex, in: r, on: &c)
        let area = Rect(x: r.x + 1, y: r.y + 1, width: r.width - 1, height: r.height - 1)
        guard !area.isEmpty, let st else { return }
        let per = bytesPerRow(width: r.width)
        let rowsTotal = (st.frame.count + per - 1) / per
        let range = DetailView.csumRange(st)
        let field = range.map { $0.start + $0.offset }
        // A tunnelled frame: both the outer UDP and the inner TCP/UDP checksum fields.
        var fields = Set(field.map { [$0, $0 + 1] } ?? [])
        // The outer UDP range's own part, before the inner range starts.
        var outerOnly: Range<Int>?
        // Where the outer range and the inner range start: a `|` in the gap before each.
        var starts: Set<Int> = []
        if let i = st.inner, let l = try? FrameLayout.parse(st.frame) {
            let outer = l.checksumFieldOffset
            let inner = i.l4Offset + i.l4Protocol.checksumOffset
            fields.formUnion([outer, outer + 1, inner, inner + 1])
            if l.l4Offset < i.l4Offset { outerOnly = l.l4Offset..<i.l4Offset }
            starts = [l.l4Offset, i.l4Offset]
        }
        let changed = Set(st.changedBytes)
        var start = 0
        if let sc = s.hexScroll {
            start = min(sc, max(0, rowsTotal - area.height))
        } else if let field, field / per >= area.height {
            start = min(field / per - area.height + 1, max(0, rowsTotal - area.height))
        }
        for row in 0..<min(area.height, rowsTotal - start) {
            let y = area.y + row
            let base = (start + row) * per
            let off = String(base, radix: 16)
            var x = c.put(String(repeating: "0", count: max(0, 4 - off.count)) + off, x: area.x, y: y, style: Theme.rule)
            x = c.put(starts.contains(base) ? "|" : " ", x: x, y: y, style: Theme.rule)
            var ascii = ""
            for i in base..<min(base + per, st.frame.count) {
                let b = st.frame[i]
                var style = Style.plain
                if let r = range, i >= r.start, i < r.end { style = Theme.csumRange }
                if let o = outerOnly, o.contains(i) { style = Theme.outerCsumRange }
                if changed.contains(i) { style.bold = true; style.fg = .magenta }
                if fields.contains(i) { style = Theme.checksumField }
                let h = String(b, radix: 16)
                x = c.put((h.count == 1 ? "0" : "") + h, x: x, y: y, style: style)
                let mark = starts.contains(i + 1) && i + 1 < base + per ? "|" : " "
                x = c.put(i == base + per / 2 - 1 ? " " + mark : mark, x: x, y: y, style: mark == "|" ? Theme.rule : .plain)
                ascii.append(b >= 0x20 && b < 0x7f ? Character(UnicodeScalar(b)) : ".")
            }
            let asciiX = area.x + 5 + per * 3 + 1
            if asciiX + per <= area.maxX { c.put(ascii, x: asciiX, y: y, style: Theme.rule) }
        }
    }
}
