import Wire

/// A simulator's network, held once by reference: every leg's `Walk` reads it, and a `Network`
/// copied into each walk (a struct of a dozen arrays and tables) cost a retain per field on the
/// way in and a release per field on the way out, for every leg of every flow.
final class SharedNetwork: Sendable {
    let network: Network

    init(_ network: Network) {
        self.network = network
    }
}

/// `Network` methods a walk calls at every hop, called where the network lives. Called through
/// a walk's `net` (or `shared.network`), a method the optimizer does not inline made it copy the
/// whole `Network` around the call (a retain and a release per field: ~2 % of a trace, `perf`);
/// here the class's own `let` is borrowed. Field reads (`net.devices[d].mtu`) never copied.
extension SharedNetwork {
    func route(from node: Int, to dst: IPAddress) -> (iface: Int, nextHop: IPAddress)? {
        network.route(from: node, to: dst)
    }

    func tunFlags(_ d: Int, _ ts: TapSettings) -> (csum: Bool, tso4: Bool, tso6: Bool) {
        network.tunFlags(d, ts)
    }

    func tunnelNode(_ d: Int) -> Int? { network.tunnelNode(d) }
    func deviceOf(node: Int, iface: Int) -> Int? { network.deviceOf(node: node, iface: iface) }
    func deviceOf(_ r: Network.L3Ref) -> Int? { network.deviceOf(r) }
    func targetDevice(for nextHop: IPAddress) -> Int? { network.targetDevice(for: nextHop) }
    func remoteMAC(ofNIC d: Int) -> [UInt8] { network.remoteMAC(ofNIC: d) }
    func destinationMAC(for target: Int) -> [UInt8] { network.destinationMAC(for: target) }
    func owner(of a: IPAddress) -> Network.L3Ref? { network.owner(of: a) }
    func l2Reaches(from: Int, target: Int) -> Bool { network.l2Reaches(from: from, target: target) }
    func l2Reaches(from: Int, target: Int, avoiding: Int) -> Bool { network.l2Reaches(from: from, target: target, avoiding: avoiding) }
}
