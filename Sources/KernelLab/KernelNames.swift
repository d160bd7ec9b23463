import Simulation

/// The names a lab's namespaces and devices get on the real kernel, generated from their position
/// in the lab rather than taken from the file.
///
/// A file's names (Unicode letters and digits, `-`, `_`, up to 64 characters) are not all names
/// the kernel takes: `all` and `default` are refused for devices (EINVAL; they are the names of
/// the sysctl directories `net.ipv4.conf.all`/`default`), device names are at most 15 bytes (IFNAMSIZ), and `ip netns`
/// names end up as files in /run/netns. Mapping names by dropping what the kernel cannot hold
/// made `a b` and `a_b` share one namespace. So every name here is generated: a kind letter and
/// the node's index or the device's id, which alone make it unique, then a short ASCII hint from
/// the user's name for a person looking at a kept lab (`d7-br0`, `n2-router`). The user's names
/// stay in the plan (`RealDevice.simName`, `Namespace.node`) for everything the report shows.
/// Pure and deterministic: the same topology always gets the same names, so a script exported
/// for a lab can use them too.
public struct KernelNames: Sendable, Equatable {
    /// The namespace of bridges, TAPs and host-side veth ends.
    public static let hub = "hub"
    /// The device at the remote end of a host NIC's wire (alone in its namespace).
    public static let wireDevice = "wire0"
    /// IFNAMSIZ (16) less the terminating NUL.
    public static let interfaceNameLimit = 15
    /// At most this many characters of a node's name go into its namespace's name.
    public static let namespaceHintLimit = 16

    /// By node index: the namespace role of a kernel host or router (`n<index>-<hint>`).
    public let nodeNamespaces: [String]
    /// By node index: the namespace of a host NIC's wire (`w<index>-<hint>`).
    public let wireNamespaces: [String]
    /// By device id (`Network.devices`): the device's name (`d<id>-<hint>`, ≤ 15 bytes).
    public let devices: [String]

    public init(_ graph: Network) {
        let nodes = graph.topology.nodes
        nodeNamespaces = nodes.indices.map { Self.name("n", $0, nodes[$0].name, limit: 1 + String($0).count + 1 + Self.namespaceHintLimit) }
        wireNamespaces = nodes.indices.map { Self.name("w", $0, nodes[$0].name, limit: 1 + String($0).count + 1 + Self.namespaceHintLimit) }
        devices = graph.devices.map { Self.name("d", $0.id, $0.name, limit: Self.interfaceNameLimit) }
    }

    /// `kind` + `number`, then `-` and as much of `hint(of:)` as fits in `limit` characters.
    /// Unique for a kind and number whatever the hint: the number ends at the `-` or the end.
    static func name(_ kind: String, _ number: Int, _ userName: String, limit: Int) -> String {
        let stem = kind + String(number)
        let room = limit - stem.count - 1
        let h = hint(of: userName).prefix(max(room, 0))
        return h.isEmpty ? stem : stem + "-" + h
    }

    /// The ASCII letters, digits, `-` and `_` of `name` in order (`vm 1` → `vm1`, `路由器` → ``).
    static func hint(of name: String) -> String {
        String(name.unicodeScalars.filter { $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || $0 == "-" || $0 == "_") }.map(Character.init))
    }

    /// Would the kernel and iproute2 take `s` as a device name as it is? (What every generated
    /// device name must satisfy; checked by the tests.)
    public static func isKernelSafeDeviceName(_ s: String) -> Bool {
        (1...interfaceNameLimit).contains(s.utf8.count) && !["all", "default", "lo", ".", ".."].contains(s)
            && s.unicodeScalars.allSatisfy { $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || $0 == "-" || $0 == "_") }
    }
}
