import Simulation
import Wire

/// The `--json` form of a trace. The schema is `assets/trace-schema.json`; bump `version` on any
/// incompatible change.
public enum TraceJSON {
    public static let schema = "csumlab-trace"
    public static let version = 3

    public static func render(_ t: Trace, topology: Topology) -> String {
        value(t, topology: topology).serialized() + "\n"
    }

    public static func value(_ t: Trace, topology: Topology) -> JSONValue {
        .object([
            ("schema", .string(schema)),
            ("version", .int(version)),
            ("topology", .string(t.topology)),
            ("description", .string(topology.description)),
            ("hostKernel", .string(t.hostKernel.rawValue)),
            ("devices", .array(t.devices.map(device))),
            ("flows", .array(t.flows.map(flow))),
            ("notes", .array(t.notes.map { .string($0) })),
        ])
    }

    static func device(_ d: DeviceFeatures) -> JSONValue {
        .object([
            ("device", .string(d.device)),
            ("features", .array(d.on.map { .string($0.rawValue) })),
            ("adjustments", .array(d.adjustments.map { .object([("feature", .string($0.feature.rawValue)), ("reason", .string($0.reason))]) })),
            ("fixedOff", .object(d.fixedOff.sorted { $0.key < $1.key }.map { ($0.key.rawValue, .string($0.value)) })),
        ])
    }

    static func flow(_ f: FlowTrace) -> JSONValue {
        .object([
            ("name", .string(f.flow)),
            ("kind", .string(f.kind.rawValue)),
            ("from", .string(f.from)),
            ("to", .string(f.to)),
            ("verdict", .object([
                ("completes", .bool(f.verdict.completes)),
                ("corruptedData", .bool(f.verdict.corruptedData)),
                ("failedLeg", f.verdict.failedLeg.map { .string($0) } ?? .null),
                ("summary", .string(f.verdict.summary)),
            ])),
            ("counters", counters(f.counters)),
            ("window", .object([("seconds", .int(Int(f.window.seconds.rounded()))), ("retransmits", .bool(f.window.retransmits)),
                                ("summary", .string(f.window.summary))])),
            ("legs", .array(f.legs.map(leg))),
        ])
    }

    static func leg(_ l: LegTrace) -> JSONValue {
        .object([
            ("name", .string(l.name)),
            ("from", .string(l.from)),
            ("to", .string(l.to)),
            ("outcome", outcome(l.outcome)),
            ("sent", .bool(l.sent)),
            ("transmissions", .int(l.transmissions)),
            ("countersPerTransmission", counters(l.counters)),
            ("schedule", l.schedule.map { .string($0) } ?? .null),
            ("steps", .array(l.steps.map(step))),
            ("readerFrames", .array(l.readerFrames.map(readerFrame))),
        ])
    }

    /// A frame handed to a TAP reader or a guest (schema version 3).
    static func readerFrame(_ r: ReaderFrame) -> JSONValue {
        .object([
            ("reader", .string(r.reader.rawValue)),
            ("node", .string(r.node)),
            ("interface", r.interface.map { .string($0) } ?? .null),
            ("vnet", r.vnet.map { carrier(.vnet($0)) } ?? .null),
            ("frameLength", .int(r.frameLength)),
            ("ipFragments", r.ipFragments.map { .int($0) } ?? .null),
            ("segment", r.segment.map { .int($0) } ?? .null),
            ("l4Field", .string(hex16(r.l4Field))),
            ("l4Valid", .bool(r.l4Valid)),
            ("step", .int(r.step)),
        ])
    }

    static func counters(_ c: [String: [String: Int]]) -> JSONValue {
        .object(c.sorted { $0.key < $1.key }.map { h, cs in
            (h, .object(cs.sorted { $0.key < $1.key }.map { ($0.key, .int($0.value)) }))
        })
    }

