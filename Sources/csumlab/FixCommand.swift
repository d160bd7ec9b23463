import ArgumentParser
import Simulation
import TopologyFile
import TerminalText
import TraceReport

#if canImport(Glibc)
import Glibc
#endif

/// `csumlab fix`: the smallest sets of settings a user can change on a real host that make the
/// lab's flows work, with the commands, where they run, what else they turn off and what they
/// cost in CPU. Exit status: 0 when the lab already works, 1 when fixes were found, 2 when
/// none was within `--max-changes`; 64 for usage errors and 65 for a bad file, as elsewhere.
struct FixCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fix",
        abstract: "Find the smallest changes that make the lab's flows work, with their commands and cost.",
        discussion: """
        Searches every toggle the explorer's options menu offers (ethtool features, TAP flags and \
        vnet header, QEMU's guest offers, router flavour and PACKET_VNET_HDR, checksum-fill, \
        conntrack) on the nodes the flows cross, smallest sets first. A kernel profile is not a fix. \
        Exit status: 0 already works, 1 fixes found, 2 none within --max-changes.
        """)

    @Argument(help: "Topology file (YAML).")
    var file: String

    @Option(help: "Only this flow must work.")
    var flow: String?

    @Option(help: "Largest number of changes in one fix (1-5).")
    var maxChanges: Int = 3

    @Option(help: "Data rate per direction for the cost estimate, e.g. 1Gbit, 100Mbit, 10G.")
    var rate: String = "1Gbit"

    @Flag(help: "List every fix found (the text lists the first 6).")
    var all = false

    @Flag(help: "Print the result as JSON (every fix).")
    var json = false

    @Option(help: ArgumentHelp("Save the lab with fix N applied (see --pick) to this file.", valueName: "file"))
    var write: String?

    @Option(help: "Which fix --write applies (1 = the first listed).")
    var pick: Int = 1

    @Flag(help: "Let --write replace an existing file.")
    var force = false

    @OptionGroup var overrides: OverrideOptions

    func validate() throws {
        guard (1...5).contains(maxChanges) else { throw ValidationError("--max-changes must be from 1 to 5") }
        guard Self.bitsPerSecond(rate) != nil else { throw ValidationError("--rate expects a rate like 1Gbit, 100Mbit, 10G or 500k (bits per second)") }
        guard pick >= 1 else { throw ValidationError("--pick counts from 1") }
    }

    /// `1Gbit`, `100Mbit/s`, `10G`, `500k`, `2.5gbps` → bits per second.
    static func bitsPerSecond(_ s: String) -> Double? {
        var t = s.lowercased()
        for suffix in ["bit/s", "bps", "bit", "b/s"] where t.hasSuffix(suffix) { t.removeLast(suffix.count); break }
        var scale = 1.0
        if let last = t.last, let m = ["k": 1e3, "m": 1e6, "g": 1e9, "t": 1e12][String(last)] {
            scale = m
            t.removeLast()
        }
        guard let v = Double(t), v > 0, v.isFinite else { return nil }
        return v * scale
    }

    func run() throws {
        var loaded: LoadedTopology
        do {
            loaded = try TopologyFile.load(path: file)
            try overrides.apply(to: &loaded)
        } catch {
            printError(TerminalEscape.escaped("\(error)", keepingLayout: true))
            throw ExitCode(65)
        }
        let path = file
        let search: FixSearch
        do {
            search = try FixSearch(loaded.topology, flow: flow) { t in TopologyFile.validate(t, file: path).map(\.message) }
        } catch {
            printError("\(file): \(error)")
            throw ExitCode(65)
        }
        guard let result = search.run(maxChanges: maxChanges) else {
            printError("\(file): the lab cannot be simulated")
            throw ExitCode(65)
        }
        let report = FixReport(file: file, search: search, result: result, maxChanges: maxChanges,
                               bitsPerSecond: Self.bitsPerSecond(rate) ?? 1e9)
        try StandardOutput.write(json ? report.json().serialized() + "\n" : report.text(limit: all ? nil : 6))
        if let write {
            try save(report, to: write, expectations: loaded.expectations)
        }
        if result.baseline.allWork { return }
        throw ExitCode(report.entries.isEmpty ? 2 : 1)
    }

    /// Write the lab with the picked fix applied; its flows now expect what they do with it.
    func save(_ report: FixReport, to path: String, expectations: [String: Expectation]) throws {
        guard pick <= report.entries.count else {
            printError("--write: there is no fix \(pick) (\(report.entries.count) found); nothing written")
            throw ExitCode(2)
        }
        if !force, access(path, F_OK) == 0 {
            printError("--write: \(path) exists; add --force to replace it")
            throw ExitCode(73)
        }
        let fix = report.entries[pick - 1].outcome
        var t = fix.topology
        t.description += (t.description.isEmpty ? "" : " ") + "Fixed with csumlab fix: " + fix.changes.map(\.assignment).joined(separator: ", ") + "."
        var exp = expectations
        for f in fix.trace.flows {
            if f.verdict.completes {
                exp[f.flow] = Expectation(verdict: f.verdict.corruptedData ? .corrupted : .completes)
            } else {
                exp[f.flow] = Expectation(verdict: .fails, leg: f.verdict.failedLeg)
            }
        }
        do {
            // The same atomic save as the explorer's and csumlab new's (temporary file beside
            // the lab, fsync, rename, directory fsync).
            try LabSaver.save(text: TopologyWriter.yaml(t, expectations: exp), to: path, expecting: nil, keepOriginal: false)
        } catch {
            printError("--write: \(error.message)")
            throw ExitCode(74)
        }
        printError("wrote \(path) with fix \(pick): \(fix.changes.map(\.assignment).joined(separator: ", "))")
    }
}
