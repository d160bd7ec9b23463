import Lessons
import Simulation
import TopologyFile

/// The repository's root, from this file's path.
let repositoryRoot: String = {
    var parts = #filePath.split(separator: "/", omittingEmptySubsequences: false)
    parts.removeLast(3)
    return parts.joined(separator: "/")
}()

let shippedLessonDirectory = repositoryRoot + "/assets/lessons"

/// Every shipped lesson file, sorted.
let shippedLessonPaths: [String] = LessonCatalog.entries(in: shippedLessonDirectory).map(\.path)

/// The lab with `--set` assignments applied, and its trace.
func applying(_ set: [String], to lab: Topology) throws -> (Topology, Trace) {
    var t = lab
    for a in set { try t.apply(assignment: a) }
    return (t, try Simulator(t).run())
}
