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
        if let p = YAMLGate.check(text) {
            throw TopologyFileError([Diagnostic(file: file, line: p.line, column: p.column, message: p.message)])
        }
        let root: Yams.Node?
        do {
            root = try Yams.compose(yaml: text)
        } catch let e as YamlError {
            throw TopologyFileError([yamlDiagnostic(e, file: file)])
        } catch {
            throw TopologyFileError([Diagnostic(file: file, line: 1, column: 1, message: "YAML error: \(error)")])
        }
        var p = Parser(file: file)
        guard let root else {
            throw TopologyFileError([Diagnostic(file: file, line: 1, column: 1, message: "empty file: expected a mapping with 'nodes', 'links' and 'flows'")])
        }
        let t = p.topology(root)
        if p.diagnostics.isEmpty {
            var v = Validator(topology: t, marks: p.marks, file: file)
            v.run()
            p.diagnostics += v.diagnostics
        }
        if !p.diagnostics.isEmpty {
            throw TopologyFileError(p.diagnostics.sorted { ($0.line, $0.column) < ($1.line, $1.column) })
        }
        return LoadedTopology(topology: t, expectations: p.expectations, file: file)
    }

    /// The semantic checks of `check` on a topology changed after loading (by `--set` or the
    /// explorer): impossible links, unreachable flows… Positions are unknown here, so each
    /// diagnostic points at line 1 of `file`; callers say what changed.
    public static func validate(_ t: Topology, file: String) -> [Diagnostic] {
        var v = Validator(topology: t, marks: [:], file: file)
        v.run()
        return v.diagnostics
    }

    static func yamlDiagnostic(_ e: YamlError, file: String) -> Diagnostic {
        switch e {
        case let .scanner(_, problem, mark, _), let .parser(_, problem, mark, _), let .composer(_, problem, mark, _):
            return Diagnostic(file: file, line: mark.line, column: mark.column, message: "YAML syntax: \(problem)")
        case let .duplicatedKeysInMapping(dups, ctx):
            return Diagnostic(file: file, line: ctx.mark.line, column: ctx.mark.column,
                              message: "duplicate key\(dups.count > 1 ? "s" : "") \(dups.map { "'\($0)'" }.joined(separator: ", ")) in this mapping (node, interface and flow names must be unique)")
        default:
            return Diagnostic(file: file, line: 1, column: 1, message: "YAML error: \(e)")
        }
    }
}
