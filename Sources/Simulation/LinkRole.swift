/// What an endpoint denotes for the link rules: the one table of which endpoints may be linked
/// and which "slot" a link occupies. `TopologyFile`'s validator and the explorer's link picker
/// (`Topology.linkCandidates(from:)`) both read it, so a link the picker offers is a link the
/// validator accepts.
public enum LinkRole: Sendable, Hashable {
    case virtio          // a guest NIC (vm, router VM)
    case tap
    case bridge
    case vethEnd
    case hostNIC
    case vxlan           // a VXLAN device (placed as a namespace's or VM's interface, or a bridge port)
    case l3              // a namespace's or netns router's interface
    case socket          // a userspace forwarder's interface in a namespace

    /// The role of every endpoint of a node of this kind.
    public init(_ kind: NodeKind) {
        switch kind {
        case .vm: self = .virtio
        case .tap: self = .tap
        case .bridge: self = .bridge
        case .veth: self = .vethEnd
        case .hostNIC: self = .hostNIC
        case .vxlan: self = .vxlan
        case .netns: self = .l3
        case let .router(r):
            if r.inVM { self = .virtio } else { self = r.flavour == .userspace ? .socket : .l3 }
        }
    }

    /// Is a node of this kind one device, linked as `node` (not `node:if`)?
    public static func isSingleDevice(_ kind: NodeKind) -> Bool {
        switch kind {
        case .tap, .bridge, .hostNIC, .vxlan: return true
        case .vm, .netns, .veth, .router: return false
        }
    }

    /// What a link between the two roles is ("backend", "port", "place", "socket"), or nil when
    /// the two cannot be linked.
    public static func pairKind(_ a: LinkRole, _ b: LinkRole) -> String? {
        switch (a, b) {
        case (.virtio, .tap), (.tap, .virtio): return "backend"
        case (.tap, .bridge), (.bridge, .tap), (.vethEnd, .bridge), (.bridge, .vethEnd), (.hostNIC, .bridge), (.bridge, .hostNIC),
             (.vxlan, .bridge), (.bridge, .vxlan): return "port"
        case (.l3, .vethEnd), (.vethEnd, .l3), (.l3, .bridge), (.bridge, .l3), (.l3, .tap), (.tap, .l3), (.l3, .hostNIC), (.hostNIC, .l3), (.l3, .vxlan), (.vxlan, .l3),
             (.virtio, .vxlan), (.vxlan, .virtio): return "place"
        case (.socket, .vethEnd), (.vethEnd, .socket), (.socket, .tap), (.tap, .socket): return "socket"
        default: return nil
        }
    }

    /// The slot endpoint `e` (of this role) occupies when linked to an endpoint of role `other`:
    /// two links may not take the same slot. Nil when such links do not use up anything (a
    /// bridge has any number of ports). A TAP has two slots, `NODE:fd` (its VM or program) and
    /// `NODE:dev` (its bridge or namespace); a bridge has one for a namespace, `NODE:l3`.
    public func slot(of e: Endpoint, linkedTo other: LinkRole) -> String? {
        switch self {
        case .bridge: return other == .l3 ? "\(e.node):l3" : nil
        case .tap: return (other == .virtio || other == .socket) ? "\(e.node):fd" : "\(e.node):dev"
        case .virtio, .vethEnd, .hostNIC, .vxlan, .l3, .socket: return "\(e)"
        }
    }

    /// The role in words, for messages.
    public var phrase: String {
        switch self {
        case .virtio: return "a guest NIC"
        case .tap: return "a TAP"
        case .bridge: return "a bridge"
        case .vethEnd: return "a veth end"
        case .hostNIC: return "a host NIC"
        case .vxlan: return "a VXLAN device"
        case .l3: return "a namespace interface"
        case .socket: return "a userspace forwarder's interface"
        }
    }

    /// Why two roles cannot be linked, in words.
    public static func hint(_ a: LinkRole, _ b: LinkRole) -> String {
        if a == .virtio || b == .virtio { return "a guest NIC links only to a TAP (its QEMU backend) or, as a tunnel inside the guest, to a vxlan node" }
        if a == .vethEnd && b == .vethEnd { return "the two ends of a veth pair are peers already; link each end to a bridge or a namespace" }
        if a == .bridge && b == .bridge { return "bridges join through a veth pair" }
        if (a == .l3 || a == .socket) && (b == .l3 || b == .socket) { return "namespaces connect through a veth pair or a bridge" }
        return "see the link rules in assets/topology-format.md"
    }
}
