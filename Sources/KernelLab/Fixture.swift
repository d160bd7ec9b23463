/// A measurement on the real kernel, written as JSON under Tests/SimulationTests/Fixtures/kernel/.
/// Produced only by a probe run; every value comes from the kernel or is computed from the bytes it
/// returned. These files are ground truth for the simulator's tests: regenerate, never hand-edit.
public struct KernelFixture: Codable, Equatable, Sendable {
    public static let formatName = "csumlab-kernel-fixture"
    public static let currentVersion = 1

    public var format: String = KernelFixture.formatName
    public var version: Int = KernelFixture.currentVersion
    public var name: String
    public var description: String
    /// `uname -r` of the kernel that produced it.
    public var kernelRelease: String
    public var topology: TopologySettings
    public var injected: Injection
    /// Where the frames in `observed` were read (`role:interface`).
    public var observedAt: String
    public var observed: [FrameReport]
    /// AF_PACKET readings inside the lab (router ingress/egress, the forwarder's input).
    public var intermediate: [PacketObservation]
    /// Unicast frames read at `observedAt` that were not this flow (multicast control traffic of
    /// the lab's own devices, IGMP/MLD reports, is discarded unrecorded).
    public var unrelatedFramesIgnored: Int
    public var notes: [String]

    public init(name: String, description: String, kernelRelease: String, topology: TopologySettings, injected: Injection,
                observedAt: String, observed: [FrameReport], intermediate: [PacketObservation], unrelatedFramesIgnored: Int, notes: [String]) {
        self.name = name
        self.description = description
        self.kernelRelease = kernelRelease
        self.topology = topology
        self.injected = injected
        self.observedAt = observedAt
        self.observed = observed
        self.intermediate = intermediate
        self.unrelatedFramesIgnored = unrelatedFramesIgnored
        self.notes = notes
    }
}

/// The frame written into the first TAP.
public struct Injection: Codable, Equatable, Sendable {
    /// `role:interface`.
    public var at: String
    public var frame: FrameReport
    /// `wrote <n> bytes` or the error the kernel returned.
    public var writeResult: String

    public init(at: String, frame: FrameReport, writeResult: String) {
        self.at = at
        self.frame = frame
        self.writeResult = writeResult
    }
}

/// Exactly how the lab was built: the commands in order (run-specific namespace names written as
/// `<run>ROLE`), the TAPs, ethtool changes and resulting features, and the forwarder if any.
public struct TopologySettings: Codable, Equatable, Sendable {
    public var kind: String
    public var namespaces: [String] = []
    public var steps: [String] = []
    public var taps: [TapRecord] = []
    public var macs: [String: String] = [:]
    public var featureChanges: [FeatureChange] = []
    /// Selected ethtool features (active) per `role:device`, read after setup.
    public var deviceFeatures: [String: [String: Bool]] = [:]
    public var forwarder: ForwarderRecord?

    public init(kind: String) { self.kind = kind }
}

public struct TapRecord: Codable, Equatable, Sendable {
    public var namespace: String
    public var name: String
    public var vnetHeader: Bool
    public var vnetHeaderSize: Int
    public var offloads: [String]
    /// IFF_* flags TUNGETIFF reports.
    public var iffFlags: Int
    /// The MAC of the guest behind the TAP (frames to/from the "VM").
    public var guestMAC: String
}

public struct FeatureChange: Codable, Equatable, Sendable {
    public var device: String
    public var feature: String
    public var on: Bool
    /// ETHTOOL_SFEATURES result bits (0: applied as asked).
    public var result: Int
}

public struct ForwarderRecord: Codable, Equatable, Sendable {
    public var namespace: String
    public var input: String
    public var output: String
    public var packetVnetHeader: Bool
    public var rewrite: String

    public init(namespace: String, input: String, output: String, packetVnetHeader: Bool, rewrite: String) {
        self.namespace = namespace
        self.input = input
        self.output = output
        self.packetVnetHeader = packetVnetHeader
        self.rewrite = rewrite
    }
}
