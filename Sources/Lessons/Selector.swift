import Simulation

/// What a page shows, a pick answers or a hint is about: a node, or a step of the trace.
public enum LessonTarget: Sendable, Hashable {
    case node(String)
    case step(StepSelector)

    /// The node it names.
    public var node: String {
        switch self {
        case let .node(n): return n
        case let .step(s): return s.node
        }
    }
}

/// Indexes into `trace.flows[flow].legs[leg].steps[step]`.
public struct StepLocation: Sendable, Hashable {
    public var flow: Int
    public var leg: Int
    public var step: Int

    public init(flow: Int, leg: Int, step: Int) {
        self.flow = flow
        self.leg = leg
        self.step = step
    }
}

/// Names one step of a trace (or several: a pick's answer may match more than one).
public struct StepSelector: Sendable, Hashable {
    public enum Occurrence: String, Sendable, Hashable, CaseIterable {
        case first, last
    }

    /// The flow (nil: the lesson's default flow).
    public var flow: String?
    /// The leg's name as the trace shows it (`SYN`, `data`, `echo request`…).
    public var leg: String
    /// The node the step happens at.
    public var node: String
    public var interface: String?
    public var direction: Direction?
    /// A substring of the step's kernel function(s).
    public var function: String?
    /// Which of several matching steps `locate` gives. `matches` accepts any matching step.
    public var occurrence: Occurrence

    public init(flow: String? = nil, leg: String, node: String, interface: String? = nil, direction: Direction? = nil,
                function: String? = nil, occurrence: Occurrence = .first) {
        self.flow = flow
        self.leg = leg
        self.node = node
        self.interface = interface
        self.direction = direction
        self.function = function
        self.occurrence = occurrence
    }

    /// The index of the selector's flow in the trace.
    func flowIndex(in trace: Trace, defaultFlow: String?) -> Int? {
        guard let name = flow ?? defaultFlow else { return trace.flows.isEmpty ? nil : 0 }
        return trace.flows.firstIndex { $0.flow == name }
    }

    /// The indexes of the legs named `leg` in that flow.
    func legIndexes(_ f: FlowTrace) -> [Int] {
        f.legs.indices.filter { f.legs[$0].name == leg }
    }

    func matches(_ s: Step) -> Bool {
        s.element == node
            && (interface == nil || s.interface == interface)
            && (direction == nil || s.direction == direction)
            && (function.map { s.function.contains($0) } ?? true)
    }

    /// Every step the selector matches, in trace order.
    public func all(in trace: Trace, defaultFlow: String?) -> [StepLocation] {
        guard let fi = flowIndex(in: trace, defaultFlow: defaultFlow) else { return [] }
        let f = trace.flows[fi]
        var out: [StepLocation] = []
        for li in legIndexes(f) {
            for (si, s) in f.legs[li].steps.enumerated() where matches(s) {
                out.append(StepLocation(flow: fi, leg: li, step: si))
            }
        }
        return out
    }

    /// The one step the selector names: the first (or last) that matches.
    public func locate(in trace: Trace, defaultFlow: String?) -> StepLocation? {
        let found = all(in: trace, defaultFlow: defaultFlow)
        return occurrence == .first ? found.first : found.last
    }

    /// Whether the step at `location` is one the selector matches.
    public func matches(_ location: StepLocation, in trace: Trace, defaultFlow: String?) -> Bool {
        guard let fi = flowIndex(in: trace, defaultFlow: defaultFlow), fi == location.flow,
              trace.flows.indices.contains(location.flow) else { return false }
        let f = trace.flows[fi]
        guard f.legs.indices.contains(location.leg), f.legs[location.leg].name == leg,
              f.legs[location.leg].steps.indices.contains(location.step) else { return false }
        return matches(f.legs[location.leg].steps[location.step])
    }

    /// The selector in words: "SYN at tap2 (tx, ssh)".
    public var summary: String {
        var extra: [String] = []
        if let interface { extra.append(interface) }
        if let direction { extra.append(direction.rawValue) }
        if let function { extra.append(function) }
        if occurrence == .last { extra.append("last") }
        if let flow { extra.append("flow \(flow)") }
        return "\(leg) at \(node)" + (extra.isEmpty ? "" : " (\(extra.joined(separator: ", ")))")
    }
}

extension StepLocation {
    /// The step itself, if the location is inside `trace`.
    public func step(in trace: Trace) -> Step? {
        guard trace.flows.indices.contains(flow), trace.flows[flow].legs.indices.contains(leg),
              trace.flows[flow].legs[leg].steps.indices.contains(step) else { return nil }
        return trace.flows[flow].legs[leg].steps[step]
    }
}

/// A value of the trace a question or a goal is about.
public enum TraceField: String, Sendable, Hashable, CaseIterable {
    case l4Field = "l4-field"
    case l4Correct = "l4-correct"
    case l4Pseudo = "l4-pseudo"
    case ipSummed = "ip-summed"
    case csumStart = "csum-start"
    case csumOffset = "csum-offset"
    case condition
    case valid

