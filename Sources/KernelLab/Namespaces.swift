#if canImport(Glibc)
import Glibc
#endif

/// Network namespaces created by this run, and removal of any run's leftovers. All `ip` calls
/// that configure a lab use `ip -n NS`, so the host namespace is never modified.
public enum Namespaces {
    /// `ip netns add NAME` and bring `lo` up inside it.
    public static func create(_ name: String) throws(LabError) {
        try Spawn.check(["ip", "netns", "add", name])
        try Spawn.check(["ip", "-n", name, "link", "set", "lo", "up"])
    }

    /// Kill every process still inside the namespace (only lab helpers live there), then delete it.
    /// Returns why it could not be deleted (`ip netns del` failed, e.g. without root), or nil.
    @discardableResult
    public static func destroy(_ name: String) -> String? {
        if let pids = try? Spawn.run(["ip", "netns", "pids", name]), pids.status == 0 {
            for p in pids.stdout.split(separator: "\n") {
                if let pid = Int32(p.trimmingCharacters(in: " ")), pid > 1, pid != getpid() { kill(pid, SIGKILL) }
            }
        }
        do {
            let r = try Spawn.run(["ip", "netns", "del", name])
            if r.status == 0 { return nil }
            let why = r.stderr.split(separator: "\n").first.map(String.init) ?? ""
            return "`ip netns del` exited \(r.status)" + (why.isEmpty ? "" : ": " + why)
        } catch {
            return "\(error)"
        }
    }

    /// What a cleanup removed, and what it could not remove with why.
    public struct Removal: Sendable, Equatable {
        public struct Failure: Sendable, Equatable {
            public var name: String
            public var reason: String
        }

        public var removed: [String] = []
        public var failed: [Failure] = []
    }

    static func destroy(_ names: [String]) -> Removal {
        var r = Removal()
        for n in names {
            if let why = destroy(n) { r.failed.append(.init(name: n, reason: why)) } else { r.removed.append(n) }
        }
        return r
    }

    /// The lab namespaces present now (all runs, or one run's).
    public static func list(prefix: RunPrefix? = nil) -> [String] {
        guard let r = try? Spawn.run(["ip", "netns", "list"]), r.status == 0 else { return [] }
        return RunPrefix.labNamespaces(fromNetnsList: r.stdout, prefix: prefix)
    }

    /// The lab namespaces left by runs whose process is gone (`csl<pid>-…` with no live `<pid>`).
    /// Running labs (of this or any other live process) are never listed.
    public static func leftovers() -> [String] {
        list().filter { name in
            guard let pid = RunPrefix.pid(ofLabName: name) else { return false }
            return kill(pid, 0) != 0 && errno == ESRCH
        }
    }

    /// Remove the namespaces of dead runs.
    @discardableResult
    public static func cleanupLeftovers() -> Removal {
        destroy(leftovers())
    }

    /// Remove every lab namespace (of one run, or of all runs).
    @discardableResult
    public static func cleanup(prefix: RunPrefix? = nil) -> Removal {
        destroy(list(prefix: prefix))
    }
}

extension Substring {
    func trimmingCharacters(in set: Character) -> String {
        String(drop { $0 == set }.reversed().drop { $0 == set }.reversed())
    }
}
