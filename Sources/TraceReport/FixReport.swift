import Simulation
import TerminalText

/// What `csumlab fix` found, ranked and explained: per fix the changes, the commands that make
/// them and where they run, what else each change turns off, the software work it adds, and
/// the lines that show and check it; then the popular changes that do not help and why.
public struct FixReport: Sendable {
    public struct Entry: Sendable {
        public var outcome: FixSearch.Outcome
        /// The checksum and segmentation work the lab does in software with this fix. Absolute,
        /// not the difference to the lab as it is: a broken lab's numbers count packets that
        /// are dropped, so a difference would credit a fix for work it does not remove.
        public var cost: SoftwareWork
        /// Features the kernel turned off as a consequence, per change: `device: feature (why)`.
        public var sideEffects: [SettingChange: [String]]
        /// For a set of two or more: what each change alone leaves failing.
        public var aloneFails: [(change: SettingChange, summary: String)]
        /// Where the fix works only because a wrong checksum is never checked (`UncheckedChecksum`).
        public var caveats: [String] = []
    }

    public struct NonFix: Sendable {
        public var change: SettingChange
        /// Why it does not help: the first target flow still failing, as its verdict says.
        public var summary: String
        /// It is part of a larger fix (helps only with other changes).
        public var partOf: [SettingChange]?
    }

    public var file: String
    public var topology: Topology
    public var result: FixSearch.Result
    public var entries: [Entry]
    public var nonFixes: [NonFix]
    public var bitsPerSecond: Double
    public var maxChanges: Int

    /// Rank the search's fixes (size, then checksum CPU, then segments, then text) and collect
    /// what the report explains.
    public init(file: String, search: FixSearch, result: FixSearch.Result, maxChanges: Int, bitsPerSecond: Double) {
        self.file = file
        self.topology = search.base
        self.result = result
        self.bitsPerSecond = bitsPerSecond
        self.maxChanges = maxChanges
        var entries: [Entry] = result.ranked(bitsPerSecond: bitsPerSecond).map { f in
            Entry(outcome: f.outcome, cost: f.cost, sideEffects: Self.sideEffects(f.outcome, baseline: result.baseline), aloneFails: [],
                  caveats: f.unchecked.map(\.description))
        }
        for i in entries.indices where entries[i].outcome.changes.count > 1 {
            for c in entries[i].outcome.changes {
                if let o = search.evaluate([c]) { entries[i].aloneFails.append((c, Self.firstFailure(o))) }
            }
        }
        self.entries = entries
        // Popular changes: tx off on any device the failing flows cross, rx off on a receiver.
        var nonFixes: [NonFix] = []
        let fixSets = result.fixes.map(\.changes)
        let failing = result.baseline.trace.flows.filter { result.baseline.works[$0.flow] == false }
        var scope = Set<String>()
        for f in failing { scope.formUnion(search.relevantNodes(f)) }
        for c in search.candidates(baseTrace: result.baseline.trace, nodes: scope)
        where [Feature.txChecksumming, .rxChecksumming].contains(Feature(named: c.key)) && c.current == "on" {
            let change = SettingChange(node: c.node, interface: c.interface, key: c.key, value: "off")
            if fixSets.contains([change]) { continue }
            guard let o = search.evaluate([change]) else { continue }
            let partOf = fixSets.first { $0.contains(change) }
            nonFixes.append(NonFix(change: change, summary: Self.firstFailure(o), partOf: partOf))
        }
        self.nonFixes = nonFixes
    }

    /// The verdict of the first target flow that still does not work.
    static func firstFailure(_ o: FixSearch.Outcome) -> String {
        guard let f = o.trace.flows.first(where: { o.works[$0.flow] == false }) else { return "everything works" }
        if f.verdict.completes, !f.verdict.corruptedData {
            return "\(f.flow): its corrupted data are still delivered"
        }
        return "\(f.flow): \(f.verdict.summary)"
    }

    /// Features on in the baseline and off with the fix, on any device, other than the one a
    /// change sets itself, with the kernel's reason where it gave one.
    static func sideEffects(_ o: FixSearch.Outcome, baseline: FixSearch.Outcome) -> [SettingChange: [String]] {
        var out: [SettingChange: [String]] = [:]
        let before = Dictionary(baseline.trace.devices.map { ($0.device, $0) }, uniquingKeysWith: { a, _ in a })
        for d in o.trace.devices {
            guard let b = before[d.device] else { continue }
            let lost = Set(b.on).subtracting(d.on)
            for f in lost.sorted() {
                let owner = o.changes.first { c in
                    o.topology.node(named: c.node).map { SettingItem.deviceName(node: $0, interface: c.interface) } == d.device
                }
                guard let owner, Feature(named: owner.key) != f else { continue }
                let why = d.adjustments.first { $0.feature == f }?.reason
                out[owner, default: []].append("\(f.shortName) off on \(d.device)" + (why.map { " (\($0))" } ?? ""))
            }
        }
        return out
    }

