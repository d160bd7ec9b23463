import TestSupport
import Testing
import Simulation
import TopologyFile
import Wire

/// The repository root, found from this file's path.
let repoRoot: String = {
    var parts = #filePath.split(separator: "/", omittingEmptySubsequences: false)
    parts.removeLast(3)  // Tests/SimulationTests/Support.swift
    return parts.joined(separator: "/")
}()

func shippedTopologyPaths() -> [String] {
    let dir = repoRoot + "/topologies"
    return listDirectory(dir).filter { $0.hasSuffix(".yaml") }.sorted().map { dir + "/" + $0 }
}

func loadShipped(_ name: String) throws -> LoadedTopology {
    try TopologyFile.load(path: repoRoot + "/topologies/" + name + ".yaml")
}

func run(_ t: Topology, flow: String? = nil) throws -> Trace {
    try Simulator(t).run(flow: flow)
}

func with(_ t: Topology, _ sets: [String]) throws -> Topology {
    var t = t
    for s in sets { try t.apply(assignment: s) }
    return t
}

func leg(_ tr: Trace, _ flow: String, _ name: String) -> LegTrace? {
    tr.flows.first { $0.flow == flow }?.legs.first { $0.name == name }
}

extension LegTrace {
    /// The first step whose event is one of `kinds` (at `element`, when given).
    func step(_ kinds: StepEvent.Kind..., at element: String? = nil) -> Step? {
        steps.first { kinds.contains($0.event.kind) && (element == nil || $0.element == element) }
    }

    func steps(_ kind: StepEvent.Kind) -> [Step] {
        steps.filter { $0.event.kind == kind }
    }
}

extension Carrier {
    var ipSummed: IPSummed? {
        if case let .skb(s) = self { return s.ipSummed }
        return nil
    }

    var vnet: VirtioNetHeader? {
        if case let .vnet(h) = self { return h }
        return nil
    }

    var skbState: SkbState? {
        if case let .skb(s) = self { return s }
        return nil
    }
}

#if canImport(Glibc)
import Glibc
#endif

func listDirectory(_ path: String) -> [String] {
    guard let d = opendir(path) else { return [] }
    defer { closedir(d) }
    var out: [String] = []
    while let e = readdir(d) {
        let name = withUnsafePointer(to: e.pointee.d_name) { p in
            p.withMemoryRebound(to: CChar.self, capacity: 256) { String(cString: $0) }
        }
        if name != "." && name != ".." { out.append(name) }
    }
    return out
}

// MARK: Segments (TCPOptionTests, MTUSettingTests)

/// The sender's first frame of a leg (the SYN, SYN-ACK, or the data super-frame).
func sent(_ tr: Trace, _ flow: String, _ legName: String) throws -> [UInt8] {
    try #require(leg(tr, flow, legName)?.steps.first).frame
}

/// Payload lengths of the segments the host cuts at `tap` (validate_xmit_skb) for a leg.
func segmentPayloads(_ tr: Trace, _ flow: String, _ legName: String, at tap: String) throws -> [Int] {
    let l = try #require(leg(tr, flow, legName))
    return l.steps.filter { $0.element == tap && $0.event.kind == .gsoSegment }.map { naiveTCPPayloadLength($0.frame) }
}

/// Cut `total` bytes into `mss`-byte pieces, written out plainly.
func pieces(_ total: Int, _ mss: Int) -> [Int] {
    var out: [Int] = []
    var left = total
    while left > 0 { out.append(min(mss, left)); left -= mss }
    return out
}
