import Simulation

/// A lab's graph as Graphviz DOT or Mermaid text, for documentation: nodes shaped by kind, one
/// edge per link (labelled with its interfaces), and, given a flow's trace, each link the flow's
/// first leg crossed coloured by the checksum state the packet had there (the explorer's rule:
/// the state after the last step on one node, before the first on the next).
///
/// Names (any script's letters, see `NameRule`) and the description are quoted and escaped by
/// each language's rules; Mermaid node ids are generated (`n0`, `n1`, …) and the names are labels.
public enum GraphExport {
    public enum Format: String, Sendable, CaseIterable {
        case dot, mermaid
    }

    /// The checksum state on each link the first leg crossed, by unordered node pair.
    public static func linkStates(_ flow: FlowTrace?) -> [Set<String>: ChecksumCondition] {
        guard let steps = flow?.legs.first?.steps else { return [:] }
        var out: [Set<String>: ChecksumCondition] = [:]
        for i in steps.indices.dropLast() where steps[i].element != steps[i + 1].element {
            out[[steps[i].element, steps[i + 1].element]] = steps[i].condition
        }
        return out
    }

    /// Graphviz colour names per state (the explorer's colours; yellow darkened to be readable on white).
    public static func dotColor(_ c: ChecksumCondition) -> String {
        switch c {
        case .completeValid: return "green4"
        case .partialPending: return "goldenrod"
        case .badUnflagged: return "red"
        case .verifiedUnnecessary: return "cyan4"
        case .flaggedButBad: return "magenta"
        }
    }

    /// CSS colours for Mermaid's linkStyle.
    public static func cssColor(_ c: ChecksumCondition) -> String {
        switch c {
        case .completeValid: return "#2e8b57"
        case .partialPending: return "#daa520"
        case .badUnflagged: return "#ff0000"
        case .verifiedUnnecessary: return "#008b8b"
        case .flaggedButBad: return "#ff00ff"
        }
    }

    public static func dotShape(_ k: NodeKind) -> String {
        switch k {
        case .vm: return "box3d"
        case .netns: return "box"
        case .tap: return "cds"
        case .bridge: return "hexagon"
        case .veth: return "parallelogram"
        case .router: return "diamond"
        case .hostNIC: return "house"
        case .vxlan: return "invtrapezium"
        }
    }

    /// A Mermaid node with its shape around the (already escaped and quoted) label.
    static func mermaidNode(_ id: String, _ k: NodeKind, _ label: String) -> String {
        switch k {
        case .vm: return "\(id)[[\(label)]]"
        case .netns: return "\(id)[\(label)]"
        case .tap: return "\(id)>\(label)]"
        case .bridge: return "\(id){{\(label)}}"
        case .veth: return "\(id)[/\(label)/]"
        case .router: return "\(id){\(label)}"
        case .hostNIC: return "\(id)[(\(label))]"
        case .vxlan: return "\(id)[\\\(label)/]"
        }
    }

    /// A DOT double-quoted string: `\` and `"` escaped, line breaks as `\n`, other control
    /// characters dropped (DOT has no escape for them).
    public static func dotQuoted(_ s: String) -> String {
        var out = "\""
        for u in s.unicodeScalars {
            switch u {
            case "\\": out += "\\\\"
            case "\"": out += "\\\""
            case "\n": out += "\\n"
            case _ where u.properties.generalCategory == .control: continue
            default: out.unicodeScalars.append(u)
            }
        }
        return out + "\""
    }

