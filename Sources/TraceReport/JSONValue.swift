/// A small JSON value with a deterministic writer (keys keep insertion order), so checked-in
/// golden files diff cleanly. No Foundation needed.
public indirect enum JSONValue: Sendable, Equatable {
    case null
    case bool(Bool)
    case int(Int)
    case string(String)
    case array([JSONValue])
    case object([(String, JSONValue)])

    public static func == (a: JSONValue, b: JSONValue) -> Bool {
        a.serialized() == b.serialized()
    }

    public func serialized(indent: Int = 0, pretty: Bool = true) -> String {
        var out = ""
        write(into: &out, level: indent, pretty: pretty)
        return out
    }

    private func write(into out: inout String, level: Int, pretty: Bool) {
        let pad = pretty ? String(repeating: "  ", count: level + 1) : ""
        let end = pretty ? String(repeating: "  ", count: level) : ""
        let nl = pretty ? "\n" : ""
        switch self {
        case .null: out += "null"
        case let .bool(b): out += b ? "true" : "false"
        case let .int(i): out += String(i)
        case let .string(s): Self.escape(s, into: &out)
        case let .array(a):
            if a.isEmpty { out += "[]"; return }
            // Arrays of scalars stay on one line.
            if a.allSatisfy({ if case .object = $0 { return false }; if case .array = $0 { return false }; return true }) {
                out += "["
                for (i, v) in a.enumerated() {
                    if i > 0 { out += ", " }
                    v.write(into: &out, level: level + 1, pretty: pretty)
                }
                out += "]"
                return
            }
            out += "[" + nl
            for (i, v) in a.enumerated() {
                out += pad
                v.write(into: &out, level: level + 1, pretty: pretty)
                out += (i < a.count - 1 ? "," : "") + nl
            }
            out += end + "]"
        case let .object(o):
            if o.isEmpty { out += "{}"; return }
            out += "{" + nl
            for (i, (k, v)) in o.enumerated() {
                out += pad
                Self.escape(k, into: &out)
                out += pretty ? ": " : ":"
                v.write(into: &out, level: level + 1, pretty: pretty)
                out += (i < o.count - 1 ? "," : "") + nl
            }
            out += end + "}"
        }
    }

    static func escape(_ s: String, into out: inout String) {
        out += "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                // C0 controls must be escaped in JSON; DEL and C1 (U+0080–U+009F, which some
                // terminals act on like ESC [) may be, and are, so the output is safe to cat.
                // The line and paragraph separators, the BOM and the noncharacters U+FFFE/FFFF
                // are escaped too: YAML readers (the lesson progress is read with Yams) refuse
                // them raw.
                if u.value < 0x20 || (0x7F...0x9F).contains(u.value) || [0x2028, 0x2029, 0xFEFF, 0xFFFE, 0xFFFF].contains(u.value) {
                    let h = String(u.value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - h.count) + h
                } else {
                    out.unicodeScalars.append(u)
                }
            }
        }
        out += "\""
    }
}
