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
}
