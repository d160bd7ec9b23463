import Simulation
import Wire
import Yams

/// A topology file loaded: the model, what it expects, and where each thing was written.
public struct LoadedTopology: Sendable {
    public var topology: Topology
    public var expectations: [String: Expectation]
    public var file: String
}

/// Reads and validates topology files (containerlab-like YAML). Strict: unknown keys are errors,
/// and every error is reported at once with the line and column of the offending key or value.
public enum TopologyFile {
    public static let formatVersion = 1

    /// The largest topology file read, in bytes.
    public static let maxFileBytes = YAMLGate.maxBytes

    /// Load and validate a file from disk. Reads at most `maxFileBytes + 1` bytes.
    public static func load(path: String) throws(TopologyFileError) -> LoadedTopology {
        let text: String
        do {
            text = try FileText.read(path, maxBytes: maxFileBytes)
        } catch where error.tooLarge {
            throw TopologyFileError([Diagnostic(file: path, line: 1, column: 1, message: YAMLGate.sizeMessage)])
        } catch {
            throw TopologyFileError([Diagnostic(file: path, line: 1, column: 1, message: "cannot read file: \(error)")])
        }
        return try parse(text, file: path)
    }

    /// Parse and validate YAML text; `file` names it in diagnostics. The text first passes
    /// `YAMLGate` (size, characters, no anchors or aliases, nesting and token limits), so Yams
    /// only ever composes a tree as large as the text.
    public static func parse(_ text: String, file: String) throws(TopologyFileError) -> LoadedTopology {
        guard let root = try compose(text, file: file) else {
            throw TopologyFileError([Diagnostic(file: file, line: 1, column: 1, message: "empty file: expected a mapping with 'nodes', 'links' and 'flows'")])
        }
        return try topology(from: root, file: file)
    }

    /// The YAML tree of `text` (nil for an empty document), after `YAMLGate`'s checks, or the
    /// first problem located in `file`. For other formats read with the same limits (lessons).
    public static func compose(_ text: String, file: String) throws(TopologyFileError) -> Yams.Node? {
        if let p = YAMLGate.check(text) {
            throw TopologyFileError([Diagnostic(file: file, line: p.line, column: p.column, message: p.message)])
        }
        do {
            return try Yams.compose(yaml: text)
        } catch let e as YamlError {
            throw TopologyFileError([clamped(yamlDiagnostic(e, text: text, file: file), to: text)])
        } catch {
            throw TopologyFileError([Diagnostic(file: file, line: 1, column: 1, message: "YAML: cannot read the file")])
        }
    }

    /// A topology from a composed mapping (a whole file's, or one inside another file: a
    /// lesson's inline `lab:`), parsed and validated; diagnostics carry the node's own marks, so
    /// they point into the file that holds it.
    public static func topology(from root: Yams.Node, file: String) throws(TopologyFileError) -> LoadedTopology {
        var p = Parser(file: file)
        let t = p.topology(root)
        var v = Validator(topology: t, marks: p.marks, file: file)
        if p.diagnostics.isEmpty { v.run() } else { v.checkNames() }
        p.diagnostics += v.diagnostics
        if !p.diagnostics.isEmpty {
            throw TopologyFileError(p.diagnostics.sorted { ($0.line, $0.column) < ($1.line, $1.column) })
        }
        return LoadedTopology(topology: t, expectations: p.expectations, file: file)
    }

    /// The semantic checks of `check` on a topology changed after loading (by `--set` or the
    /// explorer): names (`NameRule`), impossible links, unreachable flows… Positions are unknown here, so each
    /// diagnostic points at line 1 of `file`; callers say what changed.
    public static func validate(_ t: Topology, file: String) -> [Diagnostic] {
        var v = Validator(topology: t, marks: [:], file: file)
        v.run()
        return v.diagnostics
    }

    /// A Yams error as one diagnostic at the line and column it names, with a message of our
    /// own: Yams' descriptions repeat the location and echo the source line, which may hold
    /// control characters.
    static func yamlDiagnostic(_ e: YamlError, text: String, file: String) -> Diagnostic {
        func located(_ mark: Mark, _ message: String) -> Diagnostic {
            Diagnostic(file: file, line: mark.line, column: mark.column, message: message)
        }
        func syntax(_ context: YamlError.Context?, _ problem: String) -> String {
            let while_ = context.map { " (\($0.text) at line \($0.mark.line))" } ?? ""
            return "YAML syntax: \(problem)\(while_)"
        }
        switch e {
        case let .scanner(context, problem, mark, _), let .parser(context, problem, mark, _), let .composer(context, problem, mark, _):
            return located(mark, syntax(context, problem))
        case let .reader(problem, offset, value, _):
            let (line, column) = offset.map { position(ofCharacter: $0, in: text) } ?? (1, 1)
            let what = value >= 0 ? " (U+\(String(value, radix: 16, uppercase: true)))" : ""
            return Diagnostic(file: file, line: line, column: column, message: "YAML: \(problem)\(what)")
        case let .duplicatedKeysInMapping(dups, ctx):
            return located(ctx.mark, "duplicate key\(dups.count > 1 ? "s" : "") \(dups.map { "'\($0)'" }.joined(separator: ", ")) in this mapping (node, interface and flow names must be unique)")
        case .no, .memory, .writer, .emitter, .representer, .dataCouldNotBeDecoded:
            return Diagnostic(file: file, line: 1, column: 1, message: "YAML: cannot read the file (\(String(describing: e).prefix(200)))")
        }
    }

    /// `d` moved inside `text`: libyaml places an error at the end of the stream on a line after
    /// the last when the text does not end with a line break; that is the end of the last line.
    static func clamped(_ d: Diagnostic, to text: String) -> Diagnostic {
        let end = position(ofCharacter: text.count, in: text)
        var d = d
        if d.line > end.line || (d.line == end.line && d.column > end.column) {
            d.line = end.line
            d.column = end.column
        }
        return d
    }

    /// The 1-based line and column (in Unicode scalars, as Yams' marks count) of the character
    /// `offset` characters into `text`. Line breaks are YAML's: LF, CR, CR LF, NEL, LS, PS.
    static func position(ofCharacter offset: Int, in text: String) -> (line: Int, column: Int) {
        let end = text.index(text.startIndex, offsetBy: offset, limitedBy: text.endIndex) ?? text.endIndex
        var line = 1, column = 1
        var previousCR = false
        for s in text.unicodeScalars[..<end] {
            switch s {
            case "\n" where previousCR:
                break
            case "\n", "\r", "\u{85}", "\u{2028}", "\u{2029}":
                line += 1
                column = 1
            default:
                column += 1
            }
            previousCR = s == "\r"
        }
        return (line, column)
    }
}
