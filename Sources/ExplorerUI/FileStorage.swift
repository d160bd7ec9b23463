import Lessons
import TopologyFile

#if canImport(Glibc)
import Glibc
#endif

/// The real `LabStorage`: lab files through `LabSaver` (atomic) and `DiskStamp`, the recovery
/// store under `$XDG_STATE_HOME/csumlab/`, the shipped labs through `LabCatalog`.
public struct FileStorage: LabStorage {
    let recoveries: RecoveryStore?
    /// Where lesson progress is kept (`$XDG_STATE_HOME/csumlab/lessons/`).
    public var progressStore: LessonProgressStore

    public init() {
        recoveries = try? RecoveryStore()
        progressStore = LessonProgressStore()
    }

    public init(recoveryDirectory: String, progressDirectory: String? = nil) {
        recoveries = RecoveryStore(directory: recoveryDirectory)
        progressStore = progressDirectory.map { LessonProgressStore(directory: $0) } ?? LessonProgressStore()
    }

    public func read(_ path: String) throws(StorageError) -> (text: String, stamp: DiskStamp) {
        do { return try DiskStamp.reading(path) } catch { throw StorageError(error.message) }
    }

    public func stamp(_ path: String) -> DiskStamp? { DiskStamp.current(path) }

    public func save(_ text: String, to path: String, expecting: DiskStamp?, keepOriginal: Bool) throws(StorageError) -> DiskStamp {
        do {
            return try LabSaver.save(text: text, to: path, expecting: expecting, keepOriginal: keepOriginal)
        } catch {
            throw StorageError(error.message, changedOnDisk: error.kind == .changedOnDisk)
        }
    }

    public func labs(in directory: String?) -> [LabEntry] {
        if let directory { return (try? LabCatalog.entries(in: directory)) ?? [] }
        return (try? LabCatalog.shippedEntries()) ?? []
    }

    public func writeRecovery(_ text: String, for path: String?) throws(StorageError) {
        guard let r = recoveries else { throw StorageError("no place for recovery files: set HOME (or XDG_STATE_HOME)") }
        do { try r.write(text: text, for: path) } catch { throw StorageError(error.message) }
    }

    public func recovery(for path: String?) -> Recovery? { recoveries?.find(for: path) }

    public func removeRecovery(for path: String?) { recoveries?.remove(for: path) }

    public func crashSnapshot(for path: String?) -> CrashSnapshot? { try? recoveries?.crashSnapshot(for: path) }

    public func lessons() -> [LessonEntry] {
        LessonCatalog.shippedDirectory().map { LessonCatalog.entries(in: $0) } ?? []
    }

    public func loadLesson(_ path: String) throws(StorageError) -> Lesson {
        do { return try LessonFile.load(path: path) } catch {
            throw StorageError(error.diagnostics.first.map { "\($0)" } ?? "\(path): does not load")
        }
    }

    public func lessonProgress(_ name: String) -> (progress: LessonProgress, warning: String?) {
        progressStore.load(name)
    }

    public func lessonSummary(_ e: LessonEntry) -> String { progressStore.summary(of: e) }

    public func saveLessonProgress(_ p: LessonProgress, for name: String) throws(StorageError) {
        do { try progressStore.save(p, for: name) } catch { throw StorageError("\(error)") }
    }

    /// "3 minutes ago", "on 2026-12-05 13:40 UTC" for a recovery's time.
    static func age(_ epochSeconds: Int64) -> String {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        let d = Int64(now.tv_sec) - epochSeconds
        if d >= 0 && d < 120 { return "\(d) seconds ago" }
        if d >= 0 && d < 7200 { return "\(d / 60) minutes ago" }
        var t = time_t(epochSeconds)
        var parts = tm()
        gmtime_r(&t, &parts)
        func two(_ v: Int32) -> String { v < 10 ? "0\(v)" : "\(v)" }
        return "on \(parts.tm_year + 1900)-\(two(parts.tm_mon + 1))-\(two(parts.tm_mday)) \(two(parts.tm_hour)):\(two(parts.tm_min)) UTC"
    }
}
