import Simulation
import TerminalText

/// The real commands behind the current toggles (`c`): what to type on the host, in a namespace,
/// in a guest, or on the QEMU command line to get the same state, and the `csumlab trace` line
/// that reproduces the trace.
public enum Commands {
    public static func lines(_ s: ExplorerState) -> [String] {
        var out: [String] = []
        if s.assignments.isEmpty {
            out.append("No toggles: the lab's settings are as last saved.")
            out.append("Select a node (j/k or click), press o and change a setting.")
        }
        for a in s.assignments {
            out.append("# " + a)
            out += HostCommands.lines(for: a, in: s.topology).map { "  " + $0 }
        }
        out.append("")
        out.append("Reproduce this trace (y prints it when you quit, to copy):")
        out += reproduce(s).map { "  " + $0 }
        return out
    }

    /// The command line that gives this trace: `csumlab trace FILE --set …` over the file as last
    /// saved; with edits of the structure (or the built-in lab, which has no file) the lab must
    /// be saved first, and the line says so. The file is named as given at start, shell-quoted.
    public static func reproduce(_ s: ExplorerState) -> [String] {
        let d = s.document
        guard let path = d.path ?? d.referencePath, !d.hasStructuralEdits else {
            let why = d.path == nil ? "the built-in lab has no file" : "the lab has unsaved edits"
            return ["# \(why): save it first (w or W), then:", "csumlab trace " + shellQuoted(d.path ?? "FILE.yaml")]
        }
        return [(["csumlab", "trace", shellQuoted(path)] + s.assignments.map { "--set " + shellQuoted($0) }).joined(separator: " ")]
    }

    /// A long command broken at spaces into lines that end in ` \\` (a continuation the shell
    /// reads back as one command), continued lines indented, so the whole line can be read
    /// and copied at any width instead of being cut off.
    public static func shellWrapped(_ line: String, width: Int) -> [String] {
        guard line.count > width else { return [line] }
        if line.hasPrefix("#") { return line.wrapped(width) }
        let lead = String(line.prefix { $0 == " " })
        let indent = lead + "    "
        var out: [String] = []
        var current = lead
        for word in line.split(separator: " ") {
            let start = current == lead || current == indent
            if !start && current.count + 1 + word.count + 2 > width {
                out.append(current + " \\")
                current = indent + word
            } else {
                current += (start ? "" : " ") + word
            }
        }
        out.append(current)
        return out
    }

    /// A word the shell reads back as itself.
    static func shellQuoted(_ w: String) -> String {
        let safe = w.unicodeScalars.allSatisfy { $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || "-_./=:,+@%".unicodeScalars.contains($0)) }
        if safe && !w.isEmpty { return w }
        return "'" + w.map { $0 == "'" ? "'\\''" : String($0) }.joined() + "'"
    }
}
