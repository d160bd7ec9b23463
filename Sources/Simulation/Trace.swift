import Wire

/// Where a step happens relative to the element.
public enum Direction: String, Sendable {
    case send, transmit, receive, forward, deliver, userspace
}

/// One hop: what one kernel function (or userspace program) did to the packet.
public struct Step: Sendable, Hashable {
    /// Node name.
    public var element: String
    /// Device or interface name at that node, if any.
    public var interface: String?
    public var direction: Direction
    /// What the kernel (or a program) did: the typed record to decide by.
    public var event: StepEvent
    /// The kernel function(s) that did it (a userspace program says so), from `event`: worded
    /// when asked (a trace nobody reads builds no sentence), or as set.
    public var function: String {
        get { functionWording ?? event.function }
        set { functionWording = newValue }
    }
    /// A wording set in place of `event.function` (nil: the event's own).
    var functionWording: String? = nil
    public var before: Carrier
    public var after: Carrier
    /// Frame bytes after the step.
    public var frame: [UInt8]
    /// Frame bytes before the step: what `changedBytes` compares with. Usually the buffer of
    /// the step before (arrays are copy-on-write), so keeping it costs a reference, not a copy.
    var frameBefore: [UInt8]
    /// Offset of the inner Ethernet header of a tunnelled frame (nil otherwise).
    public internal(set) var innerOffset: Int? = nil
    /// Segment number (1-based) after software segmentation, else nil.
    public var segment: Int?
    /// The MTU the datagram was fragmented for (nil: not fragmented).
    public var fragmentMTU: Int? = nil
    /// Smaller MTUs routers cut each fragment again for (IPv4), in order.
    public var refragmentMTUs: [Int] = []

    // The facts below are worked out from the bytes and the metadata above when read, never
    // stored: a walk records a step in the time it takes to keep a few references, and a trace
    // nobody reads (a re-simulated variant, a lesson's check of one outcome) computes no
    // checksum, address text or changed-byte list it does not show. Each is a pure function of
    // the stored fields, so two equal steps have equal facts.

    /// Byte offsets this step changed (all offsets when the length changed; none when the
    /// frame still shares its buffer with the one before, which no element then touched).
    public var changedBytes: [Int] { Self.changedBytes(frameBefore, frame) }
    /// The frame's layout (nil only for bytes csumlab cannot parse, which no walk records).
    var layout: FrameLayout? { try? FrameLayout.parse(frame) }
    /// Every fact below at once, from one parse and one pass of the checksum: what a reader
    /// that shows a whole step (the trace's text and JSON, the explorer's details) asks for.
    /// Reading the properties one by one parses the frame for each.
    public var facts: StepFacts {
        guard let l = layout else {
            return StepFacts(l4Field: 0, l4Correct: 0, l4PseudoSum: 0, bytesValid: false, receiverWouldAccept: after.trustedWithoutBytes,
                             condition: .badUnflagged, ttl: 0, source: "", destination: "", ipFragments: nil, inner: nil)
        }
        let f = Frame(bytes: frame)
        let c = f.l4ChecksumFacts(l)
        return StepFacts(l4Field: c.field, l4Correct: c.correct, l4PseudoSum: c.pseudoSum, bytesValid: c.valid,
                         receiverWouldAccept: after.trustedWithoutBytes || c.valid,
                         condition: ChecksumCondition(f, l, carrier: after, innerOffset: innerOffset, valid: c.valid),
                         ttl: f.ttl(l),
                         source: IPAddress.text(frame[f.sourceAddressRange(l)]),
                         destination: IPAddress.text(frame[f.destinationAddressRange(l)]),
                         ipFragments: Self.fragments(f, l, mtu: fragmentMTU, again: refragmentMTUs),
                         inner: innerOffset.flatMap { InnerChecksum(frame: frame, offset: $0) })
    }
    /// The outer L4 checksum as it is now: field, correct value, pseudo-header sum, validity.
    public var checksumFacts: L4ChecksumFacts {
        guard let l = layout else { return L4ChecksumFacts(field: 0, correct: 0, valid: false, pseudoSum: 0) }
        return Frame(bytes: frame).l4ChecksumFacts(l)
    }
    /// The L4 checksum field now, the correct complete value for these bytes, and the
    /// pseudo-header sum a `PARTIAL` sender would leave.
    public var l4Field: UInt16 { checksumFacts.field }
    public var l4Correct: UInt16 { checksumFacts.correct }
    public var l4PseudoSum: UInt16 { checksumFacts.pseudoSum }
    /// The field verifies against the bytes.
    public var bytesValid: Bool { checksumFacts.valid }
    /// A receiver that trusts metadata and otherwise verifies would accept the packet as it is now.
    public var receiverWouldAccept: Bool { after.trustedWithoutBytes || bytesValid }
    public var condition: ChecksumCondition {
        guard let l = layout else { return .badUnflagged }
        let f = Frame(bytes: frame)
        return ChecksumCondition(f, l, carrier: after, innerOffset: innerOffset, valid: f.l4ChecksumIsValid(l))
    }
    public var ttl: UInt8 { layout.map { Frame(bytes: frame).ttl($0) } ?? 0 }
    public var source: String {
        guard let l = layout else { return "" }
        return IPAddress.text(frame[Frame(bytes: frame).sourceAddressRange(l)])
    }
    public var destination: String {
        guard let l = layout else { return "" }
        return IPAddress.text(frame[Frame(bytes: frame).destinationAddressRange(l)])
    }
    /// The number of IP fragments the datagram travels as here (nil: one frame). `frame` is the
    /// whole datagram; `firstFragment` is the first of them, the one carrying the L4 header.
    public var ipFragments: Int? {
        guard fragmentMTU != nil, let l = layout else { return nil }
        return Self.fragments(Frame(bytes: frame), l, mtu: fragmentMTU, again: refragmentMTUs)
    }
    /// The inner packet's checksum of a tunnelled frame (the fields above are the outer's).
    public var inner: InnerChecksum? { innerOffset.flatMap { InnerChecksum(frame: frame, offset: $0) } }

