#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Simulation
import TopologyFile
import TraceReport
import Yams

/// How far a student got in one lesson.
public struct LessonProgress: Codable, Sendable, Equatable {
    /// The page open (0-based).
    public var page: Int
    /// Pages done (read, answered right or solved).
    public var done: Set<Int>
    /// The last answer given per question page, as the student gave it.
    public var answers: [Int: String]
    /// Task pages solved.
    public var solved: Set<Int>

    public init() {
        page = 0
        done = []
        answers = [:]
        solved = []
    }

    /// The progress restricted to a lesson of `pages` pages (a lesson file may have shrunk).
    public func clamped(pages: Int) -> LessonProgress {
        var p = self
        p.page = pages == 0 ? 0 : min(max(page, 0), pages - 1)
        p.done = done.filter { (0..<pages).contains($0) }
        p.answers = answers.filter { (0..<pages).contains($0.key) }
        p.solved = solved.filter { (0..<pages).contains($0) }
        return p
    }

    /// The progress as JSON (one object, keys sorted, integers as JSON numbers).
    public var json: String {
        func ints(_ s: Set<Int>) -> JSONValue { .array(s.sorted().map { .int($0) }) }
        let answers = self.answers.sorted { $0.key < $1.key }.map { (String($0.key), JSONValue.string($0.value)) }
        return JSONValue.object([("answers", .object(answers)), ("done", ints(done)), ("page", .int(page)),
                                 ("solved", ints(solved)), ("version", .int(1))]).serialized(pretty: false) + "\n"
    }

    /// Progress from the JSON `json` wrote; nil with the reason when the text is not that.
    static func parse(_ text: String) -> (LessonProgress?, String?) {
        let root: Yams.Node?
        do {
            root = try TopologyFile.compose(text, file: "progress")
        } catch {
            let line = error.diagnostics.first.map { " at line \($0.line)" } ?? ""
            return (nil, "not valid JSON\(line)")
        }
        guard case let .mapping(m)? = root else { return (nil, "not a JSON object") }
        var p = LessonProgress()
        func int(_ n: Yams.Node) -> Int? {
            guard case let .scalar(s) = n, let v = Int(s.string), (0...1_000_000).contains(v) else { return nil }
            return v
        }
        func ints(_ n: Yams.Node) -> Set<Int>? {
            guard case let .sequence(seq) = n else { return nil }
            var out = Set<Int>()
            for i in seq {
                guard let v = int(i) else { return nil }
                out.insert(v)
            }
            return out
        }
        for (k, v) in m {
            guard case let .scalar(key) = k else { return (nil, "a key is not a string") }
            switch key.string {
            case "version":
                guard int(v) == 1 else { return (nil, "unknown version") }
            case "page":
                guard let n = int(v) else { return (nil, "'page' is not a page number") }
                p.page = n
            case "done", "solved":
                guard let s = ints(v) else { return (nil, "'\(key.string)' is not a list of page numbers") }
                if key.string == "done" { p.done = s } else { p.solved = s }
            case "answers":
                guard case let .mapping(am) = v else { return (nil, "'answers' is not an object") }
                for (ak, av) in am {
                    guard let page = int(ak), case let .scalar(s) = av else { return (nil, "an answer is not page: text") }
                    p.answers[page] = s.string
                }
            default:
                return (nil, "unknown key '\(key.string)'")
            }
        }
        return (p, nil)
    }
}

/// Progress files, one per lesson: `$XDG_STATE_HOME/csumlab/lessons/NAME.json` (default
/// `~/.local/state/csumlab/lessons/`), written atomically (`StateDirectory.write`).
public struct LessonProgressStore: Sendable {
    /// Nil when neither `XDG_STATE_HOME` nor `HOME` is an absolute path.
    public let directory: String?

    /// The largest progress file read.
    static let maxBytes = 1 << 20

    public init(environment: [String: String]) {
        directory = StateDirectory.base(environment: environment).map { $0 + "/lessons" }
    }

    /// The store of this process's environment.
    public init() {
        self.init(environment: StateDirectory.processEnvironment())
    }

    /// A store in `directory` (created when first written).
    public init(directory: String) {
        self.directory = directory
    }

    /// The progress file of lesson `name` (nil: no state directory, or a name unfit for a file).
    public func file(for name: String) -> String? {
        guard let directory, NameRule.problem(name) == nil else { return nil }
        return "\(directory)/\(name).json"
    }

    /// The lesson's progress: fresh when there is none yet; fresh with a warning when the file
    /// cannot be read or holds something else (the next save replaces it).
    public func load(_ name: String) -> (progress: LessonProgress, warning: String?) {
        guard let path = file(for: name) else {
            return (LessonProgress(), directory == nil
                ? "progress is not kept: set HOME (or XDG_STATE_HOME) to an absolute directory"
                : "progress is not kept: '\(name)' cannot be a file name")
        }
        let text: String
        do {
            text = try FileText.read(path, maxBytes: Self.maxBytes)
        } catch {
            if access(path, F_OK) != 0 && errno == ENOENT { return (LessonProgress(), nil) }
            return (LessonProgress(), "could not read the lesson progress (\(path): \(error)); starting afresh")
        }
        let (p, why) = LessonProgress.parse(text)
        guard let p else {
            return (LessonProgress(), "the lesson progress in \(path) is damaged (\(why ?? "unreadable")); starting afresh")
        }
        return (p, nil)
    }

    /// Keep `p` as the progress of lesson `name`, atomically.
    public func save(_ p: LessonProgress, for name: String) throws(SaveError) {
        guard let directory, let path = file(for: name) else {
            throw SaveError(kind: directory == nil ? .noStateDirectory : .other, path: "", code: 0,
                            message: directory == nil ? "no place for lesson progress: set HOME (or XDG_STATE_HOME) to an absolute directory"
                                : "cannot keep progress for '\(name)': not a valid lesson name")
        }
        try StateDirectory.create(directory, what: "the lesson progress directory")
        try StateDirectory.write(p.json, to: path)
    }

    /// Forget the progress of lesson `name` (nothing to do when there is none).
    public func reset(_ name: String) throws(SaveError) {
        guard let path = file(for: name) else { return }
        if unlink(path) != 0 && errno != ENOENT {
            throw SaveError(kind: .other, path: path, code: errno,
                            message: "cannot reset the progress of \(name): \(String(cString: strerror(errno))) (\(path))")
        }
    }
}
