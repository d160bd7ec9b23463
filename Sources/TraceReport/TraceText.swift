import Simulation
import TerminalText
import Wire

/// Renders a trace as a readable table: one row per step, then each flow's verdict.
///
/// Names, descriptions and every sentence built from them come from a file: each line and table
/// cell goes through `TerminalEscape.escaped`, so no control character reaches the terminal raw
/// (the description keeps its newlines and tabs). `TraceJSON` escapes by JSON's rules instead.
public enum TraceText {
    public static func render(_ t: Trace, topology: Topology, verbose: Bool = false) -> String {
        var out = line("csumlab trace: \(t.topology) (host kernel \(t.hostKernel.rawValue))")
        if !topology.description.isEmpty {
            let text = TerminalEscape.escaped(topology.description, keepingLayout: true)
            for paragraph in text.split(separator: "\n", omittingEmptySubsequences: false) { out += wrap(String(paragraph), indent: "  ") }
        }
        let adjusted = t.devices.filter { !$0.adjustments.isEmpty }
        for d in adjusted {
            for a in d.adjustments {
                out += line("  note: \(d.device): \(a.feature.rawValue) off — \(a.reason)")
            }
        }
        for f in t.flows {
            out += "\n" + line("flow \(f.flow) (\(f.kind.rawValue), \(f.from) → \(f.to))")
            for leg in f.legs {
                out += "\n" + line("  \(leg.name): \(leg.from) → \(leg.to)" + (leg.sent ? "" : " (would-be leg)"))
                let header = ["#", "element", "dir", "kernel function", "state before → after", "field", "correct", "ok?", "TTL"]
                var rows: [[String]] = []
                var notes: [String] = []
                for (i, s) in leg.steps.enumerated() {
                    let el = s.interface.map { s.element == $0 ? $0 : "\(s.element):\($0)" } ?? s.element
                    let seg = (s.segment.map { " [seg \($0)]" } ?? "") + (s.ipFragments.map { " [\($0) IP frags]" } ?? "")
                    rows.append(["\(i + 1)", el + seg, s.direction.rawValue, s.function,
                                 "\(s.before.summary) → \(s.after.summary)",
                                 "0x" + hex16(s.l4Field), "0x" + hex16(s.l4Correct),
                                 s.receiverWouldAccept ? (s.bytesValid ? "valid" : "trusted") : "BAD",
                                 "\(s.ttl)"])
                    notes.append("\(i + 1). \(s.explanation)" + (s.drop.map { $0 == "delivered" ? "" : " [\($0)]" } ?? ""))
                }
                out += table(header, rows, indent: "  ")
                if verbose {
                    for n in notes { out += wrap(TerminalEscape.escaped(n), indent: "     ") }
                }
                out += line("  → \(leg.sent ? "" : "would be ")\(leg.outcome.summary)")
                if let sched = leg.schedule { out += wrap(TerminalEscape.escaped((leg.sent ? "↻ " : "") + sched), indent: "    ") }
            }
            out += "\n" + line("  verdict: \(f.verdict.summary)")
            if !f.counters.isEmpty, f.window.retransmits { out += line("  counters over \(f.window.summary):") }
            for (host, cs) in f.counters.sorted(by: { $0.key < $1.key }) {
                for (k, v) in cs.sorted(by: { $0.key < $1.key }) { out += line("  counter: \(host) \(k) +\(v)") }
            }
        }
        for n in t.notes { out += "\n" + line("note: \(n)") }
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

    static func wrap(_ text: String, indent: String, width: Int = 100) -> String {
        var out = ""
        var line = indent
        for word in text.split(separator: " ") {
            if line.count + word.count + 1 > width && line != indent {
                out += line + "\n"
                line = indent
            }
            line += (line == indent ? "" : " ") + word
        }
        return out + line + "\n"
    }
}
