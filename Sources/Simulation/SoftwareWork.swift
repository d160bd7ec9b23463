import Wire

/// The checksum and segmentation work a lab does in software, per host, when its data flows run
/// at a given rate: what a fix costs in CPU.
///
/// Read from the trace's states, not from function names: a step that turns bytes whose checksum
/// was not valid into valid bytes without a pending promise computed the checksum in software
/// (`skb_checksum_help`, a sender without tx checksumming, `CHECKSUM --checksum-fill`); a
/// delivery whose state carries no promise is verified in software (`__skb_checksum_complete`);
/// a step that first shows a segment number cut a GSO skb in software (`skb_segment`).
///
/// The rate is of full-size packets (the 1500-byte link MTU) in each direction of a TCP or UDP
/// flow that carries data; every such packet costs what its leg's steps do. Control packets
/// (SYN, ACK), pings and DHCP are left out: at a bulk rate they are noise.
public struct SoftwareWork: Sendable, Hashable {
    /// Where the work runs: a guest (its node name) or `host` (the hypervisor's kernel: TAPs,
    /// bridges, veths, namespaces).
    public struct Place: Sendable, Hashable, Comparable {
        public var name: String
        public static func < (a: Place, b: Place) -> Bool { a.name < b.name }
    }

    public struct Load: Sendable, Hashable {
        /// Bytes summed in software per second to fill checksums.
        public var filledBytes: Double = 0
        /// Bytes summed in software per second to verify received checksums.
        public var verifiedBytes: Double = 0
        /// Segments built in software per second.
        public var segments: Double = 0

        public var checksumBytes: Double { filledBytes + verifiedBytes }
    }

    public var perPlace: [Place: Load]

    /// The speed this machine's Linux-like checksum (the bench's `adc` peer, the loop
    /// `csum_partial` runs) reaches on 1500-byte buffers: `csumlab-bench`, 2026-11-25, AMD EPYC
    /// Zen 4, ≈ 46 GB/s (assets/benchmarks.md). Used to turn bytes into CPU time.
    public static let linuxChecksumBytesPerSecond = 46e9

    /// The work `trace` does when each data-carrying leg runs at `bitsPerSecond` of
    /// `frameBytes`-byte frames.
    public init(_ trace: Trace, topology: Topology, bitsPerSecond: Double, frameBytes: Int = Frame.linkMTU) {
        perPlace = [:]
        let framesPerSecond = bitsPerSecond / Double(frameBytes * 8)
        for f in trace.flows where f.kind == .tcp || f.kind == .udp {
            for leg in f.legs where Self.carriesData(leg) {
                add(leg, topology: topology, framesPerSecond: framesPerSecond, frameBytes: frameBytes)
            }
        }
    }

    static func carriesData(_ leg: LegTrace) -> Bool {
        guard let first = leg.steps.first, let l = try? FrameLayout.parse(first.frame) else { return false }
        return l.end > l.payloadOffset
    }

    mutating func add(_ leg: LegTrace, topology: Topology, framesPerSecond fps: Double, frameBytes: Int) {
        var previousValid = false
        for s in leg.steps {
            defer { previousValid = s.bytesValid }
            // One accounting per frame: later segments of the same super-frame repeat the work.
            if let seg = s.segment, seg > 1 { continue }
            let l4Bytes = Double(frameBytes - ipHeaderLength(s.frame))
            let place = Self.place(of: s.element, in: topology)
            if !previousValid, s.bytesValid, !s.after.isPartial, s.direction != .deliver {
                perPlace[place, default: Load()].filledBytes += l4Bytes * fps
            }
            if s.direction == .deliver, !s.before.trustedWithoutBytes {
                perPlace[place, default: Load()].verifiedBytes += l4Bytes * fps
            }
        }
        // Software segmentation: the first step that shows a segment number.
        if let s = leg.steps.first(where: { $0.segment != nil }) {
            perPlace[Self.place(of: s.element, in: topology), default: Load()].segments += fps
        }
    }

    func ipHeaderLength(_ frame: [UInt8]) -> Int {
        guard let l = try? FrameLayout.parse(frame) else { return 20 }
        return l.l4Offset - l.l3Offset
    }

    /// A guest's work runs in that guest; every other element runs in the host's kernel.
    static func place(of element: String, in t: Topology) -> Place {
        guard let n = t.node(named: element) else { return Place(name: "host") }
        switch n.kind {
        case .vm: return Place(name: n.name)
        case let .router(r) where r.inVM: return Place(name: n.name)
        case .router, .netns, .tap, .bridge, .veth, .hostNIC, .vxlan: return Place(name: "host")
        }
    }

    /// CPU seconds per second (a fraction of one core) the checksum work takes at the Linux-like
    /// speed above. Segmentation is reported as a count: no measurement here prices it.
    public func checksumCPU(_ l: Load) -> Double {
        l.checksumBytes / Self.linuxChecksumBytesPerSecond
    }

    public var totalChecksumCPU: Double { perPlace.values.reduce(0) { $0 + checksumCPU($1) } }
    public var totalSegments: Double { perPlace.values.reduce(0) { $0 + $1.segments } }
    public var totalChecksumBytes: Double { perPlace.values.reduce(0) { $0 + $1.checksumBytes } }
}
