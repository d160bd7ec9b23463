import Simulation
import Yams

extension TopologyFile {
    /// Flows given on the command line (`--add-flow`), in the file format's own words: a YAML
    /// mapping of one or more `NAME: {type: …, from: …, to: …}` entries, read exactly as the
    /// entries under a file's `flows:` are (every flow type, `type: frame` with its `vnet`
    /// header included), then checked with the whole lab. Diagnostics name `source` (e.g.
    /// `--add-flow`) with the line and column inside the argument.
    ///
    /// Why the file's syntax rather than options of its own: a flow has a dozen keys and a frame
    /// flow a nested header; one grammar means one parser, one set of errors and one document
    /// (`assets/topology-format.md`) for both places a flow can be written.
    public static func addFlows(_ text: String, source: String, to loaded: LoadedTopology) throws(TopologyFileError) -> LoadedTopology {
        let example = "e.g. 'probe: {type: udp, from: vm1, to: vm2, port: 53}'"
        guard let root = try compose(text, file: source) else {
            throw TopologyFileError([Diagnostic(file: source, line: 1, column: 1, message: "expected one or more flows as a YAML mapping, \(example)")])
        }
        guard case .mapping = root else {
            throw TopologyFileError([Diagnostic(file: source, line: root.mark?.line ?? 1, column: root.mark?.column ?? 1,
                                                message: "expected one or more flows as a YAML mapping NAME: {…}, \(example)")])
        }
        var p = Parser(file: source)
        var t = loaded.topology
        let before = t.flows.count
        let existing = Set(t.flows.map(\.name))
        p.parseFlows(root, into: &t, what: "the added flows")
        for f in t.flows[before...] where existing.contains(f.name) {
            p.error(p.marks["flow:\(f.name)"], "flow '\(f.name)' is already in \(loaded.file): an added flow needs a name of its own")
        }
        if p.diagnostics.isEmpty {
            var v = Validator(topology: t, marks: p.marks, file: source)
            v.run()
            p.diagnostics += v.diagnostics
        }
        if !p.diagnostics.isEmpty {
            throw TopologyFileError(p.diagnostics.sorted { ($0.line, $0.column) < ($1.line, $1.column) })
        }
        var out = loaded
        out.topology = t
        out.expectations.merge(p.expectations) { _, added in added }
        return out
    }
}
