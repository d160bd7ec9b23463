import Lessons
import TopologyFile

/// Where the explorer reads and writes lab files, the recovery file and the list of labs. The
/// explorer's state calls it for `w`, `W`, `O` and on a signal; the terminal front end passes
/// the real one (`FileStorage`), tests pass one over a temporary directory or a fake.
public protocol LabStorage: Sendable {
    /// The text of a lab file and a stamp of what was on disk.
    func read(_ path: String) throws(StorageError) -> (text: String, stamp: DiskStamp)
    /// What is on disk at `path` now (nil when nothing is).
    func stamp(_ path: String) -> DiskStamp?
    /// Write atomically (temporary file, fsync, rename); refuse when the file no longer matches
    /// `expecting`; keep the old file as `FILE.orig` when asked. Returns the new stamp.
    func save(_ text: String, to path: String, expecting: DiskStamp?, keepOriginal: Bool) throws(StorageError) -> DiskStamp
    /// The shipped labs (directory nil) or the labs in a directory.
    func labs(in directory: String?) -> [LabEntry]
    /// Keep an unsaved lab where the next `csumlab explore` of the same file finds it.
    func writeRecovery(_ text: String, for path: String?) throws(StorageError)
    func recovery(for path: String?) -> Recovery?
    /// Stage the unsaved lab for a crash (`CursesShim` writes it from the signal handler): the
    /// paths and header to write, or nil when the store cannot be used.
    func crashSnapshot(for path: String?) -> CrashSnapshot?
    func removeRecovery(for path: String?)
    /// The shipped lessons (`L`).
    func lessons() -> [LessonEntry]
    func loadLesson(_ path: String) throws(StorageError) -> Lesson
    /// A lesson's progress for this user, and a warning when the kept file could not be read.
    func lessonProgress(_ name: String) -> (progress: LessonProgress, warning: String?)
    func saveLessonProgress(_ p: LessonProgress, for name: String) throws(StorageError)
    /// A lesson's progress in words for the list ("not started", "3/7 pages, 1/2 tasks").
    func lessonSummary(_ e: LessonEntry) -> String
}

/// Storages without lessons (test fakes): no list, nothing kept.
extension LabStorage {
    public func lessons() -> [LessonEntry] { [] }
    public func loadLesson(_ path: String) throws(StorageError) -> Lesson { throw StorageError("no lessons here") }
    public func lessonProgress(_ name: String) -> (progress: LessonProgress, warning: String?) { (LessonProgress(), nil) }
    public func saveLessonProgress(_ p: LessonProgress, for name: String) throws(StorageError) {}
    public func lessonSummary(_ e: LessonEntry) -> String { "not started" }
}

/// Why a read or a write failed, in words (with the path and the system's reason).
public struct StorageError: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String
    /// The file changed on disk since it was read (a save refused to overwrite it).
    public var changedOnDisk: Bool

    public init(_ message: String, changedOnDisk: Bool = false) {
        self.message = message
        self.changedOnDisk = changedOnDisk
    }

    public var description: String { message }
}
