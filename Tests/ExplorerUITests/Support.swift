import ExplorerUI
import Simulation
import Testing
import TopologyFile

#if canImport(Glibc)
import Glibc
#endif

/// The package root, from this file's path.
let packageRoot: String = {
    var parts = #filePath.split(separator: "/", omittingEmptySubsequences: false)
    parts.removeLast(3)
    return parts.joined(separator: "/")
}()

func readFile(_ path: String) -> String? {
    try? FileText.read(path)
}

func writeFile(_ path: String, _ text: String) {
    try? FileText.writeAtomically(text, to: path)
}

func defaultState() throws -> ExplorerState {
    let loaded = try TopologyFile.parse(DefaultLab.text, file: DefaultLab.fileName)
    return try ExplorerState(topology: loaded.topology, fileLabel: DefaultLab.fileName)
}

func state(file: String) throws -> ExplorerState {
    let loaded = try TopologyFile.load(path: packageRoot + "/topologies/" + file)
    return try ExplorerState(topology: loaded.topology, fileLabel: "topologies/" + file)
}

func press(_ s: inout ExplorerState, _ keys: Key...) {
    for k in keys { s.handle(.key(k)) }
}

/// Compare a whole screen with `Snapshots/<name>.txt`. With CSUMLAB_RECORD=1 (or when the file
/// is missing) the snapshot is written and the test fails so that a new snapshot is looked at.
func assertSnapshot(_ s: ExplorerState, width: Int, height: Int, _ name: String, sourceLocation: SourceLocation = #_sourceLocation) {
    let text = Screen.render(s, width: width, height: height).canvas.text + "\n"
    let path = packageRoot + "/Tests/ExplorerUITests/Snapshots/\(name).txt"
    let record = getenv("CSUMLAB_RECORD") != nil
    guard !record, let expected = readFile(path) else {
        writeFile(path, text)
        Issue.record("recorded snapshot \(name); check it and run again", sourceLocation: sourceLocation)
        return
    }
    if expected != text {
        let e = expected.split(separator: "\n", omittingEmptySubsequences: false)
        let a = text.split(separator: "\n", omittingEmptySubsequences: false)
        var diff = ""
        for i in 0..<max(e.count, a.count) {
            let el = i < e.count ? String(e[i]) : "<none>", al = i < a.count ? String(a[i]) : "<none>"
            if el != al { diff += "line \(i + 1):\n  expected: \(el)\n  actual:   \(al)\n" }
        }
        Issue.record("snapshot \(name) differs (CSUMLAB_RECORD=1 to re-record):\n\(diff)", sourceLocation: sourceLocation)
    }
}
