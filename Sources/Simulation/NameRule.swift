/// What a name may hold: node, interface and flow names, in files, `--set` and edit forms alike.
///
/// A name is 1–64 letters or digits of any script (with their combining marks), `-` and `_`.
/// `.` separates the parts of `--set NODE[.IF].SETTING=VALUE` and `:` those of a link endpoint
/// `node:if`, so neither may appear inside a name; nor may spaces or control characters, which
/// would make a name impossible to type or unsafe to print. `TopologyFile` validation applies
/// this rule to every name, so a file, a `--set` and an edit all go through it.
public enum NameRule {
    public static let maxLength = 64

    /// The rule in words, for messages and help.
    public static let summary = "a name holds 1–\(maxLength) letters or digits (any script), '-' or '_' ('.' and ':' are separators in --set and links)"

    public static func isValid(_ name: String) -> Bool { problem(name) == nil }

    /// Nil if `name` is a valid name, otherwise what is wrong with it (one clause, no location).
    public static func problem(_ name: String) -> String? {
        let count = name.unicodeScalars.count
        if count == 0 { return "a name cannot be empty" }
        if count > maxLength { return "a name is at most \(maxLength) characters, this one has \(count)" }
        if let bad = name.unicodeScalars.first(where: { !isAllowed($0) }) {
            return "\(describe(bad)) is not allowed in a name"
        }
        return nil
    }

    public static func isAllowed(_ s: Unicode.Scalar) -> Bool {
        if s == "-" || s == "_" { return true }
        switch s.properties.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter,
             .nonspacingMark, .spacingMark, .enclosingMark, .decimalNumber:
            return true
        default:
            return false
        }
    }

    /// `'.' (U+002E)`; a control character is shown by its code only.
    static func describe(_ s: Unicode.Scalar) -> String {
        let hex = String(s.value, radix: 16, uppercase: true)
        let code = "U+" + String(repeating: "0", count: max(0, 4 - hex.count)) + hex
        if s == " " { return "a space (\(code))" }
        return FreeTextRule.isControl(s) || s.properties.isWhitespace ? code : "'\(s)' (\(code))"
    }
}

/// What free text may hold (a lab's description and name, an expected leg): any characters but
/// control characters; a description may also hold newlines and tabs.
public enum FreeTextRule {
    /// Nil if `text` is acceptable, otherwise what is wrong with it.
    public static func problem(_ text: String, multiline: Bool) -> String? {
        guard let bad = text.unicodeScalars.first(where: { isControl($0) && !(multiline && ($0 == "\n" || $0 == "\t")) }) else {
            return nil
        }
        return "control character \(NameRule.describe(bad)) is not allowed here" + (multiline ? " (newlines and tabs are)" : "")
    }

    /// C0 controls, DEL and C1 controls: what a terminal may act on.
    public static func isControl(_ s: Unicode.Scalar) -> Bool {
        s.value < 0x20 || (0x7F...0x9F).contains(s.value)
    }
}
