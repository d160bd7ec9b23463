import Simulation

/// One condition of a task's goal, checked on the live lab and its trace.
public enum GoalCondition: Sendable, Hashable {
    public enum Bound: Sendable, Hashable {
        case max(Int), min(Int), equals(Int)
    }

    /// `{flow, verdict: completes | fails}`.
    case verdict(flow: String?, completes: Bool)
    /// `{flow, leg, outcome: accepted | accepted-corrupted | dropped-by-receiver | dropped-on-path}`.
    case outcome(flow: String?, leg: String, outcome: String)
    /// `{flow, leg, sent: true | false}`.
    case sent(flow: String?, leg: String, sent: Bool)
    /// `{counter, host, flow, max | min | equals}`: the flow's counter at the host.
    case counter(flow: String?, host: String, counter: String, bound: Bound)
    /// A step selector with `field` and `is` (or `is-not`: `negated`).
    case field(TraceReference, value: String, negated: Bool)
    /// `{set: "NODE[.IF].SETTING=VALUE"}`: the live lab has this setting.
    case setting(String)

    static let outcomes = ["accepted", "accepted-corrupted", "dropped-by-receiver", "dropped-on-path"]

    /// Whether the condition holds. `live` is the student's lab now, `trace` its trace.
    public func holds(live: Topology, trace: Trace, defaultFlow: String?) -> Bool {
        func flowTrace(_ f: String?) -> FlowTrace? {
            guard let name = f ?? defaultFlow else { return trace.flows.first }
            return trace.flows.first { $0.flow == name }
        }
        switch self {
        case let .verdict(f, completes):
            guard let ft = flowTrace(f) else { return false }
            return ft.verdict.completes == completes
        case let .outcome(f, leg, outcome):
            guard let l = flowTrace(f)?.legs.first(where: { $0.name == leg }) else { return false }
            return l.outcome.code == outcome
        case let .sent(f, leg, sent):
            guard let l = flowTrace(f)?.legs.first(where: { $0.name == leg }) else { return false }
            return l.sent == sent
        case let .counter(f, host, counter, bound):
            guard let ft = flowTrace(f) else { return false }
            let n = Self.count(ft.counters[host] ?? [:], counter)
            switch bound {
            case let .max(m): return n <= m
            case let .min(m): return n >= m
            case let .equals(m): return n == m
            }
        case let .field(ref, value, negated):
            guard let v = ref.value(in: trace, defaultFlow: defaultFlow) else { return false }
            return TraceReference.same(value, v, ref.field) != negated
        case let .setting(assignment):
            return Self.holds(assignment, on: live, trace: trace)
        }
    }

    /// Whether `live` already has `assignment`: applying it changes nothing.
    /// An assignment that spells out a default (`vm1.eth0.tx=on` where the file leaves tx
    /// unset) changes the model but not the lab: then every setting of the node, as the options
    /// menu shows it (`SettingItem`, effective values), is the same with it and without it.
    static func holds(_ assignment: String, on live: Topology, trace: Trace? = nil) -> Bool {
        var copy = live
        do { try copy.apply(assignment: assignment) } catch { return false }
        if copy == live { return true }
        let lhs = assignment.prefix { $0 != "=" }
        guard lhs.contains("."), let node = lhs.split(separator: ".").first.map(String.init),
              let liveTrace = trace ?? (try? TraceCache.shared.trace(live)), let copyTrace = try? TraceCache.shared.trace(copy) else { return false }
        return SettingItem.items(for: node, topology: copy, trace: copyTrace) == SettingItem.items(for: node, topology: live, trace: liveTrace)
    }

    /// Counter names compare without spaces and case: `Tcp:InCsumErrors` is `Tcp: InCsumErrors`.
    static func key(_ s: String) -> String { String(s.lowercased().filter { $0 != " " }) }

    static func count(_ counters: [String: Int], _ name: String) -> Int {
        let k = key(name)
        return counters.reduce(0) { key($1.key) == k ? $0 + $1.value : $0 }
    }

    /// The condition in words, for "not yet: …": "ssh completes", "the SYN of ssh is accepted".
    public var summary: String {
        func of(_ f: String?) -> String { f.map { " of \($0)" } ?? "" }
        switch self {
        case let .verdict(f, completes):
            return "\(f ?? "the flow") \(completes ? "completes" : "fails")"
        case let .outcome(f, leg, outcome):
            return "the \(leg)\(of(f)) is \(outcome.replacingDashes)"
        case let .sent(f, leg, sent):
            return "the \(leg)\(of(f)) is \(sent ? "" : "not ")sent"
        case let .counter(f, host, counter, bound):
            let b: String
            switch bound {
            case let .max(m): b = "at most \(m)"
            case let .min(m): b = "at least \(m)"
            case let .equals(m): b = "exactly \(m)"
            }
            return "\(counter) at \(host) counts \(b)\(f.map { " for \($0)" } ?? "")"
        case let .field(ref, value, negated):
            return "\(ref.field.rawValue) after the \(ref.selector.summary) is \(negated ? "not " : "")\(value)"
        case let .setting(a):
            return "the lab has \(a)"
        }
    }
}

extension String {
    var replacingDashes: String { String(map { $0 == "-" ? " " : $0 }) }
}
