import Simulation

/// The real commands behind the current toggles (`c`): what to type on the host, in a namespace,
/// in a guest, or on the QEMU command line to get the same state, and the `csumlab trace` line
/// that reproduces the trace.
public enum Commands {
    public static func lines(_ s: ExplorerState) -> [String] {
        var out: [String] = []
        if s.assignments.isEmpty {
            out.append("No toggles yet: the lab is as the file describes it.")
            out.append("Select a node (j/k or click), press o and change a setting.")
        }
        for a in s.assignments {
            out.append("# " + a)
            out += HostCommands.lines(for: a, in: s.topology).map { "  " + $0 }
        }
        out.append("")
        out.append("Reproduce this trace:")
        let sets = s.assignments.map { "--set \($0)" }
        out.append("  " + (["csumlab trace \(s.fileLabel)"] + sets).joined(separator: " "))
        return out
    }
}
