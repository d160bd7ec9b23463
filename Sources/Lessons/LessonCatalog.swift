#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import TopologyFile

/// One lesson file in a directory, as `csumlab lesson` lists it.
public struct LessonEntry: Sendable {
    public var name: String
    public var title: String
    public var summary: String
    public var path: String
    public var pages: Int
    /// The number of task pages.
    public var tasks: Int
    /// Why the file does not load (its first diagnostic), nil when it loads.
    public var error: String?

    public init(name: String, title: String, summary: String, path: String, pages: Int, tasks: Int = 0, error: String? = nil) {
        self.name = name
        self.title = title
        self.summary = summary
        self.path = path
        self.pages = pages
        self.tasks = tasks
        self.error = error
    }
}

/// Finds the shipped lessons from any working directory, as `LabCatalog` finds the labs.
extension LessonProgressStore {
    /// A lesson's progress in words, as `csumlab lesson` and the explorer's list (`L`) show it:
    /// "not started", or "3/7 pages, 1/2 tasks", or that the kept file is unreadable.
    public func summary(of e: LessonEntry) -> String {
        let (p, warning) = load(e.name)
        if warning != nil { return "progress unreadable (it starts afresh when opened)" }
        let q = p.clamped(pages: e.pages)
        if q.done.isEmpty && q.solved.isEmpty && q.answers.isEmpty && q.page == 0 { return "not started" }
        return "\(q.done.count)/\(e.pages) pages, \(q.solved.count)/\(e.tasks) tasks"
    }
}

public enum LessonCatalog {
    /// `CSUMLAB_LESSONS` if set; else, walking up from the executable, the first `assets/lessons/`
    /// (a build inside the repository) or `share/csumlab/lessons/` (an installed binary).
    public static func shippedDirectory() -> String? {
        try? locate()
    }

    /// As `shippedDirectory`, with the reason when there is none.
    public static func locate() throws(LabCatalogError) -> String {
        let env = getenv("CSUMLAB_LESSONS").map { String(cString: $0) }
        return try LabCatalog.shippedDirectory(candidates: ["assets/lessons", "share/csumlab/lessons"], variable: "CSUMLAB_LESSONS",
                                               value: env, executable: LabCatalog.executablePath(),
                                               what: "lessons", directory: "the lessons directory")
    }

    /// The lessons of `directory` (`*.yaml`, `*.yml`), sorted by file name; a file that does not
    /// load is listed with its error.
    public static func entries(in directory: String) -> [LessonEntry] {
        guard let labs = try? LabCatalog.entries(in: directory) else { return [] }
        // LabCatalog lists the files (and tries them as topologies); each is read again as a lesson.
        return labs.map { f in
            do throws(TopologyFileError) {
                let l = try LessonFile.load(path: f.path)
                return LessonEntry(name: l.name, title: l.title, summary: l.summary, path: f.path, pages: l.pages.count, tasks: l.taskPages.count)
            } catch {
                return LessonEntry(name: f.name, title: "", summary: "", path: f.path, pages: 0,
                                   error: error.diagnostics.first?.description ?? "cannot load")
            }
        }
    }

    /// The path of a lesson given by name (a shipped lesson: `02-seed-routed`, or its `name:`)
    /// or by path (anything with a `/` or ending in `.yaml`/`.yml` that exists).
    public static func find(_ nameOrPath: String) -> String? {
        if nameOrPath.contains("/") || nameOrPath.hasSuffix(".yaml") || nameOrPath.hasSuffix(".yml") {
            if access(nameOrPath, R_OK) == 0 { return nameOrPath }
        }
        guard let dir = shippedDirectory() else { return nil }
        for ext in [".yaml", ".yml"] {
            let p = dir + "/" + nameOrPath + ext
            if access(p, R_OK) == 0 { return p }
        }
        return entries(in: dir).first { $0.name == nameOrPath && $0.error == nil }?.path
    }
}
