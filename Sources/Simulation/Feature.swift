/// An ethtool offload feature, by its ethtool name (`ethtool -k`). Short names (`tx`, `rx`, `sg`,
/// `tso`, `gso`, `gro`) and `tx-checksum-ip-generic` are accepted as they are by `ethtool -K`.
/// `tx-udp_tnl-segmentation` / `tx-udp_tnl-csum-segmentation` (`NETIF_F_GSO_UDP_TUNNEL[_CSUM]`)
/// have no short name, in ethtool as here.
public enum Feature: String, Sendable, CaseIterable, Codable, Comparable {
    case txChecksumming = "tx-checksumming"
    case rxChecksumming = "rx-checksumming"
    case scatterGather = "scatter-gather"
    case tso = "tcp-segmentation-offload"
    case gso = "generic-segmentation-offload"
    case gro = "generic-receive-offload"
    /// `NETIF_F_GSO_UDP_TUNNEL`: the device segments a UDP-tunnelled GSO skb whose outer UDP
    /// checksum is zero (`SKB_GSO_UDP_TUNNEL`).
    case udpTunnelSegmentation = "tx-udp_tnl-segmentation"
    /// `NETIF_F_GSO_UDP_TUNNEL_CSUM`: the same with the outer checksum wanted
    /// (`SKB_GSO_UDP_TUNNEL_CSUM`, each segment's outer UDP checksum filled by the device).
    case udpTunnelCsumSegmentation = "tx-udp_tnl-csum-segmentation"

    public var shortName: String {
        switch self {
        case .txChecksumming: return "tx"
        case .rxChecksumming: return "rx"
        case .scatterGather: return "sg"
        case .tso: return "tso"
        case .gso: return "gso"
        case .gro: return "gro"
        case .udpTunnelSegmentation, .udpTunnelCsumSegmentation: return rawValue
        }
    }

    /// Accepts the ethtool name, the short name or `tx-checksum-ip-generic`.
    public init?(named s: String) {
        if let f = Feature(rawValue: s) { self = f; return }
        switch s {
        case "tx", "tx-checksum-ip-generic": self = .txChecksumming
        case "rx": self = .rxChecksumming
        case "sg": self = .scatterGather
        case "tso": self = .tso
        case "gso": self = .gso
        case "gro": self = .gro
        default: return nil
        }
    }

    /// The place in `allCases` (the order features are listed and compared in).
    var ordinal: Int {
        switch self {
        case .txChecksumming: return 0
        case .rxChecksumming: return 1
        case .scatterGather: return 2
        case .tso: return 3
        case .gso: return 4
        case .gro: return 5
        case .udpTunnelSegmentation: return 6
        case .udpTunnelCsumSegmentation: return 7
        }
    }

    public static func < (a: Feature, b: Feature) -> Bool { a.ordinal < b.ordinal }

    /// By the case, not the raw string (what a `RawRepresentable` enum would hash): features
    /// sit in sets and dictionary keys at every device of every simulation.
    public func hash(into h: inout Hasher) { h.combine(ordinal) }
}

/// A device's offload features: what the user asked for (`ethtool -K`), what the device can do
/// (`hw_features`; a capability it lacks is "[fixed] off"), and the effective set after the
/// kernel's dependency rules (`netdev_fix_features()`).
public struct Features: Sendable, Hashable {
    /// Explicit requests; a feature not listed keeps the device's default.
    public var requested: [Feature: Bool]

    public init(_ requested: [Feature: Bool] = [:]) {
        self.requested = requested
    }

    /// One feature that the kernel turned off, and why.
    public struct Adjustment: Sendable, Hashable {
        public var feature: Feature
        public var reason: String
    }

