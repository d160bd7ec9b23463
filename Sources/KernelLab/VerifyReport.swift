import TerminalText

/// Text rendering of `csumlab verify` results: per leg a side-by-side table (kernel | simulation)
/// of every observable, per file the counts. File paths, names and error texts may hold control
/// characters: every line and cell goes through `TerminalEscape.escaped`.
public enum VerifyReport {
    /// One file. `full`: every row; otherwise one line per leg and the rows that differ.
    public static func render(_ r: FileResult, full: Bool) -> String {
        var out = line("== \(r.file) (\(r.topology))")
        for n in r.notes { out += line("   note: \(n)") }
        if let e = r.error { out += line("   ERROR: \(e)") }
        for nc in r.notCheckable { out += line("   not checkable: \(nc.what): \(nc.reason)") }
        let featureMismatch = r.featureRows.filter { !$0.matches }
        if (full && !r.featureRows.isEmpty) || !featureMismatch.isEmpty {
            out += "   device features after the file's requests (kernel | simulation):\n"
            let rows = full ? r.featureRows : featureMismatch
            out += table(rows, indent: "     ")
        }
        var flow = ""
        for l in r.legs {
            if l.flow != flow {
                flow = l.flow
                out += line("   flow \(flow)")
            }
            let head = "     \(l.leg): \(l.from) → \(l.to)"
            if let why = l.notCheckable {
                out += line(head + ": not checkable: \(why)")
                continue
            }
            let bad = l.rows.filter { !$0.matches }
            let frames = l.rows.first { $0.observable == "frames" && $0.point.isEmpty }
            out += line(head + "  [written at \(l.injectedAt); read at \(l.observedAt)]  "
                + "frames kernel \(frames?.kernel ?? "?") / simulation \(frames?.simulation ?? "?"); "
                + (bad.isEmpty ? "\(l.rows.count) observables match" : "\(bad.count) of \(l.rows.count) observables DIFFER"))
            if full || !bad.isEmpty { out += table(full ? l.rows : bad, indent: "       ") }
        }
        out += "   \(counts(r))\n"
        return out
    }

    /// One line of output: `text` escaped, then a newline.
    static func line(_ text: String) -> String { TerminalEscape.escaped(text) + "\n" }

    public static func counts(_ r: FileResult) -> String {
        "compared \(r.compared), not checkable \(r.notCheckableCount), mismatched \(r.mismatched)"
            + (r.error != nil ? ", ERROR" : "") + (r.compared == 0 && r.unavailable == nil ? ", NOTHING COMPARED" : "")
            + (r.unavailable.map { "  → not checkable: \($0)" } ?? (r.passed ? "  → pass" : "  → FAIL"))
    }

    static func table(_ rows: [ComparisonRow], indent: String) -> String {
        let header = ["at", "frame", "observable", "kernel", "simulation", ""]
        var cells: [[String]] = [header]
        for r in rows {
            cells.append([r.point.isEmpty ? "receiver" : r.point, r.frame == 0 ? "-" : "#\(r.frame)", r.observable, r.kernel, r.simulation,
                          r.matches ? "ok" : "DIFFERS"].map { TerminalEscape.escaped($0) })
        }
        var widths = [Int](repeating: 0, count: header.count)
        for c in cells { for (i, s) in c.enumerated() { widths[i] = max(widths[i], s.displayWidth) } }
        var out = ""
        for c in cells {
            var line = indent
            for (i, s) in c.enumerated() {
                line += s + (i == c.count - 1 ? "" : String(repeating: " ", count: widths[i] - s.displayWidth + 2))
            }
            while line.last == " " { line.removeLast() }
            out += line + "\n"
        }
        return out
    }

    /// Every distinct disagreement (where, what, kernel, simulation) with the files and legs it
    /// occurs in: the list the model's maintainers work from.
    public static func disagreements(_ results: [FileResult]) -> String {
        struct Key: Hashable { var point, observable, kernel, simulation: String }
        var order: [Key] = []
        var seen: [Key: [String]] = [:]
        for r in results {
            let file = r.file.split(separator: "/").last.map(String.init) ?? r.file
            var items: [(ComparisonRow, String)] = r.featureRows.filter { !$0.matches }.map { ($0, file) }
            for l in r.legs { items += l.rows.filter { !$0.matches }.map { ($0, "\(file) \(l.flow)/\(l.leg)") } }
            for (row, whereSeen) in items {
                let point = row.point.hasPrefix("ethtool -k ") ? "ethtool -k" : (row.point.isEmpty ? "receiver" : "AF_PACKET " + String(row.point.split(separator: " ").last ?? "") + " capture")
                let k = Key(point: point, observable: row.observable, kernel: row.kernel, simulation: row.simulation)
                if seen[k] == nil { order.append(k) }
                seen[k, default: []].append(row.point.hasPrefix("ethtool -k ") ? "\(whereSeen) \(row.point.dropFirst(11))" : "\(whereSeen) at \(row.point.isEmpty ? "receiver" : row.point)")
            }
        }
        if order.isEmpty { return "no disagreements\n" }
        var out = ""
        for k in order {
            let w = seen[k] ?? []
            out += line("  \(k.point) \(k.observable): kernel \(k.kernel), simulation \(k.simulation) — \(w.count)×, e.g. \(w.prefix(3).joined(separator: "; "))")
        }
        return out
    }

    /// The closing summary of a run over several files.
    public static func summary(_ results: [FileResult]) -> String {
        var cells: [[String]] = [["file", "compared", "not checkable", "mismatched", "result"]]
        for r in results {
            cells.append([TerminalEscape.escaped(r.file), "\(r.compared)", "\(r.notCheckableCount)", "\(r.mismatched)",
                          r.unavailable != nil ? "not checkable" : r.passed ? "pass" : (r.error != nil ? "ERROR" : (r.compared == 0 ? "FAIL (nothing compared)" : "FAIL"))])
        }
        cells.append(["total", "\(results.map(\.compared).reduce(0, +))", "\(results.map(\.notCheckableCount).reduce(0, +))",
                      "\(results.map(\.mismatched).reduce(0, +))", results.allSatisfy(\.passed) ? "pass" : "FAIL"])
        var widths = [Int](repeating: 0, count: 5)
        for c in cells { for (i, s) in c.enumerated() { widths[i] = max(widths[i], s.displayWidth) } }
        var out = ""
        for c in cells {
            var line = ""
            for (i, s) in c.enumerated() {
                line += i == 0 ? s + String(repeating: " ", count: widths[i] - s.displayWidth + 2)
                    : String(repeating: " ", count: widths[i] - s.displayWidth) + s + "  "
            }
            while line.last == " " { line.removeLast() }
            out += line + "\n"
        }
        return out
    }
}