    // MARK: Text

    /// - Parameter limit: how many fixes to show (all when nil); the rest are counted.
    public func text(limit: Int? = nil) -> String {
        var out: [String] = []
        let name = topology.name
        out.append("csumlab fix: \(name)")
        for f in result.baseline.trace.flows {
            let ok = result.baseline.works[f.flow] == true
            out.append("  \(ok ? "✓" : "✗") \(f.flow): \(f.verdict.summary)")
        }
        if result.baseline.allWork {
            out.append("")
            out.append("Every flow already works: nothing to fix.")
            return Self.joined(out)
        }
        out.append("  searched sets of up to \(result.searchedUpTo) change\(result.searchedUpTo == 1 ? "" : "s") (\(result.evaluated) simulated\(result.decided > 0 ? ", \(result.decided) proved to fail" : ""))")
        out.append("")
        if entries.isEmpty {
            out.append("No set of up to \(maxChanges) change\(maxChanges == 1 ? "" : "s") makes every flow work.")
            if let p = result.bestPartial {
                out.append("The closest: \(p.changes.map(\.assignment).joined(separator: ", ")) — \(Self.firstFailure(p))")
            }
        }
        for (n, e) in entries.enumerated() where n < limit ?? entries.count {
            let changes = e.outcome.changes
            out.append("Fix \(n + 1) (\(changes.count) change\(changes.count == 1 ? "" : "s")): \(changes.map(\.assignment).joined(separator: ", "))")
            for c in changes {
                for line in HostCommands.lines(for: c.assignment, in: topology) { out.append("    " + line) }
                for s in e.sideEffects[c] ?? [] { out.append("      also turns off: " + s) }
            }
            out.append("  software work at \(Self.rate(bitsPerSecond)) per data direction: " + costText(e.cost))
            if !e.caveats.isEmpty {
                let text = "works only because a bad checksum goes unchecked: " + e.caveats.joined(separator: "; ")
                    + " — nothing on this software path verifies it; through a real NIC (or a hop that completes or verifies it) it would be dropped."
                let wrapped = TraceText.wrap(text, indent: "    ", first: "  caveat: ", width: 100)
                out += wrapped.split(separator: "\n").map(String.init)
            }
            for a in e.aloneFails {
                out.append("  \(a.change.assignment) alone is not enough: \(a.summary)")
            }
            let sets = changes.map { "--set \($0.assignment)" }.joined(separator: " ")
            out.append("  show it:  csumlab trace \(file) \(sets)")
            out.append("  check it: csumlab verify \(file) \(sets)")
            out.append("")
        }
        if let limit, entries.count > limit {
            out.append("… and \(entries.count - limit) more fix\(entries.count - limit == 1 ? "" : "es") of the same size (--all lists them).")
            out.append("")
        }
        let useless = nonFixes.filter { $0.partOf == nil }
        if !useless.isEmpty {
            out.append("Changes people try that do not help here:")
            for u in useless { out.append("  \(u.change.assignment): \(u.summary)") }
        }
        let partial = nonFixes.filter { $0.partOf != nil }
        if !partial.isEmpty {
            out.append("Changes that help only together with others:")
            for p in partial {
                let with = (p.partOf ?? []).filter { $0 != p.change }.map(\.assignment).joined(separator: ", ")
                out.append("  \(p.change.assignment): alone, \(p.summary); with \(with) it works")
            }
        }
        return Self.joined(out)
    }

    /// Lines for a terminal: names and summaries come from a file, so control characters are
    /// escaped (the report itself writes none).
    static func joined(_ lines: [String]) -> String {
        lines.map { TerminalEscape.escaped($0) }.joined(separator: "\n") + "\n"
    }