    /// The effective features and the adjustments made to reach them.
    public struct Effective: Sendable, Hashable {
        /// One bit per feature (by `ordinal`): the walk asks `has` at every hop, a bit test
        /// instead of a hashed lookup.
        private var bits: Int
        /// The features on, as a set (stored as `bits`).
        public var on: Set<Feature> {
            get {
                var s = Set<Feature>(minimumCapacity: Feature.allCases.count)
                for f in Feature.allCases where bits & (1 << f.ordinal) != 0 { s.insert(f) }
                return s
            }
            set { bits = Self.bits(newValue) }
        }
        public var adjustments: [Adjustment]
        /// Capabilities the device does not have at all (`[fixed]` in `ethtool -k`), with why.
        public var fixedOff: [Feature: String]

        public init(on: Set<Feature>, adjustments: [Adjustment], fixedOff: [Feature: String]) {
            self.bits = Self.bits(on)
            self.adjustments = adjustments
            self.fixedOff = fixedOff
        }

        init(bits: Int, adjustments: [Adjustment], fixedOff: [Feature: String]) {
            self.bits = bits
            self.adjustments = adjustments
            self.fixedOff = fixedOff
        }

        private static func bits(_ s: Set<Feature>) -> Int { s.reduce(0) { $0 | 1 << $1.ordinal } }

        public func has(_ f: Feature) -> Bool { bits & (1 << f.ordinal) != 0 }
        public var txChecksum: Bool { has(.txChecksumming) }
        /// The features on, in `allCases` order (what `on.sorted()` gives).
        public var sortedOn: [Feature] { Feature.allCases.filter { has($0) } }
        /// Turn one feature off.
        mutating func remove(_ f: Feature) { bits &= ~(1 << f.ordinal) }
    }

    /// Apply defaults, capabilities and `netdev_fix_features()`.
    /// - Parameters:
    ///   - defaults: the device's default state for each feature.
    ///   - fixedOff: features the device cannot enable, with the reason shown to the user.
    public func effective(defaults: Set<Feature>, fixedOff: [Feature: String] = [:], profile: KernelProfile) -> Effective {
        effective(defaultBits: defaults.reduce(0) { $0 | 1 << $1.ordinal }, fixedOff: fixedOff, profile: profile)
    }

    /// The same, with the defaults as one bit per feature (by `ordinal`).
    func effective(defaultBits: Int, fixedOff: [Feature: String] = [:], profile: KernelProfile) -> Effective {
        // Worked out on a bit per feature (by `ordinal`): every device of every simulation (and
        // of every variant the fix search tries) comes through here.
        // The requests and the capabilities as masks: one pass over each (usually empty)
        // dictionary instead of a hashed lookup per feature.
        var bits = defaultBits
        for (f, on) in requested {
            if on { bits |= 1 << f.ordinal } else { bits &= ~(1 << f.ordinal) }
        }
        for f in fixedOff.keys { bits &= ~(1 << f.ordinal) }
        func has(_ f: Feature) -> Bool { bits & (1 << f.ordinal) != 0 }
        var adj: [Adjustment] = []
        func drop(_ f: Feature, _ why: String) {
            if has(f) { bits &= ~(1 << f.ordinal); adj.append(Adjustment(feature: f, reason: why)) }
        }
        if !has(.scatterGather) {
            drop(.tso, "netdev_fix_features: Dropping TSO features since no SG feature")
        }
        if !has(.txChecksumming) {
            drop(.tso, "netdev_fix_features: Dropping TSO features since no CSUM feature")
        }
        if !has(.scatterGather) {
            drop(.gso, "netdev_fix_features: Dropping NETIF_F_GSO since no SG feature")
        }
        // NETIF_F_GSO_UDP_TUNNEL[_CSUM] have no rule in netdev_fix_features(): `tx off` or
        // `sg off` leaves them listed on (measured on 6.18). They act per packet only:
        // harmonize_features() drops every GSO bit of an skb the device cannot checksum, and an
        // inner TCP skb also needs TSO (net_gso_ok() wants every gso_type bit).
        return Effective(bits: bits, adjustments: adj, fixedOff: fixedOff)
    }
}
