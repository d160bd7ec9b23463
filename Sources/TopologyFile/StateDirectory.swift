#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// csumlab's per-user state directory: `$XDG_STATE_HOME/csumlab` (an absolute `XDG_STATE_HOME`
/// only, as the XDG base directory specification says), else `$HOME/.local/state/csumlab`.
/// Recovery files and lesson progress live below it, written as `LabSaver` saves.
public enum StateDirectory {
    /// The directory the environment names, or nil when neither variable is an absolute path.
    public static func base(environment env: [String: String]) -> String? {
        if let state = env["XDG_STATE_HOME"], state.hasPrefix("/") { return state + "/csumlab" }
        if let home = env["HOME"], home.hasPrefix("/") { return home + "/.local/state/csumlab" }
        return nil
    }

    /// `XDG_STATE_HOME` and `HOME` of this process.
    public static func processEnvironment() -> [String: String] {
        var env: [String: String] = [:]
        for k in ["XDG_STATE_HOME", "HOME"] {
            if let v = getenv(k) { env[k] = String(cString: v) }
        }
        return env
    }

    /// Create `directory` and any missing parents, 0700 (state is private); `what` names it in
    /// errors ("the recovery directory").
    public static func create(_ directory: String, what: String) throws(SaveError) {
        var path = directory.hasPrefix("/") ? "" : "."
        for part in directory.split(separator: "/") {
            path += "/" + part
            if mkdir(path, 0o700) != 0 && errno != EEXIST {
                throw SaveError(errno: errno, path: path, doing: "cannot create \(what) \(directory)")
            }
        }
        var st = stat()
        guard stat(directory, &st) == 0, (st.st_mode & S_IFMT) == S_IFDIR else {
            throw SaveError(errno: ENOTDIR, path: directory, doing: "cannot use \(what) \(directory)")
        }
    }

    /// Write a private file (0600 when new) atomically, as `LabSaver` saves: temporary file,
    /// `fsync`, rename, directory flushed.
    public static func write(_ text: String, to path: String) throws(SaveError) {
        try LabSaver.save(bytes: Array(text.utf8), to: path, expecting: nil, keepOriginal: false, newFileMode: 0o600)
    }
}
