/// A simulator's network, held once by reference: every leg's `Walk` reads it, and a `Network`
/// copied into each walk (a struct of a dozen arrays and tables) cost a retain per field on the
/// way in and a release per field on the way out, for every leg of every flow.
final class SharedNetwork: Sendable {
    let network: Network

    init(_ network: Network) {
        self.network = network
    }
}
