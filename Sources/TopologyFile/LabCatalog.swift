#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One lab file in a directory, as a lab browser lists it.
public struct LabEntry: Equatable, Sendable {
    /// The file name without `.yaml` / `.yml`.
    public var name: String
    public var path: String
    /// The description's first sentence (or first line), "" when there is none.
    public var summary: String
    /// The whole description.
    public var description: String
    /// Why the file does not load (its first diagnostic), nil when it loads.
    public var error: String?

    public init(name: String, path: String, summary: String, description: String, error: String? = nil) {
        self.name = name
        self.path = path
        self.summary = summary
        self.description = description
        self.error = error
    }
}

/// Why no lab directory was found, in words.
public struct LabCatalogError: Error, Equatable, Sendable, CustomStringConvertible {
    public var message: String
    public var description: String { message }
}

/// Finds the shipped labs from any working directory, and lists the labs of a directory.
public enum LabCatalog {
    /// The directory of the shipped labs: `CSUMLAB_LABS` if set; else, walking up from the
    /// executable's real path, the first `topologies/` holding `*.yaml` (a build inside the
    /// repository, `.build/debug/csumlab`) or `share/csumlab/topologies/` (an installed binary,
    /// `PREFIX/bin/csumlab` with `PREFIX/share/csumlab/topologies`).
    public static func shippedDirectory() throws(LabCatalogError) -> String {
        let env = getenv("CSUMLAB_LABS").map { String(cString: $0) }
        return try shippedDirectory(labsVariable: env, executable: executablePath())
    }

    static func shippedDirectory(labsVariable: String?, executable: String?) throws(LabCatalogError) -> String {
        try shippedDirectory(candidates: ["topologies", "share/csumlab/topologies"], variable: "CSUMLAB_LABS",
                             value: labsVariable, executable: executable, what: "labs", directory: "the topologies directory")
    }

    /// A shipped directory of YAML files: the variable's `value` if set (it must be a directory);
    /// else, walking up from the executable's real path, the first of `candidates` (relative paths)
    /// holding `*.yaml`. `what` and `directory` name them in the error.
    public static func shippedDirectory(candidates: [String], variable: String, value: String?, executable: String?,
                                        what: String, directory: String) throws(LabCatalogError) -> String {
        if let dir = value, !dir.isEmpty {
            guard isDirectory(dir) else {
                throw LabCatalogError(message: "\(variable)=\(dir) is not a directory")
            }
            return dir
        }
        guard let executable else {
            throw LabCatalogError(message: "cannot find the shipped \(what): the executable's path is unknown; set \(variable) to \(directory)")
        }
        var dir = LabSaver.split(executable).dir
        while true {
            for c in candidates {
                let candidate = "\(dir == "/" ? "" : dir)/\(c)"
                if holdsLabs(candidate) { return candidate }
            }
            if dir == "/" || dir.isEmpty || !dir.hasPrefix("/") { break }
            dir = LabSaver.split(dir).dir
        }
        throw LabCatalogError(message: "cannot find the shipped \(what): no \(candidates.map { $0 + "/" }.joined(separator: " or ")) above \(executable); set \(variable) to \(directory)")
    }

    /// The shipped labs, listed.
    public static func shippedEntries() throws(LabCatalogError) -> [LabEntry] {
        try entries(in: shippedDirectory())
    }

    /// The path of the shipped lab `name` (`seed-bridged` or `seed-bridged.yaml`).
    public static func shippedLab(named name: String) throws(LabCatalogError) -> String {
        let dir = try shippedDirectory()
        let file = name.hasSuffix(".yaml") ? name : name + ".yaml"
        let path = dir + "/" + file
        guard access(path, F_OK) == 0 else {
            let known = ((try? entries(in: dir)) ?? []).map(\.name).joined(separator: ", ")
            throw LabCatalogError(message: "no shipped lab named \(name) in \(dir) (there are: \(known))")
        }
        return path
    }

    /// The `*.yaml` and `*.yml` files of `dir`, sorted by name, each with its description's first
    /// sentence; a file that does not load is listed with its error.
    public static func entries(in dir: String) throws(LabCatalogError) -> [LabEntry] {
        guard let names = yamlFiles(in: dir) else {
            throw LabCatalogError(message: "cannot list \(dir): \(String(cString: strerror(errno)))")
        }
        return names.map { name in
            let path = (dir.hasSuffix("/") ? dir : dir + "/") + name
            let stem = name.hasSuffix(".yaml") ? String(name.dropLast(5)) : String(name.dropLast(4))
            do throws(TopologyFileError) {
                let lab = try TopologyFile.load(path: path)
                let d = lab.topology.description
                return LabEntry(name: stem, path: path, summary: summary(of: d), description: d, error: nil)
            } catch {
                return LabEntry(name: stem, path: path, summary: "", description: "",
                                error: error.diagnostics.first?.description ?? "cannot load")
            }
        }
    }

    /// The first sentence of `text` (to a `.`, `!` or `?` followed by a space, or the end), cut at
    /// a line break.
    public static func summary(of text: String) -> String {
        let chars = Array(text)
        var end = chars.count
        for i in chars.indices {
            if chars[i] == "\n" { end = i; break }
            if ".!?".contains(chars[i]) && (i + 1 == chars.count || chars[i + 1] == " ") { end = i + 1; break }
        }
        return String(chars[..<end]).trimmingSpaces()
    }

    // MARK: Helpers

    private static func yamlFiles(in dir: String) -> [String]? {
        guard let d = opendir(dir) else { return nil }
        defer { closedir(d) }
        var names: [String] = []
        while let e = readdir(d) {
            let name = withUnsafeBytes(of: e.pointee.d_name) { String(cString: $0.bindMemory(to: CChar.self).baseAddress!) }
            if !name.hasPrefix(".") && (name.hasSuffix(".yaml") || name.hasSuffix(".yml")) { names.append(name) }
        }
        return names.sorted()
    }

    private static func holdsLabs(_ dir: String) -> Bool {
        isDirectory(dir) && !(yamlFiles(in: dir) ?? []).isEmpty
    }

    private static func isDirectory(_ path: String) -> Bool {
        var st = stat()
        return stat(path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFDIR
    }

    /// The running executable's real path (`/proc/self/exe`).
    public static func executablePath() -> String? {
        var buf = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let n = readlink("/proc/self/exe", &buf, buf.count - 1)
        guard n > 0 else { return nil }
        return String(decoding: buf[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

private extension String {
    func trimmingSpaces() -> String {
        var s = Substring(self)
        while s.first == " " { s.removeFirst() }
        while s.last == " " { s.removeLast() }
        return String(s)
    }
}
