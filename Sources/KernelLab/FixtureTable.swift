/// Plain-text rendering of fixtures (one row per frame: injected, intermediate, observed).
public enum FixtureTable {
    static let header = ["where", "#", "vnet flags", "gso", "start/off", "proto", "len", "ttl", "ip id", "seq", "tcp flags", "field", "correct", "pseudo?", "valid?", "tp_status"]

    static func row(_ at: String, _ i: Int, _ r: FrameReport, status: String = "") -> [String] {
        let h = r.vnetHeader
        return [at, String(i), h?.flagsText ?? "(no hdr)", h.map { $0.gsoTypeName == "NONE" ? "-" : "\($0.gsoTypeName)/\($0.gsoSize)" } ?? "-",
                h.map { "\($0.csumStart)/\($0.csumOffset)" } ?? "-", r.l4Protocol ?? "?", String(r.frameLength), r.ttl.map(String.init) ?? "-",
                r.ipID.map { "0x" + String($0, radix: 16) } ?? "-", r.tcpSeq.map { "0x" + String($0, radix: 16) } ?? "-", r.tcpFlags ?? "-",
                r.l4Field ?? "-", r.l4Correct ?? "-", r.l4HoldsPseudoHeaderSum.map { $0 ? "yes" : "no" } ?? "-",
                r.l4Valid.map { $0 ? "VALID" : "BAD" } ?? "-", status]
    }

    public static func render(_ f: KernelFixture) -> String {
        var rows: [[String]] = [header]
        rows.append(row("in " + f.injected.at, 0, f.injected.frame))
        for (i, o) in f.intermediate.enumerated() {
            var status: [String] = []
            if o.tpStatus != nil, let p = o.packetType {
                status.append(o.tpStatusNames.isEmpty ? "-" : o.tpStatusNames.map { $0.replacingOccurrences("TP_STATUS_", "") }.joined(separator: "|"))
                status.append("type=\(p)")
            }
            if let r = o.forwarderResult { status.append(r) }
            rows.append(row(o.at, i, o.frame, status: status.joined(separator: " ")))
        }
        for (i, o) in f.observed.enumerated() { rows.append(row("out " + f.observedAt, i, o)) }
        var out = "== \(f.name) (\(f.topology.kind)): \(f.description)\n"
        out += "   write: \(f.injected.writeResult); frames at \(f.observedAt): \(f.observed.count) (+\(f.unrelatedFramesIgnored) unrelated)\n"
        out += format(rows)
        return out
    }

    /// One line per fixture: what arrived at the far TAP.
    public static func summary(_ fixtures: [KernelFixture]) -> String {
        var rows: [[String]] = [["scenario", "in flags", "in gso", "frames out", "out flags", "start/off", "field", "valid?", "ttl"]]
        for f in fixtures {
            let i = f.injected.frame.vnetHeader
            let out = f.observed
            func joined(_ xs: [String]) -> String {
                let u = xs.reduce(into: [String]()) { if !$0.contains($1) { $0.append($1) } }
                return u.isEmpty ? "-" : u.joined(separator: ",")
            }
            rows.append([f.name, i?.flagsText ?? "-", i.map { $0.gsoTypeName == "NONE" ? "-" : "\($0.gsoTypeName)/\($0.gsoSize)" } ?? "-",
                         String(out.count),
                         joined(out.map { $0.vnetHeader?.flagsText ?? "(no hdr)" }),
                         joined(out.map { $0.vnetHeader.map { "\($0.csumStart)/\($0.csumOffset)" } ?? "-" }),
                         joined(out.map { r in r.l4HoldsPseudoHeaderSum == true ? "pseudo-hdr sum" : (r.l4Field == r.l4Correct ? "complete" : "other") }),
                         joined(out.map { $0.l4Valid == true ? "VALID" : "BAD" }),
                         joined(out.map { $0.ttl.map(String.init) ?? "-" })])
        }
        return format(rows)
    }

    static func format(_ rows: [[String]]) -> String {
        var widths = [Int](repeating: 0, count: rows.map(\.count).max() ?? 0)
        for r in rows { for (i, c) in r.enumerated() { widths[i] = max(widths[i], c.count) } }
        return rows.map { r in
            "   " + r.enumerated().map { i, c in c + String(repeating: " ", count: widths[i] - c.count) }.joined(separator: "  ")
        }.joined(separator: "\n") + "\n"
    }
}

extension String {
    func replacingOccurrences(_ a: String, _ b: String) -> String {
        var out = ""
        var rest = Substring(self)
        while let r = rest.firstRange(of: a) {
            out += rest[..<r.lowerBound] + b
            rest = rest[r.upperBound...]
        }
        return out + rest
    }
}
