/// Text from a file or a user, made safe to print on a terminal.
///
/// Names, descriptions and YAML reader excerpts come from files a user may not have written. A
/// C0 control (ESC, BEL, CR …), DEL or a C1 control (U+0080–U+009F, which some terminals treat
/// like `ESC [`) printed raw can retitle the window, clear the screen or move the cursor, so
/// every place that echoes such text passes it through `escaped` first. The escapes are the
/// ones a C or Swift programmer reads back (`\e`, `\a`, `\x1b`-style for the rest), so the
/// user can still see what the file holds. JSON output has its own escaping and does not use this.
public enum TerminalEscape {
    /// `text` with every control character replaced by a visible escape. Newline and tab are
    /// kept when `keepingLayout` is true (free text such as a lab's description), escaped
    /// otherwise (a one-line excerpt, a name).
    public static func escaped(_ text: String, keepingLayout: Bool = false) -> String {
        guard text.unicodeScalars.contains(where: { isControl($0, keepingLayout: keepingLayout) }) else { return text }
        var out = String.UnicodeScalarView()
        for s in text.unicodeScalars {
            if isControl(s, keepingLayout: keepingLayout) {
                out.append(contentsOf: visible(s).unicodeScalars)
            } else {
                out.append(s)
            }
        }
        return String(out)
    }

    /// Is `s` a control character a terminal may act on?
    public static func isControl(_ s: Unicode.Scalar, keepingLayout: Bool = false) -> Bool {
        if keepingLayout, s == "\n" || s == "\t" { return false }
        return s.value < 0x20 || (0x7F...0x9F).contains(s.value)
    }

    /// The visible form of one control character.
    static func visible(_ s: Unicode.Scalar) -> String {
        switch s.value {
        case 0x00: return "\\0"
        case 0x07: return "\\a"
        case 0x08: return "\\b"
        case 0x09: return "\\t"
        case 0x0A: return "\\n"
        case 0x0D: return "\\r"
        case 0x1B: return "\\e"
        default:
            let hex = String(s.value, radix: 16)
            return s.value < 0x100 ? "\\x" + (hex.count < 2 ? "0" + hex : hex) : "\\u{" + hex + "}"
        }
    }
}