    /// The fragment count of `f` cut for `mtu` (and cut again for `again`); nil for one frame.
    static func fragments(_ f: Frame, _ l: FrameLayout, mtu: Int?, again: [Int]) -> Int? {
        guard let mtu else { return nil }
        let n = again.isEmpty ? f.fragmentCount(l, mtu: mtu) : f.ipFragments(l, mtu: mtu, again: again).count
        return n > 1 ? n : nil
    }

    /// The offsets where `after` differs from `before`; every offset of `after` when the length
    /// changed. A frame that no element changed still shares its buffer with the one before
    /// (arrays are copy-on-write): then nothing is compared.
    static func changedBytes(_ before: [UInt8], _ after: [UInt8]) -> [Int] {
        guard before.count == after.count else { return Array(0..<after.count) }
        var out: [Int] = []
        before.withUnsafeBufferPointer { b in
            after.withUnsafeBufferPointer { a in
                guard b.baseAddress != a.baseAddress else { return }
                for i in 0..<a.count where b[i] != a[i] { out.append(i) }
            }
        }
        return out
    }

    /// One sentence a student understands, from `event`: worded when asked, or as set.
    public var explanation: String {
        get { explanationWording ?? event.explanation }
        set { explanationWording = newValue }
    }
    /// A wording set in place of `event.explanation` (nil: the event's own).
    var explanationWording: String? = nil
    /// Set when the packet ends here (delivered or dropped): what happened.
    public var drop: String?
}

/// What a step's bytes and metadata say about its checksums (`Step.facts`), worked out at once.
public struct StepFacts: Sendable, Hashable {
    /// The L4 checksum field now, the correct complete value for these bytes, and the
    /// pseudo-header sum a `PARTIAL` sender would leave.
    public var l4Field: UInt16
    public var l4Correct: UInt16
    public var l4PseudoSum: UInt16
    /// The field verifies against the bytes.
    public var bytesValid: Bool
    /// A receiver that trusts metadata and otherwise verifies would accept the packet as it is now.
    public var receiverWouldAccept: Bool
    public var condition: ChecksumCondition
    public var ttl: UInt8
    public var source: String
    public var destination: String
    /// IP fragments the datagram travels as (nil: one frame).
    public var ipFragments: Int?
    /// The inner packet's checksum of a tunnelled frame.
    public var inner: InnerChecksum?
}

/// The inner L4 checksum of a tunnelled frame (VXLAN), shown beside the outer one.
public struct InnerChecksum: Sendable, Hashable {
    /// Offset of the inner Ethernet header in `Step.frame`.
    public var offset: Int
    public var l4Offset: Int
    public var l4Protocol: IPProtocol
    public var field: UInt16
    public var correct: UInt16
    public var pseudoSum: UInt16
    public var bytesValid: Bool

    public init?(frame: [UInt8], offset: Int) {
        guard offset < frame.count, let l = try? Frame(bytes: Array(frame[offset...])).layout(),
              l.l4Protocol == .tcp || l.l4Protocol == .udp else { return nil }
        let f = Frame(bytes: Array(frame[offset...]))
        self.offset = offset
        l4Offset = offset + l.l4Offset
        l4Protocol = l.l4Protocol
        field = f.l4Checksum(l)
        correct = f.correctL4Checksum(l)
        pseudoSum = f.partialChecksumValue(l)
        bytesValid = f.l4ChecksumIsValid(l)
    }
}

extension Step {
    /// The frames on the link here: the datagram's IP fragments when it is fragmented, else
    /// the frame itself.
    public var linkFrames: [[UInt8]] {
        guard ipFragments != nil, let l = try? Frame(bytes: frame).layout() else { return [frame] }
        return Frame(bytes: frame).ipFragments(l, mtu: fragmentMTU ?? Frame.linkMTU, again: refragmentMTUs).map(\.bytes)
    }

