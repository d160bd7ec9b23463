import Simulation
import TerminalText
import Wire

/// Renders a trace as a readable table: one row per step, then each flow's verdict.
///
/// Names, descriptions and every sentence built from them come from a file: each line and table
/// cell goes through `TerminalEscape.escaped`, so no control character reaches the terminal raw
/// (the description keeps its newlines and tabs). `TraceJSON` escapes by JSON's rules instead.
public enum TraceText {
    /// `width`: the terminal's columns. A step table wider than that is set as stacked
    /// records (the short columns on one line, the state and the kernel functions on their own
    /// lines, wrapped at words), and prose wraps at words to it. Nil: the full table, prose at
    /// 100 columns (a pipe, a file, `--wide`).
    public static func render(_ t: Trace, topology: Topology, verbose: Bool = false, width: Int? = nil) -> String {
        let proseWidth = width.map { min(max(40, $0), 100) } ?? 100
        var out = line("csumlab trace: \(t.topology) (host kernel \(t.hostKernel.rawValue))")
        if !topology.description.isEmpty {
            let text = TerminalEscape.escaped(topology.description, keepingLayout: true)
            for paragraph in text.split(separator: "\n", omittingEmptySubsequences: false) { out += wrap(String(paragraph), indent: "  ", width: proseWidth) }
        }
        let adjusted = t.devices.filter { !$0.adjustments.isEmpty }
        for d in adjusted {
            for a in d.adjustments {
                out += wrap(TerminalEscape.escaped("  note: \(d.device): \(a.feature.rawValue) off — \(a.reason)"), indent: "  ", width: proseWidth)
            }
        }
        for f in t.flows {
            out += "\n" + line("flow \(f.flow) (\(f.kind.rawValue), \(f.from) → \(f.to))")
            for leg in f.legs {
                out += "\n" + line("  " + (leg.namesEndpoints ? leg.name : "\(leg.name): \(leg.from) → \(leg.to)") + (leg.sent ? "" : " (would-be leg)"))
                // IPv6 has a hop limit where IPv4 has a TTL.
                let v6 = leg.steps.first.flatMap { try? FrameLayout.parse($0.frame) }?.ipVersion == .v6
                let header = ["#", "element", "dir", "kernel function", "state before → after", "field", "correct", "ok?", v6 ? "hop limit" : "TTL"]
                var rows: [[String]] = []
                var notes: [String] = []
                for (i, s) in leg.steps.enumerated() {
                    let el = s.interface.map { s.element == $0 ? $0 : "\(s.element):\($0)" } ?? s.element
                    let f = s.facts
                    let seg = (s.segment.map { " [seg \($0)]" } ?? "") + (f.ipFragments.map { " [\($0) IP frags]" } ?? "")
                    rows.append(["\(i + 1)", el + seg, s.direction.rawValue, s.function,
                                 "\(s.before.summary) → \(s.after.summary)",
                                 "0x" + hex16(f.l4Field) + (f.inner.map { " (inner 0x\(hex16($0.field)))" } ?? ""),
                                 "0x" + hex16(f.l4Correct) + (f.inner.map { " (inner 0x\(hex16($0.correct)))" } ?? ""),
                                 f.receiverWouldAccept ? (f.bytesValid ? "valid" : "trusted") : "BAD",
                                 "\(f.ttl)"])
                    notes.append("\(i + 1). \(s.explanation)" + (s.drop.map { $0 == "delivered" ? "" : " [\($0)]" } ?? ""))
                }
                let full = table(header, rows, indent: "  ")
                if let width, full.split(separator: "\n").contains(where: { $0.displayWidth > width }) {
                    out += stacked(header, rows, indent: "  ", width: width)
                } else {
                    out += full
                }
                if verbose {
                    for n in notes { out += wrap(TerminalEscape.escaped(n), indent: "     ", width: proseWidth) }
                }
                out += wrap(TerminalEscape.escaped("\(leg.sent ? "" : "would be ")\(leg.outcome.summary)"), indent: "    ", first: "  → ", width: proseWidth)
                if let sched = leg.schedule { out += wrap(TerminalEscape.escaped((leg.sent ? "↻ " : "") + sched), indent: "    ", width: proseWidth) }
            }
            out += "\n" + wrap(TerminalEscape.escaped(f.verdict.summary), indent: "    ", first: "  verdict: ", width: proseWidth)
            if !f.counters.isEmpty, f.window.retransmits { out += line("  counters over \(f.window.summary):") }
            for (host, cs) in f.counters.sorted(by: { $0.key < $1.key }) {
                for (k, v) in cs.sorted(by: { $0.key < $1.key }) { out += line("  counter: \(host) \(k) +\(v)") }
            }
        }
        for n in t.notes { out += "\n" + wrap(TerminalEscape.escaped("note: \(n)"), indent: "", width: proseWidth) }
        return out
    }

    /// One line of output: `text` escaped, then a newline.
    static func line(_ text: String) -> String { TerminalEscape.escaped(text) + "\n" }

    static func table(_ header: [String], _ rows: [[String]], indent: String) -> String {
        let rows = rows.map { $0.map { TerminalEscape.escaped($0) } }
        // Widths in terminal columns: a CJK node name takes two per character.
        var w = header.map(\.displayWidth)
        for r in rows { for (i, c) in r.enumerated() { w[i] = max(w[i], c.displayWidth) } }
        func line(_ r: [String]) -> String {
            var s = indent
            for (i, c) in r.enumerated() {
                s += c
                if i < r.count - 1 { s += String(repeating: " ", count: w[i] - c.displayWidth + 2) }
            }
            return s + "\n"
        }
        return line(header) + rows.map(line).joined()
    }

    /// The step table for a narrow terminal: per step, the short columns (#, element, dir,
    /// field, correct, ok?, TTL) aligned on one line, then the state change and the kernel
    /// functions each on lines of their own, wrapped at words (at `→` between functions).
    static func stacked(_ header: [String], _ rows: [[String]], indent: String, width: Int) -> String {
        let short = [0, 1, 2, 5, 6, 7, 8]
        let pick = { (r: [String]) in short.map { r[$0] } }
        let rows = rows.map { $0.map { TerminalEscape.escaped($0) } }
        let head = table(pick(header), rows.map(pick), indent: indent).split(separator: "\n", omittingEmptySubsequences: false)
        var out = DisplayWidth.truncate(head[0], toColumns: width) + "\n"
        let sub = indent + "     "
        for (i, r) in rows.enumerated() {
            out += DisplayWidth.truncate(head[i + 1], toColumns: width) + "\n"
            out += wrap(r[4], indent: sub, width: width)
            out += wrap(r[3], indent: sub, width: width)
        }
        return out
    }

    /// `text` wrapped at spaces to `width` columns, each line starting with `indent` (the first
    /// with `first` when given: a hanging indent).
    static func wrap(_ text: String, indent: String, first: String? = nil, width: Int = 100) -> String {
        var out = ""
        var start = first ?? indent
        var line = start
        for word in text.split(separator: " ") {
            if line.displayWidth + word.displayWidth + 1 > width && line != start {
                out += line + "\n"
                start = indent
                line = indent
            }
            line += (line == start ? "" : " ") + word
        }
        return out + line + "\n"
    }
}
