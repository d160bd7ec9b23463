import TerminalText

/// A problem in a topology file, at a line and column (1-based), as `file:line:column: message`.
/// Safe to print: the message (which may quote names and values from the file) keeps no control
/// characters (`TerminalEscape`), nor does `description` (the file name may hold some).
public struct Diagnostic: Error, Sendable, Hashable, CustomStringConvertible {
    public var file: String
    public var line: Int
    public var column: Int
    public var message: String

    public init(file: String, line: Int, column: Int, message: String) {
        self.file = file
        self.line = line
        self.column = column
        self.message = TerminalEscape.escaped(message)
    }

    public var description: String { "\(TerminalEscape.escaped(file)):\(line):\(column): error: \(message)" }
}

/// Every problem found in one file (parsing stops at a YAML syntax error; otherwise all are
/// collected before the file is rejected).
public struct TopologyFileError: Error, Sendable, CustomStringConvertible {
    public var diagnostics: [Diagnostic]

    public init(_ diagnostics: [Diagnostic]) {
        self.diagnostics = diagnostics
    }

    public var description: String { diagnostics.map(\.description).joined(separator: "\n") }
}

/// What a file says it expects of a flow. Only tests read this; the simulator never does.
public struct Expectation: Sendable, Hashable {
    public enum Verdict: String, Sendable, CaseIterable {
        case completes
        case fails
        case corrupted
    }

    public var verdict: Verdict
    /// The first failing leg, when `verdict` is `fails`.
    public var leg: String?

    public init(verdict: Verdict, leg: String? = nil) {
        self.verdict = verdict
        self.leg = leg
    }
}