    /// The first of `linkFrames`: the one that carries the L4 header and, for a fragmented
    /// datagram, the whole datagram's checksum.
    public var firstFragment: [UInt8] { linkFrames.first ?? frame }
}

/// What became of one packet (one leg of a flow).
public enum Outcome: Sendable, Hashable {
    case accepted
    /// The receiver accepted it, but the payload differs from what was sent.
    case acceptedCorrupted
    /// The receiving stack or program verified and dropped it; `counter` is what it counts.
    case droppedByReceiver(counter: String)
    /// Dropped before reaching the receiver.
    case droppedOnPath(at: String, reason: String)

    public var isSuccess: Bool { self == .accepted }

    public var summary: String {
        switch self {
        case .accepted: return "accepted"
        case .acceptedCorrupted: return "accepted with corrupted data"
        case let .droppedByReceiver(c): return "dropped by receiver (\(c))"
        case let .droppedOnPath(at, r): return "dropped at \(at): \(r)"
        }
    }

    public var code: String {
        switch self {
        case .accepted: return "accepted"
        case .acceptedCorrupted: return "accepted-corrupted"
        case .droppedByReceiver: return "dropped-by-receiver"
        case .droppedOnPath: return "dropped-on-path"
        }
    }
}

/// One packet of a flow (SYN, SYN-ACK, data…) from one host to another.
public struct LegTrace: Sendable, Hashable {
    public var name: String
    public var from: String
    public var to: String
    public var steps: [Step]
    public var outcome: Outcome
    /// Whether the leg is sent at all: the leg it answers arrived. A would-be leg (false) is
    /// walked to show what it would meet; verdicts and counters leave it out.
    public var sent = true
    /// Transmissions in the flow's window (retransmissions included; 0 for a would-be leg).
    public var transmissions = 1
    /// Checksum-error counters one transmission increments, per host.
    public var counters: [String: [String: Int]] = [:]
    /// When and why it is sent again, or why it is not sent; nil for a single transmission.
    public var schedule: String?
    /// The node (topology index) of every step, a node met twice in a row listed once
    /// (`Walk.visited`): all the fix search needs of a walk that records no steps.
    var visitedNodes: [Int] = []
    /// The flow's fault (`corrupt-after`) was applied in this leg (`Walk.faulted`).
    var faulted = false

    /// The leg's name already says who sends to whom ("data vm1→vm2"); "SYN" does not.
    public var namesEndpoints: Bool { name.contains("→") }

    /// The name with its endpoints, said once: "SYN vm1→vm2", "data vm1→vm2".
    public var title: String { namesEndpoints ? name : "\(name) \(from)→\(to)" }
}

/// The connection-level verdict.
public struct FlowVerdict: Sendable, Hashable {
    public var completes: Bool
    /// Every leg arrived, but some delivered corrupted data.
    public var corruptedData: Bool
    /// The first leg that failed, if any.
    public var failedLeg: String?
    public var summary: String

    public init(completes: Bool, failedLeg: String?, corruptedData: Bool, summary: String) {
        self.completes = completes
        self.failedLeg = failedLeg
        self.corruptedData = corruptedData
        self.summary = summary
    }
}

public struct FlowTrace: Sendable, Hashable {
    public var flow: String
    public var kind: Flow.Kind
    public var from: String
    public var to: String
    public var legs: [LegTrace]
    public var verdict: FlowVerdict
    /// Per host, the checksum-error counters the flow increments in its window
    /// (`Tcp:InCsumErrors`…): each sent leg's counters times its transmissions. A lean trace of
    /// a connection (the fix search's, never shown) leaves it empty: its legs keep theirs.
    public var counters: [String: [String: Int]]
    /// The time the counters cover.
    public var window = ObservationWindow(seconds: ObservationWindow.defaultSeconds, summary: "one exchange")
}

/// Effective features of one device, with the kernel's adjustments, for display.
public struct DeviceFeatures: Sendable, Hashable {
    public var device: String
    /// The device's effective features as the network resolved them: the trace shares them
    /// (no list of features built per device and run — a trace is made thousands of times).
    public var effective: Features.Effective
    /// The features on, in `Feature.allCases` order.
    public var on: [Feature] { effective.sortedOn }
    public var adjustments: [Features.Adjustment] { effective.adjustments }
    public var fixedOff: [Feature: String] { effective.fixedOff }

    public init(device: String, effective: Features.Effective) {
        self.device = device
        self.effective = effective
    }
}

/// Everything one simulation run produced.
public struct Trace: Sendable, Hashable {
    public var topology: String
    public var hostKernel: KernelProfile
    public var flows: [FlowTrace]
    public var devices: [DeviceFeatures]
    /// Notes about modelling choices that matter for this run (e.g. DATA_VALID on 6.x taps).
    public var notes: [String]
}
