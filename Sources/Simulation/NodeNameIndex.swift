/// A node's index by its name, as links and flows name nodes (the first node of a name wins,
/// as in `Topology.nodeIndexesByName()`).
///
/// Why not a `[String: Int]`: a network is resolved for every trace of a changed lab, and it
/// looks a name up for each end of each link. Hashing a `String` (a seeded SipHash per lookup)
/// cost more than comparing it with every name of a lab of a few dozen nodes, where a short
/// name is compared in two machine words. Larger labs keep the dictionary.
struct NodeNameIndex: Sendable {
    /// Up to this many nodes, a lookup scans the names.
    static let scanLimit = 48
    private let names: [String]
    private let byName: [String: Int]?

    init(_ t: Topology) {
        if t.nodes.count <= Self.scanLimit {
            var names: [String] = []
            names.reserveCapacity(t.nodes.count)
            for i in t.nodes.indices { names.append(t.nodes[i].name) }
            self.names = names
            byName = nil
        } else {
            names = []
            byName = t.nodeIndexesByName()
        }
    }

    subscript(name: String) -> Int? {
        if let byName { return byName[name] }
        return names.firstIndex(of: name)
    }
}