    func costText(_ w: SoftwareWork) -> String {
        if w.perPlace.isEmpty { return "none (every checksum stays offloaded or trusted)" }
        return w.perPlace.keys.sorted().map { p in
            let l = w.perPlace[p]!
            var parts: [String] = []
            if l.checksumBytes > 0 {
                parts.append("\(Self.bytes(l.checksumBytes))/s checksummed in software (≈\(Self.percent(w.checksumCPU(l))) of a core)")
            }
            if l.segments > 0 { parts.append("\(Int(l.segments.rounded())) segments/s built in software") }
            return "\(p.name): " + parts.joined(separator: ", ")
        }.joined(separator: "; ")

    }

    static func rate(_ bps: Double) -> String {
        if bps >= 1e9 { return trim(bps / 1e9) + " Gbit/s" }
        if bps >= 1e6 { return trim(bps / 1e6) + " Mbit/s" }
        if bps >= 1e3 { return trim(bps / 1e3) + " kbit/s" }
        return trim(bps) + " bit/s"
    }

    static func bytes(_ b: Double) -> String {
        if b >= 1e9 { return trim(b / 1e9) + " GB" }
        if b >= 1e6 { return trim(b / 1e6) + " MB" }
        if b >= 1e3 { return trim(b / 1e3) + " kB" }
        return trim(b) + " B"
    }

    static func percent(_ f: Double) -> String {
        let p = f * 100
        return p >= 10 ? "\(Int(p.rounded())) %" : trim(p, digits: 2) + " %"
    }

    static func trim(_ v: Double, digits: Int = 1) -> String {
        var scale = 1.0
        for _ in 0..<digits { scale *= 10 }
        let r = (v * scale).rounded() / scale
        if r == r.rounded() { return String(Int(r)) }
        return String(r)
    }

    // MARK: JSON

    public func json() -> JSONValue {
        func change(_ c: SettingChange) -> JSONValue {
            .object([("node", .string(c.node)), ("interface", c.interface.map { .string($0) } ?? .null),
                     ("setting", .string(c.key)), ("value", .string(c.value)), ("assignment", .string(c.assignment))])
        }
        func work(_ w: SoftwareWork) -> JSONValue {
            .array(w.perPlace.keys.sorted().map { p in
                let l = w.perPlace[p]!
                return .object([("place", .string(p.name)),
                                ("checksumBytesPerSecond", .int(Int(l.checksumBytes.rounded()))),
                                ("filledBytesPerSecond", .int(Int(l.filledBytes.rounded()))),
                                ("verifiedBytesPerSecond", .int(Int(l.verifiedBytes.rounded()))),
                                ("segmentsPerSecond", .int(Int(l.segments.rounded()))),
                                ("checksumCPUMicrosecondsPerSecond", .int(Int((w.checksumCPU(l) * 1e6).rounded())))])
            })
        }
        let flows: [JSONValue] = result.baseline.trace.flows.map { f in
            .object([("flow", .string(f.flow)), ("works", .bool(result.baseline.works[f.flow] == true)), ("verdict", .string(f.verdict.summary))])
        }
        let fixes: [JSONValue] = entries.map { e in
            .object([
                ("changes", .array(e.outcome.changes.map(change))),
                ("commands", .array(e.outcome.changes.flatMap { HostCommands.lines(for: $0.assignment, in: topology) }.map { .string($0) })),
                ("alsoTurnsOff", .array(e.outcome.changes.flatMap { e.sideEffects[$0] ?? [] }.map { .string($0) })),
                ("addedWork", work(e.cost)),
                ("aloneFails", .array(e.aloneFails.map { .object([("change", change($0.change)), ("why", .string($0.summary))]) })),
                ("uncheckedBadChecksums", .array(e.caveats.map { .string($0) })),
            ])
        }
        let nonFixes: [JSONValue] = nonFixes.map { n in
            .object([("change", change(n.change)), ("why", .string(n.summary)),
                     ("partOf", n.partOf.map { .array($0.map(change)) } ?? .null)])
        }
        return .object([
            ("schema", .string("csumlab-fix/1")),
            ("topology", .string(topology.name)),
            ("alreadyWorks", .bool(result.baseline.allWork)),
            ("flows", .array(flows)),
            ("maxChanges", .int(maxChanges)),
            ("searchedUpTo", .int(result.searchedUpTo)),
            ("evaluated", .int(result.evaluated)),
            ("decided", .int(result.decided)),
            ("bitsPerSecond", .int(Int(bitsPerSecond))),
            ("linuxChecksumBytesPerSecond", .int(Int(SoftwareWork.linuxChecksumBytesPerSecond))),
            ("fixes", .array(fixes)),
            ("doNotHelp", .array(nonFixes)),
        ])
    }
}