    /// A Mermaid quoted label: `"` and the characters Mermaid reads as markup written as entity
    /// codes (`#quot;`, `#35;`…), line breaks as `<br>`, other control characters dropped.
    public static func mermaidQuoted(_ s: String) -> String {
        var out = "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "#quot;"
            case "#": out += "#35;"
            case "<": out += "#lt;"
            case ">": out += "#gt;"
            case "&": out += "#amp;"
            case "\n": out += "<br>"
            case _ where u.properties.generalCategory == .control: continue
            default: out.unicodeScalars.append(u)
            }
        }
        return out + "\""
    }

    /// The text of the graph. `flow`: the trace of the flow whose first leg colours the links.
    public static func render(_ t: Topology, format: Format, flow: FlowTrace? = nil) -> String {
        switch format {
        case .dot: return dot(t, flow: flow)
        case .mermaid: return mermaid(t, flow: flow)
        }
    }

    /// The title's second part: the flow and leg, and the states its links show.
    static func legend(_ flow: FlowTrace?) -> String? {
        guard let f = flow, let leg = f.legs.first else { return nil }
        let shown = Set(linkStates(flow).values)
        return "flow \(f.flow), leg \(leg.name) (\(leg.from) → \(leg.to)): "
            + ChecksumCondition.allCases.filter(shown.contains).map { "\($0.rawValue) = \($0.label)" }.joined(separator: "; ")
    }

    static func dot(_ t: Topology, flow: FlowTrace?) -> String {
        let states = linkStates(flow)
        var out = "graph \(dotQuoted(t.name)) {\n"
        var title = t.name
        if let l = legend(flow) { title += "\n" + l }
        out += "  graph [label=\(dotQuoted(title)), labelloc=t, fontname=\"sans-serif\"];\n"
        out += "  node [fontname=\"sans-serif\"];\n  edge [fontname=\"sans-serif\", fontsize=10];\n"
        for n in t.nodes {
            out += "  \(dotQuoted(n.name)) [shape=\(dotShape(n.kind)), label=\(dotQuoted(n.name + "\n" + n.kind.name))];\n"
        }
        for l in t.links {
            var attrs: [String] = []
            if let i = l.a.interface { attrs.append("taillabel=\(dotQuoted(i))") }
            if let i = l.b.interface { attrs.append("headlabel=\(dotQuoted(i))") }
            if flow != nil {
                if let c = states[[l.a.node, l.b.node]] {
                    attrs += ["label=\(dotQuoted(c.rawValue))", "color=\(dotColor(c))", "fontcolor=\(dotColor(c))", "penwidth=2.5"]
                } else {
                    attrs += ["color=gray", "style=dashed"]
                }
            }
            out += "  \(dotQuoted(l.a.node)) -- \(dotQuoted(l.b.node))" + (attrs.isEmpty ? "" : " [\(attrs.joined(separator: ", "))]") + ";\n"
        }
        // VXLAN tunnels: a link between the two endpoints, over the underlay.
        for tn in t.tunnels {
            out += "  \(dotQuoted(tn.a)) -- \(dotQuoted(tn.b)) [label=\(dotQuoted("tunnel VNI \(tn.vni)")), style=dotted];\n"
        }
        return out + "}\n"
    }

    static func mermaid(_ t: Topology, flow: FlowTrace?) -> String {
        let states = linkStates(flow)
        var id: [String: String] = [:]
        var out = ""
        var title = t.name
        if let l = legend(flow) { title += " — " + l }
        // Front matter title (Mermaid ≥ 9.4); the text after `title:` is YAML, quoted.
        out += "---\ntitle: \(mermaidTitle(title))\n---\n"
        out += "graph LR\n"
        for (i, n) in t.nodes.enumerated() {
            id[n.name] = "n\(i)"
            out += "  " + mermaidNode("n\(i)", n.kind, mermaidQuoted(n.name + " (" + n.kind.name + ")")) + "\n"
        }
        var styles: [String] = []
        var i = -1  // linkStyle counts the links written, in order
        for l in t.links {
            guard let a = id[l.a.node], let b = id[l.b.node] else { continue }
            i += 1
            var label = [l.a.interface, l.b.interface].map { $0 ?? "·" }.joined(separator: " – ")
            if l.a.interface == nil && l.b.interface == nil { label = "" }
            if flow != nil {
                if let c = states[[l.a.node, l.b.node]] {
                    label += (label.isEmpty ? "" : ": ") + c.rawValue
                    styles.append("  linkStyle \(i) stroke:\(cssColor(c)),stroke-width:3px,color:\(cssColor(c))")
                } else {
                    styles.append("  linkStyle \(i) stroke:#999999,stroke-dasharray:4 3")
                }
            }
            out += "  \(a) ---" + (label.isEmpty ? " " : "|\(mermaidQuoted(label))| ") + "\(b)\n"
        }
        for tn in t.tunnels {
            guard let a = id[tn.a], let b = id[tn.b] else { continue }
            out += "  \(a) -.-|\(mermaidQuoted("tunnel VNI \(tn.vni)"))| \(b)\n"
        }
        return out + styles.map { $0 + "\n" }.joined()
    }

    /// A YAML double-quoted scalar for the front matter.
    static func mermaidTitle(_ s: String) -> String {
        var out = "\""
        for u in s.unicodeScalars {
            switch u {
            case "\\": out += "\\\\"
            case "\"": out += "\\\""
            case _ where u.properties.generalCategory == .control: out += " "
            default: out.unicodeScalars.append(u)
            }
        }
        return out + "\""
    }
}
