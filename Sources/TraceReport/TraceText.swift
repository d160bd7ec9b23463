import Simulation
import TerminalText
import Wire

/// Renders a trace as a readable table: one row per step, then each flow's verdict.
public enum TraceText {
    public static func render(_ t: Trace, topology: Topology, verbose: Bool = false) -> String {
        var out = "csumlab trace: \(t.topology) (host kernel \(t.hostKernel.rawValue))\n"
        if !topology.description.isEmpty { out += wrap(topology.description, indent: "  ") }
        let adjusted = t.devices.filter { !$0.adjustments.isEmpty }
        for d in adjusted {
            for a in d.adjustments {
                out += "  note: \(d.device): \(a.feature.rawValue) off — \(a.reason)\n"
            }
        }
        for f in t.flows {
            out += "\nflow \(f.flow) (\(f.kind.rawValue), \(f.from) → \(f.to))\n"
            for leg in f.legs {
                out += "\n  \(leg.name): \(leg.from) → \(leg.to)\n"
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
                    for n in notes { out += wrap(n, indent: "     ") }
                }
                out += "  → \(leg.outcome.summary)\n"
            }
            out += "\n  verdict: \(f.verdict.summary)\n"
            for (host, cs) in f.counters.sorted(by: { $0.key < $1.key }) {
                for (k, v) in cs.sorted(by: { $0.key < $1.key }) { out += "  counter: \(host) \(k) +\(v)\n" }
            }
        }
        for n in t.notes { out += "\nnote: \(n)\n" }
        return out
    }

    static func table(_ header: [String], _ rows: [[String]], indent: String) -> String {
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