    static func outcome(_ o: Outcome) -> JSONValue {
        var fields: [(String, JSONValue)] = [("code", .string(o.code)), ("summary", .string(o.summary))]
        switch o {
        case let .droppedByReceiver(c): fields.append(("counter", .string(c)))
        case let .droppedOnPath(at, r): fields += [("at", .string(at)), ("reason", .string(r))]
        default: break
        }
        return .object(fields)
    }

    static func step(_ s: Step) -> JSONValue {
        // Every derived fact from one parse of the frame (`Step.facts`).
        let f = s.facts
        var fields = stepFields(s, f)
        if let i = f.inner {
            // A tunnelled frame: `l4` above is the outer header's, this the inner packet's.
            fields.insert(("inner", .object([
                ("offset", .int(i.offset)),
                ("l4Offset", .int(i.l4Offset)),
                ("protocol", .string(i.l4Protocol == .tcp ? "tcp" : "udp")),
                ("field", .string(hex16(i.field))),
                ("correct", .string(hex16(i.correct))),
                ("pseudoHeaderSum", .string(hex16(i.pseudoSum))),
                ("bytesValid", .bool(i.bytesValid)),
            ])), at: 7)
        }
        return .object(fields)
    }

    static func stepFields(_ s: Step, _ f: StepFacts) -> [(String, JSONValue)] {
        [
            ("element", .string(s.element)),
            ("interface", s.interface.map { .string($0) } ?? .null),
            ("direction", .string(s.direction.rawValue)),
            ("function", .string(s.function)),
            ("before", carrier(s.before)),
            ("after", carrier(s.after)),
            ("l4", .object([
                ("field", .string(hex16(f.l4Field))),
                ("correct", .string(hex16(f.l4Correct))),
                ("pseudoHeaderSum", .string(hex16(f.l4PseudoSum))),
                ("bytesValid", .bool(f.bytesValid)),
            ])),
            ("receiverWouldAccept", .bool(f.receiverWouldAccept)),
            ("condition", .string(f.condition.rawValue)),
            ("ttl", .int(Int(f.ttl))),
            ("source", .string(f.source)),
            ("destination", .string(f.destination)),
            ("segment", s.segment.map { .int($0) } ?? .null),
            ("ipFragments", f.ipFragments.map { .int($0) } ?? .null),
            ("changedBytes", .array(s.changedBytes.map { .int($0) })),
            ("frame", .string(s.frame.hexString)),
            ("explanation", .string(s.explanation)),
            ("end", s.drop.map { .string($0) } ?? .null),
        ]
    }

    static func carrier(_ c: Carrier) -> JSONValue {
        switch c {
        case let .skb(s):
            return .object([
                ("kind", .string("skb")),
                ("ipSummed", .string(s.ipSummed.rawValue)),
                ("csumStart", .int(s.csumStart)),
                ("csumOffset", .int(s.csumOffset)),
                ("csumLevel", .int(s.csumLevel)),
                ("csumValid", .bool(s.csumValid)),
                ("gsoSize", .int(s.gsoSize)),
                ("gsoType", s.gsoType.map { .int(Int($0.rawValue)) } ?? .null),
            ])
        case let .vnet(h):
            return .object([
                ("kind", .string("vnet")),
                ("flags", .int(Int(h.flags))),
                ("needsCsum", .bool(h.needsChecksum)),
                ("dataValid", .bool(h.isDataValid)),
                ("gsoType", .int(Int(h.gsoType))),
                ("gsoSize", .int(Int(h.gsoSize))),
                ("hdrLen", .int(Int(h.hdrLen))),
                ("csumStart", .int(Int(h.csumStart))),
                ("csumOffset", .int(Int(h.csumOffset))),
            ])
        case .raw:
            return .object([("kind", .string("raw"))])
        case .wire:
            return .object([("kind", .string("wire"))])
        case .socket:
            return .object([("kind", .string("socket"))])
        }
    }
}