    /// What an answer may look like, for messages.
    public var answerForm: String {
        switch self {
        case .l4Field, .l4Correct, .l4Pseudo: return "hex (0x1c46, 1c46) or decimal"
        case .ipSummed: return "PARTIAL, CHECKSUM_PARTIAL, NONE, UNNECESSARY or COMPLETE"
        case .csumStart, .csumOffset: return "a decimal number"
        case .condition: return ChecksumCondition.allCases.map(\.rawValue).joined(separator: ", ")
        case .valid: return "yes or no"
        }
    }
}

/// One field of one step: "the checksum field at tap2".
public struct TraceReference: Sendable, Hashable {
    public var selector: StepSelector
    public var field: TraceField

    public init(selector: StepSelector, field: TraceField) {
        self.selector = selector
        self.field = field
    }

    /// The field's value at the step in its canonical display form ("0x1c46", "CHECKSUM_PARTIAL",
    /// "partial", "yes", "34"); nil when the step is not in the trace or has no such value (an
    /// `ip_summed` where the frame is not an skb).
    public func value(in trace: Trace, defaultFlow: String?) -> String? {
        guard let loc = selector.locate(in: trace, defaultFlow: defaultFlow), let s = loc.step(in: trace) else { return nil }
        return Self.value(field, of: s)
    }

    static func hex(_ v: UInt16) -> String {
        let h = String(v, radix: 16)
        return "0x" + String(repeating: "0", count: 4 - h.count) + h
    }

    static func value(_ field: TraceField, of s: Step) -> String? {
        switch field {
        case .l4Field: return hex(s.l4Field)
        case .l4Correct: return hex(s.l4Correct)
        case .l4Pseudo: return hex(s.l4PseudoSum)
        case .condition: return s.condition.rawValue
        case .valid: return s.bytesValid ? "yes" : "no"
        case .ipSummed:
            if case let .skb(k) = s.after { return k.ipSummed.rawValue }
            return nil
        case .csumStart, .csumOffset:
            switch s.after {
            case let .skb(k) where k.ipSummed == .partial: return String(field == .csumStart ? k.csumStart : k.csumOffset)
            case let .vnet(h) where h.needsChecksum: return String(field == .csumStart ? h.csumStart : h.csumOffset)
            default: return nil
            }
        }
    }

    /// Whether `typed` is an answer that means the field's value.
    public func accepts(_ typed: String, in trace: Trace, defaultFlow: String?) -> Bool {
        guard let v = value(in: trace, defaultFlow: defaultFlow) else { return false }
        return Self.same(typed, v, field)
    }

    /// Whether `typed` means the canonical value `v` of `field`.
    static func same(_ typed: String, _ v: String, _ field: TraceField) -> Bool {
        let t = typed.trimmedSpaces.lowercased()
        guard !t.isEmpty else { return false }
        switch field {
        case .l4Field, .l4Correct, .l4Pseudo:
            guard let want = UInt16(v.dropFirst(2), radix: 16) else { return false }
            if t.hasPrefix("0x") { return UInt16(t.dropFirst(2), radix: 16) == want }
            return UInt16(t, radix: 16) == want || Int(t) == Int(want)
        case .ipSummed:
            let bare = t.hasPrefix("checksum_") ? String(t.dropFirst(9)) : t
            return "checksum_" + bare == v.lowercased()
        case .csumStart, .csumOffset:
            return Int(t) == Int(v)
        case .condition:
            return t == v.lowercased()
        case .valid:
            guard let b = Topology.parseBool(t) else { return false }
            return b == (v == "yes")
        }
    }

    /// Whether `typed` is a well-formed answer for `field` at all (for `is:` in goals).
    static func wellFormed(_ typed: String, _ field: TraceField) -> Bool {
        let t = typed.trimmedSpaces.lowercased()
        switch field {
        case .l4Field, .l4Correct, .l4Pseudo:
            if t.hasPrefix("0x") { return UInt16(t.dropFirst(2), radix: 16) != nil }
            return UInt16(t, radix: 16) != nil || Int(t).map { (0...0xFFFF).contains($0) } == true
        case .ipSummed:
            let bare = t.hasPrefix("checksum_") ? String(t.dropFirst(9)) : t
            return IPSummed.allCases.contains { $0.short.lowercased() == bare }
        case .csumStart, .csumOffset:
            return Int(t).map { $0 >= 0 } == true
        case .condition:
            return ChecksumCondition(rawValue: t) != nil
        case .valid:
            return Topology.parseBool(t) != nil
        }
    }
}

extension String {
    var trimmedSpaces: String {
        var s = Substring(self)
        while let f = s.first, f == " " || f == "\t" { s.removeFirst() }
        while let l = s.last, l == " " || l == "\t" { s.removeLast() }
        return String(s)
    }
}
